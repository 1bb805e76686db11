"""Status objects: completion markers for device operations.

:class:`Status` is settable, thread-safe, ophyd-compatible (``done``, ``success``,
``add_callback``, ``wait``, ``exception``) and awaitable, so a device written with
threads and a plan step awaited on an event loop share one type.
"""

from __future__ import annotations

import asyncio
import threading
import time
from _thread import allocate_lock as _allocate_lock
from collections.abc import Callable, Generator, Iterable
from typing import Any

from ._errors import FailedStatusError, StatusTimeoutError

__all__ = ["AsyncStatus", "Status", "status_all", "finished_status", "failed_status"]

Callback = Callable[["Status"], None]
Watcher = Callable[..., None]


class Status:
    """A settable status, finished once with :meth:`set_finished` or :meth:`set_exception`.

    Parameters
    ----------
    obj
        The device this status belongs to (used in error messages).
    timeout
        Seconds after which the status fails with :class:`StatusTimeoutError`;
        ``None`` waits forever.
    settle_time
        Seconds to wait after success before reporting done.
    """

    __slots__ = (
        "obj",
        "timeout",
        "settle_time",
        "start_time",
        "finish_time",
        "_lock",
        "_done",
        "_event",
        "_exception",
        "_callbacks",
        "_watchers",
        "_timer",
    )

    # Cheap by design (a sim move or trigger makes one per call): a plain lock and flag;
    # the threading.Event that blocking waiters sleep on is made only when one blocks.

    def __init__(
        self, obj: Any = None, *, timeout: float | None = None, settle_time: float = 0.0
    ) -> None:
        self.obj = obj
        self.timeout = timeout
        self.settle_time = settle_time
        self.start_time = time.time()
        self.finish_time: float | None = None
        self._lock = _allocate_lock()
        self._done = False
        self._event: threading.Event | None = None
        self._exception: BaseException | None = None
        self._callbacks: list[Callback] | None = None
        self._watchers: list[Watcher] | None = None
        self._timer: threading.Timer | None = None
        if timeout is not None:
            self._timer = threading.Timer(timeout, self._on_timeout)
            self._timer.daemon = True
            self._timer.start()

    # -- state -------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self._done

    @property
    def success(self) -> bool:
        return self._done and self._exception is None

    @property
    def elapsed(self) -> float:
        return (self.finish_time or time.time()) - self.start_time

    def exception(self, timeout: float | None = 0.0) -> BaseException | None:
        """The failure, or ``None`` when it succeeded (or is not done within ``timeout``)."""
        self._wait_done(timeout)
        return self._exception

    def _wait_done(self, timeout: float | None) -> bool:
        """Block until done or ``timeout`` (``None``: forever); whether it is done."""
        if self._done:
            return True
        if timeout is not None and timeout <= 0:
            return False
        with self._lock:
            if self._done:
                return True
            event = self._event
            if event is None:
                event = self._event = threading.Event()
        return event.wait(timeout)

    # -- finishing ---------------------------------------------------------
    def set_finished(self) -> None:
        """Mark the operation successful (after ``settle_time``)."""
        if self.settle_time > 0:
            timer = threading.Timer(self.settle_time, self._finish, args=(None,))
            timer.daemon = True
            timer.start()
        else:
            self._finish(None)

    def set_exception(self, exc: BaseException) -> None:
        """Mark the operation failed with ``exc``."""
        self._finish(exc)

    def _on_timeout(self) -> None:
        name = getattr(self.obj, "name", self.obj)
        self._finish(
            StatusTimeoutError(
                f"{type(self).__name__} of {name!r} did not finish within {self.timeout} s"
            )
        )

    def _finish(self, exc: BaseException | None) -> None:
        with self._lock:
            if self._done:
                return
            self._exception = exc
            self.finish_time = time.time()
            self._done = True
            callbacks, self._callbacks = self._callbacks, None
            event = self._event
        if event is not None:
            event.set()
        if self._timer is not None:
            self._timer.cancel()
        if callbacks:
            for cb in callbacks:
                cb(self)

    # -- observing ---------------------------------------------------------
    def add_callback(self, callback: Callback) -> None:
        """Call ``callback(status)`` once done (at once if it already is)."""
        if not self._done:
            with self._lock:
                if not self._done:
                    if self._callbacks is None:
                        self._callbacks = [callback]
                    else:
                        self._callbacks.append(callback)
                    return
        callback(self)

    @property
    def callbacks(self) -> tuple[Callback, ...]:
        return tuple(self._callbacks or ())

    def watch(self, watcher: Watcher) -> None:
        """Call ``watcher(**progress)`` on each progress update of a long operation.

        Progress keys: ``name``, ``current``, ``initial``, ``target``, ``unit``,
        ``precision``, ``fraction``, ``time_elapsed``, ``time_remaining``.
        """
        with self._lock:
            if self._watchers is None:
                self._watchers = [watcher]
            else:
                self._watchers.append(watcher)

    def update_progress(self, **progress: Any) -> None:
        """Report progress to every watcher (called by the device)."""
        watchers = self._watchers
        if not watchers:
            return
        progress.setdefault("time_elapsed", time.time() - self.start_time)
        for watcher in tuple(watchers):
            watcher(**progress)

    def wait(self, timeout: float | None = None) -> None:
        """Block until done; raise the failure, or :class:`StatusTimeoutError` after ``timeout``."""
        if not self._wait_done(timeout):
            name = getattr(self.obj, "name", self.obj)
            raise StatusTimeoutError(f"waited {timeout} s for status of {name!r}")
        if self._exception is not None:
            raise self._exception

    def __await__(self) -> Generator[Any, None, None]:
        if not self._done:
            loop = asyncio.get_running_loop()
            fut: asyncio.Future[None] = loop.create_future()

            def _wake(_: Status) -> None:
                try:
                    loop.call_soon_threadsafe(_set_future, fut)
                except RuntimeError:  # the loop closed while waiting
                    if not loop.is_closed():
                        raise

            self.add_callback(_wake)
            yield from fut.__await__()
        if self._exception is not None:
            raise self._exception

    def __and__(self, other: Any) -> Status:
        return status_all([self, other])

    def __repr__(self) -> str:
        name = getattr(self.obj, "name", self.obj)
        state = "pending" if not self.done else ("success" if self.success else "failed")
        return f"<{type(self).__name__} {name!r} {state}>"


