"""count: read detectors repeatedly, without moving anything."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Annotated, Any

from cielo.core import PlanParameterError, Units
from cielo.core.protocols import Readable
from cielo.plans import MsgGenerator, one_shot, repeat, validated

from ._common import check_detectors, jsonable, merge_md, names, plan_md, staged_run

__all__ = ["count"]


@validated
def count(
    detectors: Sequence[Readable],
    num: int | None = 1,
    delay: Annotated[float | Sequence[float] | None, Units("s")] = None,
    *,
    per_shot: Callable[..., Any] | None = None,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Take one or more readings from detectors.

    Parameters
    ----------
    detectors
        Devices to trigger and read.
    num
        Number of readings; ``None`` reads until the plan is stopped.
    delay
        Seconds between the starts of successive readings: one number, or a list of
        ``num - 1`` delays for uneven spacing.
    per_shot
        Replaces the default reading ``one_shot(detectors)``; called
        ``per_shot(detectors)``.
    md
        Metadata for the run start.

    Returns
    -------
    str
        The run uid.

    Examples
    --------
    >>> RE(count([det], num=3, delay=[0.5, 1.0]))  # doctest: +SKIP
    """
    detectors = check_detectors(detectors, "count")
    if num is not None and num < 1:
        raise PlanParameterError(f"count: num={num!r} must be at least 1 (or None for forever)")
    if isinstance(delay, Iterable):
        delay = [float(d) for d in delay]
        if num is not None and len(delay) < num - 1:
            raise PlanParameterError(
                f"count: num={num} needs {num - 1} delays, but {len(delay)} were given"
            )
        if any(d < 0 for d in delay):
            raise PlanParameterError(f"count: delays must not be negative, got {delay}")
    elif delay is not None and delay < 0:
        raise PlanParameterError(f"count: delay={delay!r} must not be negative")
    plan_args = {"num": num, "delay": jsonable(delay)}
    base: dict[str, Any] = {
        "detectors": names(detectors),
        **plan_md("count", detectors, plan_args, hints={"dimensions": [(["time"], "primary")]}),
    }
    if num is not None:
        base["num_points"] = num
        base["num_intervals"] = num - 1
    full_md = merge_md(base, md)
    shot = functools.partial(per_shot or one_shot, detectors)

    def inner() -> MsgGenerator:
        return (yield from repeat(shot, num=num, delay=delay))

    return (yield from staged_run(inner(), full_md, detectors))
