"""Adaptive step scans: the step follows the local slope of a detector field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cielo.core import PlanParameterError
from cielo.core.protocols import Movable, Readable
from cielo.plans import MsgGenerator, one_1d_step, validated

from ._common import (
    check_detectors,
    field_value,
    jsonable,
    merge_md,
    one_motor_md,
    relative_plan,
    staged_run,
)

__all__ = ["adaptive_scan", "rel_adaptive_scan"]


@validated
def adaptive_scan(
    detectors: Sequence[Readable],
    target_field: str,
    motor: Movable,
    start: float,
    stop: float,
    min_step: float,
    max_step: float,
    target_delta: float,
    backstep: bool,
    threshold: float = 0.8,
    *,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Scan one motor with a step that shrinks where ``target_field`` changes fast.

    After each reading the next step is ``target_delta / slope``, clipped to
    [``min_step``, ``max_step``] and smoothed (80 % old step, 20 % new).

    Parameters
    ----------
    detectors
        Devices to read at every point.
    target_field
        The reading field whose change steers the step, e.g. ``"det"``.
    motor
        The motor.
    start, stop
        The range (stop excluded; ``stop < start`` scans downward).
    min_step, max_step
        Bounds of the step.
    target_delta
        The change of ``target_field`` wanted between points.
    backstep
        Go back and retake a point when the step overshot.
    threshold
        Overshoot means the new step is below ``threshold`` times the old one.
    md
        Metadata for the run start.

    Examples
    --------
    >>> RE(adaptive_scan([det], "det", motor, -5, 5, 0.1, 1.0, 0.05, True))  # doctest: +SKIP
    """
    return (
        yield from _adaptive(
            "adaptive_scan",
            detectors,
            target_field,
            motor,
            start,
            stop,
            min_step,
            max_step,
            target_delta,
            backstep,
            threshold,
            md,
            relative=False,
        )
    )


def _adaptive(
    name: str,
    detectors: Sequence[Readable],
    target_field: str,
    motor: Any,
    start: float,
    stop: float,
    min_step: float,
    max_step: float,
    target_delta: float,
    backstep: bool,
    threshold: float,
    md: Mapping[str, Any] | None,
    *,
    relative: bool,
) -> MsgGenerator:
    detectors = check_detectors(detectors, name)
    if not 0 < min_step < max_step:
        # the first step is (max_step - min_step) / 2, as Bluesky's: equal bounds make it 0
        raise PlanParameterError(
            f"{name}: need 0 < min_step < max_step, got min_step={min_step}, "
            f"max_step={max_step}; give a larger max_step"
        )
    if target_delta <= 0:
        raise PlanParameterError(f"{name}: target_delta={target_delta!r} must be positive")
    plan_args = {
        "target_field": target_field,
        "motor": jsonable(motor),
        "start": start,
        "stop": stop,
        "min_step": min_step,
        "max_step": max_step,
        "target_delta": target_delta,
        "backstep": backstep,
        "threshold": threshold,
    }
    base = one_motor_md(name, detectors, motor, plan_args)
    direction = 1 if stop >= start else -1

    def core() -> MsgGenerator:
        position = start
        step = (max_step - min_step) / 2
        previous: float | None = None
        while position * direction < stop * direction:
            readings = yield from one_1d_step(detectors, motor, position)
            if not readings:  # not driven by a RunEngine
                return
            value = field_value(readings, target_field, f"{name}: target_field {target_field!r}")
            if previous is None:
                previous = value
                position += step * direction
                continue
            slope = abs(value - previous) / step
            if slope:
                new_step = min(max(target_delta / slope, min_step), max_step)
            else:
                new_step = min(step * 1.1, max_step)
            if backstep and new_step < step * threshold:
                position -= step * direction  # overshot: retake with the smaller step
                step = new_step
            else:
                previous = value
                step = 0.2 * new_step + 0.8 * step
            position += step * direction

    return (
        yield from staged_run(core(), merge_md(base, md), detectors, [motor], relative=relative)
    )


rel_adaptive_scan = relative_plan(
    adaptive_scan,
    _adaptive,
    "``adaptive_scan`` relative to where the motor is; it returns there afterwards.",
    'RE(rel_adaptive_scan([det], "det", motor, -1, 1, 0.05, 0.5, 0.05, True))',
)
