"""Telling clients the status changed: a new status uid, waiters woken, the status pushed.

Each change of the manager's state gets a new ``status_uid`` (a per-manager prefix and a
count: no random bytes per change), wakes what waits for a change (``wait``), and pushes
the status to the websocket clients watching it. With a store that waits on a network
(``blocking``: Redis) the push waits for the store's summary, read in a thread; changes
made meanwhile go out in that one push, never as a stale status.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from ._broadcast import Broadcast
from ._calls import StoreCalls
from ._store import StoreUnavailableError

__all__ = ["StatusChanges"]

logger = logging.getLogger("cielo.server")


class StatusChanges:
    """The status's change uid, its waiters and its pushes on ``feeds``' ``"status"``.

    :param status: the status now (the store's summary as of its last call).
    :param calls: the store's calls (a blocking store's summary is read through them).
    :param spawn: runs a coroutine in the background (the manager's tasks).
    """

    def __init__(
        self,
        status: Callable[[], dict[str, Any]],
        calls: StoreCalls,
        feeds: Broadcast,
        spawn: Callable[[Coroutine[Any, Any, None]], None],
    ) -> None:
        self._status = status
        self._calls = calls
        self.feeds = feeds
        self._spawn = spawn
        self._prefix = f"{uuid.uuid4()}-"
        self._count = itertools.count(1)
        self.uid = f"{self._prefix}0"
        self._event = asyncio.Event()
        self._pushing = False  # a push waits for the store's summary

    def changed(self) -> None:
        """A new uid; waiters wake; watchers get the status (see the module)."""
        self.uid = f"{self._prefix}{next(self._count)}"
        self._event.set()
        self._event = asyncio.Event()
        if self.feeds.wants("status"):
            if self._calls.blocking:
                self._push_soon()
            else:
                self.feeds.publish("status", self._status())

    async def wait(self, timeout: float) -> None:
        """Until the next change, or ``timeout`` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)

    def _push_soon(self) -> None:
        if self._pushing:
            return
        self._pushing = True

        async def push() -> None:
            try:
                seen = None
                while seen != self.uid:  # changed while the summary was read: again
                    seen = self.uid
                    try:
                        await self._calls.io(lambda store: None)
                    except StoreUnavailableError as exc:  # the states still go out
                        logger.warning("status pushed with the store's last summary: %s", exc)
                    self.feeds.publish("status", self._status())
            finally:
                self._pushing = False

        self._spawn(push())
