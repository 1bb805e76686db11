"""An XAFS energy scan: a facility plan offered by a third-party plugin.

Regions are given relative to the absorption edge ``e0`` as ``bounds``/``steps``/
``times``; a bound or step written ``"12k"``/``"0.05k"`` is in photoelectron
wavenumber k (Å⁻¹) and converted to energy with E = E0 + ħ²k²/2mₑ; a time written
``"0.25k"`` is k-weighted: each point counts 0.25 s × k.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Generator, Mapping, Sequence
from typing import Any, Literal

from cielo.core import Msg, PlanParameterError
from cielo.core.protocols import Movable, Readable
from cielo.plans import (
    checkpoint,
    mv,
    reset_positions_wrapper,
    run_wrapper,
    stage_wrapper,
    trigger_and_read,
    validated,
)

__all__ = ["ETOK", "xafs_energies", "xafs_scan", "xafs_summary"]

#: ħ²/2mₑ in eV·Å²: E - E0 = ETOK · k².
ETOK = 3.80998

Mode = Literal["transmission", "fluorescence", "both", "reference"]
Edge = Literal["K", "L1", "L2", "L3", "M1", "M2", "M3", "M4", "M5"]

#: The regions BMM's XAFS form starts from: pre-edge, edge, XANES, EXAFS to k = 15 Å⁻¹.
DEFAULT_BOUNDS: tuple[float | str, ...] = (-200.0, -30.0, -10.0, 15.5, "15k")
DEFAULT_STEPS: tuple[float | str, ...] = (10.0, 2.0, 0.3, "0.05k")
DEFAULT_TIMES: tuple[float | str, ...] = (0.5, 0.5, 0.5, "0.25k")


def _parse(value: float | str, what: str) -> tuple[float, bool]:
    """Return (value, is_k) for a bound, step or time like ``-30``, ``"25"`` or ``"12k"``."""
    if isinstance(value, str):
        text = value.strip().lower()
        try:
            if text.endswith("k"):
                return float(text[:-1]), True
            return float(text), False
        except ValueError:
            raise PlanParameterError(
                f"xafs_scan: parameter {what}: {value!r} is neither a number nor a "
                "k-space value like '12k'"
            ) from None
    return float(value), False


def xafs_energies(
    e0: float,
    bounds: Sequence[float | str],
    steps: Sequence[float | str],
    times: Sequence[float | str],
) -> list[tuple[float, float]]:
    """The absolute energies (eV) and count times (s) of an XAFS scan.

    Parameters
    ----------
    e0
        Edge energy in eV.
    bounds
        Region boundaries relative to ``e0`` in eV, or in k as ``"12k"``; one more than
        the number of regions.
    steps
        Step of each region in eV, or in k as ``"0.05k"`` (only above the edge).
    times
        Count time of each region in seconds, or k-weighted as ``"0.25k"`` (0.25 s × k
        at each point; only above the edge).

    Examples
    --------
    >>> pts = xafs_energies(7112, [-20, 0, "3k"], [10, "1k"], [1, 2])
    >>> [round(e, 2) for e, t in pts]
    [7092.0, 7102.0, 7112.0, 7115.81, 7127.24, 7146.29]
    >>> [round(t, 2) for e, t in xafs_energies(7112, [15.5, "4k"], ["1k"], ["0.5k"])]
    [1.01, 1.51, 2.0]
    """
    nreg = len(bounds) - 1
    if nreg < 1 or len(steps) != nreg or len(times) != nreg:
        raise PlanParameterError(
            f"xafs_scan: parameter steps: {len(bounds)} bounds make {max(nreg, 0)} regions, "
            f"but got {len(steps)} steps and {len(times)} times; give one step and one time "
            "per region"
        )
    parsed = [_parse(b, "bounds") for b in bounds]
    # region edges as energies relative to e0
    rel = [ETOK * v * v if is_k else v for v, is_k in parsed]
    for value, is_k in parsed:
        if is_k and value < 0:
            raise PlanParameterError(
                f"xafs_scan: parameter bounds: {value:g}k must not be negative"
            )
    for a, b in zip(rel, rel[1:], strict=False):
        if b <= a:
            raise PlanParameterError(
                f"xafs_scan: parameter bounds: must increase, but {a:g} eV is followed by "
                f"{b:g} eV (relative to e0); got bounds={list(bounds)}"
            )
    points: list[tuple[float, float]] = []
    for i in range(nreg):
        start, stop = rel[i], rel[i + 1]
        step, k_step = _parse(steps[i], "steps")
        time, k_time = _parse(times[i], "times")
        if step <= 0:
            raise PlanParameterError(f"xafs_scan: parameter steps: {steps[i]!r} must be positive")
        if time < 0:
            raise PlanParameterError(
                f"xafs_scan: parameter times: {times[i]!r} must not be negative"
            )
        for what, value, in_k in (("steps", steps[i], k_step), ("times", times[i], k_time)):
            if in_k and start < 0:
                raise PlanParameterError(
                    f"xafs_scan: parameter {what}: region {i + 1} starts below the edge "
                    f"({start:g} eV), so its {what[:-1]} {value!r} cannot be in k; give it "
                    "in eV" + (" (steps) or seconds (times)" if what == "times" else "")
                )
        last = i == nreg - 1
        if k_step:
            k0, k1 = math.sqrt(start / ETOK), math.sqrt(stop / ETOK)
            rels = [ETOK * k * k for k in _grid(k0, k1, step, last)]
        else:
            rels = _grid(start, stop, step, last)
        points.extend((e0 + r, time * math.sqrt(r / ETOK) if k_time else time) for r in rels)
    return points


def _scan_points(
    e0: float,
    bounds: Sequence[float | str],
    steps: Sequence[float | str],
    times: Sequence[float | str],
    repeats: int,
    start: int,
) -> list[tuple[float, float]]:
    """The points of one scan, after the checks the plan and its form share."""
    for what, value in (("repeats", repeats), ("start", start)):
        if value < 1:
            raise PlanParameterError(f"xafs_scan: parameter {what}: {value!r} must be at least 1")
    return xafs_energies(e0, bounds, steps, times)


def _grid(start: float, stop: float, step: float, include_stop: bool) -> list[float]:
    n = math.floor((stop - start) / step + 1e-9)
    values = [start + j * step for j in range(n + 1)]
    if values and math.isclose(values[-1], stop, abs_tol=step * 1e-6):
        values.pop()
    if include_stop:
        values.append(stop)
    return values


@validated
def xafs_scan(
    detectors: Sequence[Readable],
    energy: Movable,
    e0: float,
    bounds: Sequence[float | str] = DEFAULT_BOUNDS,
    steps: Sequence[float | str] = DEFAULT_STEPS,
    times: Sequence[float | str] = DEFAULT_TIMES,
    *,
    repeats: int = 1,
    start: int = 1,
    element: str = "",
    edge: Edge = "K",
    sample: str = "",
    preparation: str = "",
    comment: str = "",
    mode: Mode = "transmission",
    dwell_time: Movable | None = None,
    md: Mapping[str, Any] | None = None,
) -> Generator[Msg, Any, list[str]]:
    """Scan the energy across an absorption edge, in regions, one run per repeat.

    Parameters
    ----------
    detectors
        Detectors read at every energy.
    energy
        The monochromator energy (eV).
    e0
        Edge energy in eV; bounds are relative to it.
    bounds
        Region boundaries relative to ``e0`` in eV, or in k as ``"12k"``.
    steps
        Step of each region in eV, or in k as ``"0.05k"``.
    times
        Count time of each region in seconds, or k-weighted as ``"0.25k"`` (0.25 s × k):
        set on ``dwell_time`` when given, else on the ``count_time`` of each detector
        that has a settable one.
    repeats
        How many scans (runs) to take.
    start
        The number of the first of these scans in the sample's series (each run's
        ``repeat``): ``start=4`` continues a series after three scans.
    element, edge, sample, preparation, comment
        Recorded in each run's start document.
    mode
        Measurement mode: ``"transmission"``, ``"fluorescence"``, ``"both"`` or
        ``"reference"``.
    dwell_time
        A settable count time (s) to set to each region's time, e.g. a scaler's preset
        time; by default the detectors' own ``count_time``.
    md
        Extra metadata for the run start.

    Returns
    -------
    list of str
        The uids of the runs.

    Examples
    --------
    Two Fe K-edge scans in transmission, with the default regions (pre-edge, edge,
    XANES, then EXAFS to k = 15 Å⁻¹ in steps of 0.05 Å⁻¹, k-weighted times):

    >>> RE(xafs_scan([i0, it], mono, 7112, element="Fe", repeats=2))  # doctest: +SKIP

    From the command line:
    ``cielo run 'xafs_scan([i0, it], mono, 7112, bounds=[-50, -10, 20, "8k"], '``
    ``'steps=[5, 0.5, "0.1k"], times=[1, 1, 2], element="Fe", mode="fluorescence")'``
    """
    points = _scan_points(e0, bounds, steps, times, repeats, start)
    detectors = list(detectors)
    motor: Any = energy
    motor_name = getattr(energy, "name", str(energy))
    base_md: dict[str, Any] = {
        "plan_name": "xafs_scan",
        "plan_args": {
            "detectors": [getattr(d, "name", str(d)) for d in detectors],
            "energy": motor_name,
            "e0": e0,
            "bounds": list(bounds),
            "steps": list(steps),
            "times": list(times),
            "repeats": repeats,
            "start": start,
        },
        "detectors": [getattr(d, "name", str(d)) for d in detectors],
        "motors": [motor_name],
        "num_points": len(points),
        "num_intervals": len(points) - 1,
        "element": element,
        "edge": edge,
        "e0": e0,
        "sample": sample,
        "preparation": preparation,
        "comment": comment,
        "mode": mode,
        "hints": {"dimensions": [([motor_name], "primary")]},
    }
    base_md.update(md or {})

    timers: list[Any] = (
        [dwell_time]
        if dwell_time is not None
        else [
            getattr(d, "count_time")  # noqa: B009
            for d in detectors
            if callable(getattr(getattr(d, "count_time", None), "set", None))
        ]
    )

    def one_scan() -> Generator[Msg, Any, None]:
        dwell: float | None = None
        for e, t in points:
            if timers and t != dwell:
                yield from mv(*[x for timer in timers for x in (timer, t)])
                dwell = t
            yield from checkpoint()
            yield from mv(motor, e)
            yield from trigger_and_read([*detectors, motor])

    def all_scans() -> Generator[Msg, Any, list[str]]:
        uids: list[str] = []
        for rep in range(start, start + repeats):
            run_md = {**base_md, "repeat": rep, "repeats": repeats}
            uid = yield from stage_wrapper(run_wrapper(one_scan(), md=run_md), [*detectors, motor])
            uids.append(uid)
        return uids

    # count times go back to what they were once the scans are done
    return (yield from reset_positions_wrapper(all_scans(), timers))


def xafs_summary(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """Check an ``xafs_scan`` item's regions as the plan checks them, before it is queued.

    Takes the item's arguments as the queue holds them (devices by name), bound as
    :func:`xafs_scan` binds them, and returns what the web form shows under the regions:
    points per scan, counting time of all scans. :class:`PlanParameterError` names the
    bad parameter, as the plan would.
    """
    bound = inspect.signature(xafs_scan).bind(*args, **kwargs)
    bound.apply_defaults()
    given = bound.arguments
    repeats = given["repeats"]
    points = _scan_points(
        given["e0"], given["bounds"], given["steps"], given["times"], repeats, given["start"]
    )
    counting = repeats * sum(t for _, t in points)
    return {
        "points": len(points),
        "first_eV": round(points[0][0], 3),
        "last_eV": round(points[-1][0], 3),
        "counting_s": round(counting, 3),
        "text": f"{len(points)} points per scan, {points[0][0]:.1f} to {points[-1][0]:.1f} eV; "
        f"counting time {counting / 60:.1f} min for {repeats} scan{'s' if repeats > 1 else ''}",
    }
