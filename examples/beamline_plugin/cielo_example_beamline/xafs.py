"""An XAFS energy scan: a facility plan offered by a third-party plugin.

Regions are given relative to the absorption edge ``e0`` as ``bounds``/``steps``/
``times``; a bound or step written ``"12k"``/``"0.05k"`` is in photoelectron
wavenumber k (Å⁻¹) and converted to energy with E = E0 + ħ²k²/2mₑ.
"""

from __future__ import annotations

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

__all__ = ["xafs_scan", "xafs_energies", "ETOK"]

#: ħ²/2mₑ in eV·Å²: E - E0 = ETOK · k².
ETOK = 3.80998

Mode = Literal["transmission", "fluorescence", "both"]
Edge = Literal["K", "L1", "L2", "L3", "M1", "M2", "M3", "M4", "M5"]


def _parse(value: float | str, e0: float, what: str) -> tuple[float, bool]:
    """Return (value, is_k) for a bound or step like ``-30``, ``"25"`` or ``"12k"``."""
    if isinstance(value, str):
        text = value.strip().lower()
        try:
            if text.endswith("k"):
                return float(text[:-1]), True
            return float(text), False
        except ValueError:
            raise PlanParameterError(
                f"xafs_scan: {what} {value!r} is neither a number (eV relative to e0) nor a "
                "wavenumber like '12k'"
            ) from None
    return float(value), False


def xafs_energies(
    e0: float,
    bounds: Sequence[float | str],
    steps: Sequence[float | str],
    times: Sequence[float],
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
        Count time of each region in seconds.

    Examples
    --------
    >>> pts = xafs_energies(7112, [-20, 0, "3k"], [10, "1k"], [1, 2])
    >>> [round(e, 2) for e, t in pts]
    [7092.0, 7102.0, 7112.0, 7115.81, 7127.24, 7146.29]
    """
    nreg = len(bounds) - 1
    if nreg < 1 or len(steps) != nreg or len(times) != nreg:
        raise PlanParameterError(
            f"xafs_scan: {len(bounds)} bounds make {max(nreg, 0)} regions, but got "
            f"{len(steps)} steps and {len(times)} times; give one step and one time per region"
        )
    parsed = [_parse(b, e0, "bound") for b in bounds]
    # region edges as energies relative to e0
    rel = [ETOK * v * v if is_k else v for v, is_k in parsed]
    for a, b in zip(rel, rel[1:], strict=False):
        if b <= a:
            raise PlanParameterError(
                f"xafs_scan: bounds must increase, but {a:g} eV is followed by {b:g} eV "
                f"(relative to e0); got bounds={list(bounds)}"
            )
    points: list[tuple[float, float]] = []
    for i in range(nreg):
        start, stop = rel[i], rel[i + 1]
        step, k_step = _parse(steps[i], e0, "step")
        if step <= 0:
            raise PlanParameterError(f"xafs_scan: step {steps[i]!r} must be positive")
        if times[i] < 0:
            raise PlanParameterError(f"xafs_scan: time {times[i]!r} must not be negative")
        last = i == nreg - 1
        if k_step:
            if start < 0:
                raise PlanParameterError(
                    f"xafs_scan: region {i} starts below the edge ({start:g} eV), so its step "
                    f"{steps[i]!r} cannot be in k; give it in eV"
                )
            k0, k1 = math.sqrt(start / ETOK), math.sqrt(stop / ETOK)
            ks = _grid(k0, k1, step, last)
            rels = [ETOK * k * k for k in ks]
        else:
            rels = _grid(start, stop, step, last)
        points.extend((e0 + r, float(times[i])) for r in rels)
    return points


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
    bounds: Sequence[float | str] = (-200.0, -30.0, -10.0, 25.0, "12k"),
    steps: Sequence[float | str] = (10.0, 2.0, 0.3, "0.05k"),
    times: Sequence[float] = (0.5, 0.5, 0.5, 1.0),
    *,
    repeats: int = 1,
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
        Count time of each region in seconds: set on ``dwell_time`` when given, else on
        the ``count_time`` of each detector that has a settable one.
    repeats
        How many scans (runs) to take.
    element, edge, sample, preparation, comment
        Recorded in each run's start document.
    mode
        Measurement mode: ``"transmission"``, ``"fluorescence"`` or ``"both"``.
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
    XANES, then EXAFS to k = 12 Å⁻¹ in steps of 0.05 Å⁻¹):

    >>> RE(xafs_scan([i0, it], mono, 7112, element="Fe", repeats=2))  # doctest: +SKIP

    From the command line:
    ``cielo run 'xafs_scan([i0, it], mono, 7112, bounds=[-50, -10, 20, "8k"], '``
    ``'steps=[5, 0.5, "0.1k"], times=[1, 1, 2], element="Fe", mode="fluorescence")'``
    """
    if repeats < 1:
        raise PlanParameterError(f"xafs_scan: repeats={repeats!r} must be at least 1")
    points = xafs_energies(e0, bounds, steps, times)
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
        for rep in range(1, repeats + 1):
            run_md = {**base_md, "repeat": rep, "repeats": repeats}
            uid = yield from stage_wrapper(run_wrapper(one_scan(), md=run_md), [*detectors, motor])
            uids.append(uid)
        return uids

    # count times go back to what they were once the scans are done
    return (yield from reset_positions_wrapper(all_scans(), timers))
