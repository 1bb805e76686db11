"""The align-on-peak plan: scan, fit, store the fit in the run, move to the fitted centre."""

from __future__ import annotations

import logging
import math
from collections.abc import Generator
from typing import Any, Literal, cast

import numpy as np

from cielo.callbacks import compute_peak_stats, save_analysis
from cielo.core import CieloError, Msg
from cielo.core.protocols import Movable, Readable
from cielo.plans import checkpoint, close_run, mv, open_run, stage_wrapper, trigger_and_read

from ._fit import FitResult, fit_points

__all__ = ["AlignmentError", "align_on_peak"]

logger = logging.getLogger("cielo.plans")


class AlignmentError(CieloError, RuntimeError):
    """The align plan refused to move: the fit failed or its centre is out of range.

    The run was recorded (with its ``analysis`` stream); ``result`` holds the fit.
    """

    def __init__(self, message: str, result: FitResult | None = None) -> None:
        super().__init__(message)
        self.result = result


def _field(device: Any, fallback: str) -> str:
    hints = getattr(device, "hints", None) or {}
    fields = hints.get("fields") if isinstance(hints, dict) else None
    return fields[0] if fields else fallback


def _value(reading: Any, key: str, device: Any) -> float:
    if not isinstance(reading, dict) or key not in reading:
        have = sorted(reading) if isinstance(reading, dict) else reading
        raise CieloError(
            f"align_on_peak: reading {getattr(device, 'name', device)!r} gave {have!r}, "
            f"without the field {key!r}; pass field=... naming one of its fields"
        )
    return float(reading[key]["value"])


def align_on_peak(
    detector: Readable,
    motor: Movable,
    start: float,
    stop: float,
    num: int,
    *,
    field: str | None = None,
    model: Literal["gaussian", "lorentzian", "voigt", "step", "erf"] = "gaussian",
    background: Literal["constant", "linear", "none"] = "constant",
    move: bool = True,
    md: dict[str, Any] | None = None,
) -> Generator[Msg, Any, FitResult]:
    """Scan ``motor`` from ``start`` to ``stop`` in ``num`` points, fit a peak, move to it.

    The fit (parameters, uncertainties, reduced chi-square) and the peak statistics of
    the scanned points are recorded in the run as one event of its ``analysis`` stream
    (fields ``fit_*`` and ``stats_*``), then the run closes and, if the fit succeeded
    and its centre lies within the scanned range, the motor moves to the centre.

    Parameters
    ----------
    detector : Readable
        The detector to read at each point.
    motor : Movable
        The motor to scan and then move.
    start, stop : float
        The scanned range (inclusive).
    num : int
        Number of points (at least one more than the model's parameters).
    field : str, optional
        The detector field to fit (default: the detector's first hinted field).
    model : {"gaussian", "lorentzian", "voigt", "step", "erf"}
        The peak (or edge) shape.
    background : {"constant", "linear", "none"}
        Background added to the shape.
    move : bool
        Move to the fitted centre (``False``: only fit and record).
    md : dict, optional
        Metadata for the run-start document.

    Returns
    -------
    FitResult
        The fit; :class:`AlignmentError` (carrying it) is raised instead when the plan
        refuses to move.

    Examples
    --------
    >>> RE(align_on_peak(det, motor, -2, 2, 31))  # doctest: +SKIP
    """
    if num < 2:
        raise ValueError(f"align_on_peak needs num >= 2 points; got num={num}")
    motor_name: str = getattr(motor, "name", None) or repr(motor)
    det_field = field or _field(detector, detector.name)
    motor_field = _field(motor, motor_name)
    positions = np.linspace(start, stop, num)
    low, high = min(start, stop), max(start, stop)
    run_md: dict[str, Any] = {
        "plan_name": "align_on_peak",
        "detectors": [detector.name],
        "motors": [motor_name],
        "num_points": num,
        "num_intervals": num - 1,
        "plan_args": {
            "detector": detector.name,
            "motor": motor_name,
            "start": start,
            "stop": stop,
            "num": num,
            "field": det_field,
            "model": model,
            "background": background,
        },
        "plan_pattern": "inner_product",
        "hints": {"dimensions": [[[motor_field], "primary"]]},
    }
    run_md.update(md or {})
    xs: list[float] = []
    ys: list[float] = []

    def scan_fit_record() -> Generator[Msg, Any, tuple[FitResult, str | None]]:
        yield from open_run(run_md)
        for position in positions:
            yield from checkpoint()
            yield from mv(motor, float(position))
            readings = yield from trigger_and_read([cast(Readable, motor), detector])
            xs.append(_value(readings, motor_field, motor))
            ys.append(_value(readings, det_field, detector))
        result = fit_points(model, xs, ys, background=background)
        refusal = _refusal(result, low, high, float(np.ptp(ys)))
        stats = compute_peak_stats(xs, ys, derivative=model in ("step", "erf"))
        fit_values = {
            **result.as_dict(),
            "center": result.center,
            "moved": move and refusal is None,
        }
        yield from save_analysis({"fit": fit_values, "stats": stats.as_dict()})
        yield from close_run(exit_status="success")
        return result, refusal

    result, refusal = yield from stage_wrapper(scan_fit_record(), [detector, motor])
    if refusal is not None:
        raise AlignmentError(f"align_on_peak did not move {motor_name!r}: {refusal}", result)
    fitted = f"{result.model} centre {result.center:.6g} ± {result.center_stderr:.2g}"
    if move:
        yield from mv(motor, result.center)
        _report(f"align_on_peak: moved {motor_name} to {result.center:.6g} ({fitted})")
    else:
        _report(f"align_on_peak: {fitted}; {motor_name} left at the scan's end (move=False)")
    return result


def _report(line: str) -> None:
    """Say what the alignment did: on the terminal of whoever runs it, and in the log."""
    logger.info(line)
    print(line, flush=True)


def _refusal(result: FitResult, low: float, high: float, span: float) -> str | None:
    """Why the plan must not move to the fitted centre, or ``None`` when it may.

    ``span`` is the range of the data: a fit without an uncertainty is accepted only
    when it is exact (noiseless data), its residual tiny against ``span``.
    """
    if not result.success:
        return f"the {result.model} fit failed ({result.message})"
    center, err = result.center, result.center_stderr
    if not math.isfinite(center):
        return f"the {result.model} fit gave no centre"
    for name in ("height", "amplitude"):
        value, perr = result.params.get(name, (math.nan, math.nan))
        if math.isfinite(perr) and abs(value) < 3 * perr:
            return (
                f"no significant peak: fitted {name} {value:.4g} ± {perr:.2g} "
                "(less than three standard errors)"
            )
    fwhm = result.params.get("fwhm", (math.nan, math.nan))[0]
    if math.isfinite(fwhm) and fwhm > 2 * (high - low):
        return (
            f"the fitted peak (FWHM {fwhm:.4g}) is wider than twice the scanned range; "
            "widen the scan"
        )
    if not low <= center <= high:
        return (
            f"the fitted centre {center:.6g} is outside the scanned range [{low:.6g}, {high:.6g}]; "
            "widen the scan or check the detector"
        )
    exact = (
        result.lmfit is not None
        and span > 0
        and float(np.sqrt(np.mean(np.square(result.lmfit.residual)))) < 1e-9 * span
    )
    if (not math.isfinite(err) and not exact) or err > (high - low) / 2:
        return (
            f"the fitted centre {center:.6g} has no usable uncertainty (± {err:.3g}); "
            "the data may hold no peak"
        )
    return None
