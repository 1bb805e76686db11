"""How the manager calls its queue store: in its event loop (SQLite: a local file, fast),
or in threads when the store waits on a network (``store.blocking``: Redis), so a stalled
Redis holds only the requests that need it. Also: the store's summary the status shows,
and work put off until a store that did not answer answers again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ._store import QueueStore, StoreUnavailableError, Summary

__all__ = ["StoreCalls"]

logger = logging.getLogger("cielo.server")

T = TypeVar("T")
#: threads calling a blocking store (requests waiting on a stalled Redis queue up behind)
THREADS = 4
#: seconds between checks that a store which did not answer answers again
RETRY_EVERY = 1.0


class StoreCalls:
    """Calls of ``store`` from an event loop (see the module)."""

    def __init__(self, store: QueueStore) -> None:
        self.store = store
        self.blocking = bool(getattr(store, "blocking", False))
        self._threads = (
            ThreadPoolExecutor(THREADS, thread_name_prefix="cielo-store") if self.blocking else None
        )
        self._summary: Summary | None = None  # a blocking store's, as of its last call
        self.pending = 0  # pieces of work waiting for the store to answer

    async def io(self, work: Callable[[QueueStore], T]) -> T:
        """``work(store)``: called here, or in a thread (with the store's summary read
        after it) if the store is ``blocking``. Raises what ``work`` raises
        (:class:`StoreUnavailableError` when the store does not answer)."""
        if self._threads is None:
            return work(self.store)

        def call() -> tuple[T, Summary]:
            result = work(self.store)
            return result, Summary.of(self.store)

        result, self._summary = await asyncio.get_running_loop().run_in_executor(
            self._threads, call
        )
        return result

    def summary(self) -> Summary:
        """What the status shows of the store: read now, or (a blocking store) as of its
        last call."""
        if self._summary is None or not self.blocking:
            summary = Summary.of(self.store)  # a blocking store: once, at start
            if self.blocking:
                self._summary = summary
            return summary
        return self._summary

    async def when_answering(self, work: Callable[[], None], what: str) -> None:
        """Do ``work()`` (which calls the store in the loop) once the store answers
        again: checked every :data:`RETRY_EVERY` s off the loop, then ``work()``, again
        until it goes through."""
        self.pending += 1
        try:
            while True:
                await asyncio.sleep(RETRY_EVERY)
                try:
                    await self.io(lambda store: store.running())  # answering again?
                    work()
                except StoreUnavailableError:
                    continue
                logger.warning("the store answers again: %s done", what)
                return
        finally:
            self.pending -= 1

    def close(self) -> None:
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)
