"""Alignment plans: tune_centroid (converge on a peak) and tweak (step by hand)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cielo.core import PlanParameterError
from cielo.core.protocols import Movable, Readable
from cielo.plans import (
    MsgGenerator,
    input_plan,
    mv,
    one_1d_step,
    run_wrapper,
    trigger_and_read,
    validated,
)

from ._common import (
    check_detectors,
    dimensions,
    field_value,
    jsonable,
    merge_md,
    names,
    one_motor_md,
    staged_run,
)

__all__ = ["tune_centroid", "tweak"]


def _motor_field(motor: Any) -> str:
    try:
        (field,) = motor.hints["fields"]
        return str(field)
    except (AttributeError, KeyError, TypeError, ValueError):
        return str(motor.name)


@validated
def tune_centroid(
    detectors: Sequence[Readable],
    signal: str,
    motor: Movable,
    start: float,
    stop: float,
    min_step: float,
    num: int = 10,
    step_factor: float = 3.0,
    snake: bool = False,
    *,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Find the centroid of ``signal`` by scanning ever narrower ranges, then go there.

    Each pass scans ``num`` points; the next pass covers the range divided by
    ``step_factor`` around the centroid found, until the step is below ``min_step``.

    Parameters
    ----------
    detectors
        Devices to read at every point.
    signal
        The reading field whose centroid is sought, e.g. ``"det"``.
    motor
        The motor.
    start, stop
        The first range (also the limits of every later pass).
    min_step
        Stop when the step gets smaller than this.
    num
        Points per pass.
    step_factor
        How much each pass narrows the range (more than 1).
    snake
        Reverse the direction of every other pass.
    md
        Metadata for the run start.

    Examples
    --------
    >>> RE(tune_centroid([det], "det", motor, -3, 3, 0.01, num=9))  # doctest: +SKIP
    """
    detectors = check_detectors(detectors, "tune_centroid")
    if min_step <= 0:
        raise PlanParameterError(f"tune_centroid: min_step={min_step!r} must be positive")
    if step_factor <= 1.0:
        raise PlanParameterError(f"tune_centroid: step_factor={step_factor!r} must exceed 1")
    if num < 2:
        raise PlanParameterError(f"tune_centroid: num={num!r} must be at least 2")
    field = _motor_field(motor)
    plan_args = {
        "signal": signal,
        "motor": jsonable(motor),
        "start": start,
        "stop": stop,
        "num": num,
        "min_step": min_step,
        "step_factor": step_factor,
        "snake": snake,
    }
    base = one_motor_md("tune_centroid", detectors, motor, plan_args)
    low, high = min(start, stop), max(start, stop)

    def core() -> MsgGenerator:
        a, b = start, stop
        step = (b - a) / (num - 1)
        position = a
        peak = None
        total = weighted = 0.0
        while abs(step) >= min_step and low <= position <= high:
            readings = yield from one_1d_step(detectors, motor, position)
            if not readings:
                return None
            value = field_value(readings, signal, f"tune_centroid: {signal!r}")
            total += value
            weighted += field_value(readings, field, f"tune_centroid: {field!r}") * value
            position += step
            if not min(a, b) <= position <= max(a, b):
                if total == 0:
                    return None
                peak = weighted / total
                total = weighted = 0.0
                width = (b - a) / step_factor
                a = min(max(peak - width / 2, low), high)
                b = min(max(peak + width / 2, low), high)
                if snake:
                    a, b = b, a
                step = (b - a) / (num - 1)
                position = a
        if peak is not None:
            yield from mv(motor, peak)
        return peak

    return (yield from staged_run(core(), merge_md(base, md), detectors, [motor]))


@validated
def tweak(
    detector: Readable,
    target_field: str,
    motor: Movable,
    step: float,
    *,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Move a motor by hand in steps, reading a detector after each move.

    At each prompt: Enter repeats the step, a number sets a new step, anything else
    (e.g. ``q``) ends the plan.

    Parameters
    ----------
    detector
        The device to read.
    target_field
        The field of its reading to show.
    motor
        The motor.
    step
        The first step.
    md
        Metadata for the run start.

    Examples
    --------
    >>> RE(tweak(det, "det", motor, 0.1))  # doctest: +SKIP
    """
    base = {
        "detectors": names([detector]),
        "motors": names([motor]),
        "plan_args": {
            "detector": jsonable(detector),
            "target_field": target_field,
            "motor": jsonable(motor),
            "step": step,
        },
        "plan_name": "tweak",
        "hints": {"dimensions": dimensions([motor])},
    }
    field = _motor_field(motor)
    motor_any: Any = motor

    def core() -> MsgGenerator:
        nonlocal step
        while True:
            readings = yield from trigger_and_read([detector, motor_any])
            if not readings:
                return
            position = readings[field]["value"] if field in readings else None
            value = readings.get(target_field, {}).get("value")
            answer = yield from input_plan(
                f"{motor_any.name}={position!r:.10}, {target_field}={value!r:.10}, step={step} "
                "(Enter: step again, number: new step, q: quit) "
            )
            if answer:
                try:
                    step = float(answer)
                except ValueError:
                    return
            if position is None:
                return
            yield from mv(motor, position + step)

    return (yield from run_wrapper(core(), md=merge_md(base, md)))