def _set_future(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class AsyncStatus(Status):
    """A status that follows an awaitable (e.g. an ophyd-async coroutine) run on an event loop.

    Parameters
    ----------
    awaitable
        The operation; the status succeeds with it and fails with its exception.
    obj, timeout
        As for :class:`Status`.
    loop
        The loop to run it on; by default the running loop. From another thread, pass
        the loop (e.g. ``RE.loop``): the awaitable is scheduled there thread-safely.
    """

    __slots__ = ("task", "result")

    def __init__(
        self,
        awaitable: Any,
        obj: Any = None,
        *,
        timeout: float | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(obj, timeout=timeout)
        self.result: Any = None
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None:
            if running is None:
                close = getattr(awaitable, "close", None)
                if close is not None:  # no "coroutine was never awaited" warning
                    close()
                raise RuntimeError(
                    "AsyncStatus needs an event loop: create it inside a coroutine or pass "
                    "loop= (for example RE.loop)"
                )
            loop = running
        coro = _as_coroutine(awaitable)
        if loop is running:
            self.task: Any = loop.create_task(coro)
            self.task.add_done_callback(self._task_done)
        else:
            self.task = asyncio.run_coroutine_threadsafe(coro, loop)
            self.task.add_done_callback(self._task_done)

    def _task_done(self, task: Any) -> None:
        if task.cancelled():
            self.set_exception(asyncio.CancelledError(f"{self!r} was cancelled"))
            return
        exc = task.exception()
        if exc is not None:
            self.set_exception(exc)
        else:
            self.result = task.result()
            self.set_finished()

    def cancel(self) -> None:
        """Cancel the underlying operation (the status fails with CancelledError)."""
        self.task.cancel()


async def _as_coroutine(awaitable: Any) -> Any:
    return await awaitable


def status_all(statuses: Iterable[Any], obj: Any = None) -> Status:
    """One status that finishes when all of ``statuses`` have, failing on the first failure."""
    pending = list(statuses)
    combined = Status(obj)
    if not pending:
        combined.set_finished()
        return combined
    remaining = [len(pending)]
    lock = threading.Lock()

    def _one_done(st: Any) -> None:
        exc = st.exception() if hasattr(st, "exception") else None
        if exc is None and not getattr(st, "success", True):
            exc = FailedStatusError(f"{st!r} finished unsuccessfully")
        if exc is not None:
            combined.set_exception(exc)
            return
        with lock:
            remaining[0] -= 1
            last = remaining[0] == 0
        if last:
            combined.set_finished()

    for st in pending:
        st.add_callback(_one_done)
    return combined


def finished_status(obj: Any = None) -> Status:
    """A status that is already successfully done."""
    st = Status(obj)
    st.finish_time = st.start_time
    st._done = True  # nobody else holds it yet: no lock, no callbacks to run
    return st


def failed_status(exc: BaseException, obj: Any = None) -> Status:
    """A status that is already done with the failure ``exc``."""
    st = Status(obj)
    st.set_exception(exc)
    return st
