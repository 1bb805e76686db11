"""Let a plan use results of buffered callbacks: wait, without stalling the engine."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Generator
from typing import Any

from cielo.core import Msg, StatusTimeoutError

__all__ = ["wait_until"]


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float = 10.0,
    poll: float = 0.005,
    what: str = "the condition",
) -> Generator[Msg, Any, None]:
    """Plan stub: wait until ``condition()`` is true, checking every ``poll`` seconds.

    Buffered subscribers run behind the plan; a plan that wants a callback's result
    (a live fit of the run it just closed) waits for it with this stub. The engine's
    loop keeps running meanwhile (pause, Ctrl-C and suspenders work). Raises
    :class:`~cielo.core.StatusTimeoutError` naming ``what`` after ``timeout`` seconds.

    Examples
    --------
    >>> def plan(fit):  # fit: the live_fit collector, subscribed to the engine
    ...     uid = yield from scan_run()
    ...     yield from wait_until(lambda: uid in fit.results, what="the live fit")
    ...     return fit.results[uid]
    """

    async def until() -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise StatusTimeoutError(
                    f"waited {timeout} s for {what}; a callback may be stuck or not "
                    "subscribed (see RE.callback_errors)"
                )
            await asyncio.sleep(poll)

    yield Msg("wait_for", None, [until])
