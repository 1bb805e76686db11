"""ramp_plan: keep taking data while something ramps."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Mapping
from typing import Annotated, Any

from cielo.core import Msg, Units
from cielo.core.protocols import Readable
from cielo.plans import (
    MsgGenerator,
    ensure_generator,
    monitor_during_wrapper,
    run_wrapper,
    sleep,
    validated,
)

from ._common import jsonable, merge_md

__all__ = ["ramp_plan", "RampFail"]


class RampFail(RuntimeError):
    """The ramp did not finish within ``timeout``."""


@validated
def ramp_plan(
    go_plan: Generator[Msg, Any, Any],
    monitor_sig: Readable,
    inner_plan_func: Callable[[], Any],
    take_pre_data: bool = True,
    timeout: Annotated[float | None, Units("s")] = None,
    period: Annotated[float | None, Units("s")] = None,
    *,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Start a ramp and run ``inner_plan_func()`` repeatedly until the ramp is done.

    ``monitor_sig`` is recorded (as a monitor stream) throughout.

    Parameters
    ----------
    go_plan
        A plan that starts the ramp and returns its status, e.g. ``abs_set(temp, 300)``.
    monitor_sig
        A signal to monitor during the run.
    inner_plan_func
        Returns the plan taking one data point, e.g.
        ``lambda: trigger_and_read([det])``.
    take_pre_data
        Take a point before starting the ramp.
    timeout
        Fail with :class:`RampFail` if the ramp takes longer (seconds).
    period
        Take points at most this often (seconds).
    md
        Metadata for the run start.

    Examples
    --------
    >>> from cielo.plans import abs_set, trigger_and_read
    >>> RE(ramp_plan(abs_set(temp, 300), temp, lambda: trigger_and_read([det])))  # doctest: +SKIP
    """
    base = {
        "plan_name": "ramp_plan",
        "plan_args": {"monitor_sig": jsonable(monitor_sig)},
        "hints": {},
    }

    def polling() -> MsgGenerator:
        deadline = None if timeout is None else time.monotonic() + timeout
        if take_pre_data:
            yield from ensure_generator(inner_plan_func())
        status = yield from ensure_generator(go_plan)
        while status is not None and not status.done:
            started = time.monotonic()
            yield from ensure_generator(inner_plan_func())
            if deadline is not None and time.monotonic() > deadline:
                raise RampFail(f"ramp_plan: the ramp did not finish within {timeout} s")
            if period is not None:
                remaining = started + period - time.monotonic()
                if remaining > 0:
                    yield from sleep(remaining)
        yield from ensure_generator(inner_plan_func())

    plan = run_wrapper(polling(), md=merge_md(base, md))
    return (yield from monitor_during_wrapper(plan, [monitor_sig]))
