"""Device methods that block: called in worker threads once seen to block the loop.

Device methods run on the engine's loop thread: a ``read()`` or ``trigger()`` returns in
microseconds for most devices, and a thread hop per call would cost more than the call.
A synchronous method that blocks (a slow serial line, an EPICS read of a dead IOC waiting
for its timeout) stalls everything else on the loop meanwhile: status callbacks, pause
requests, ophyd-async tasks. So each call is timed; a method of a device that held the
loop longer than :data:`BLOCKING_CALL` :data:`BLOCKING_STRIKES` times in a row is called in
a worker thread from then on, the plan awaiting it while the loop goes on. (Once is not
enough: on a loaded machine a call of microseconds sometimes measures 10-40 ms, the loop's
thread having waited for a core or for the GIL.) A method that then finishes quickly
:data:`FAST_TO_RETURN` times in a row (within ``BLOCKING_CALL``: the slow call was the
machine's load, or the IOC came back) is called on the loop again. Only methods that read move
(:data:`OFFLOADABLE`): what starts or stops motion keeps its order on the loop. A device
moved this way never asked for threads: while a call of it runs in one (a read that a pause
cut short), its next call — the engine's ``stop()`` first — waits for it, as on the loop.

A device whose class says that its reads wait on I/O (``blocking_reads = True``: EPICS
devices, whose reads wait for the IOC's answer, 2 s when it hangs) is read in a thread from
its first call, as are the devices given to ``RE.offload(device)``; moving reads by
themselves needs ``RunEngine(offload_blocking=True)``.

Such a device is also staged, unstaged and configured in a thread (:func:`stages_block`;
so is a device whose ``blocking_stage`` is true: a cielo ``Device`` whose ``stage_sigs``
write EPICS signals): ``stage()`` reads and writes signals, each write waiting for
completion. The plan awaits it as it did on the loop, so the order stays: stage before the
first trigger, unstage after the last read. While it runs the device's other calls wait for
it, as those of a device the engine moved do, and so does the unstage of a plan that ends
meanwhile. Subscribing to such a device (a monitor, a suspender's signal) reads it, so that
goes to a thread too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

__all__ = [
    "BLOCKING_CALL",
    "BLOCKING_STRIKES",
    "FAST_TO_RETURN",
    "OFFLOADABLE",
    "Offloader",
    "reads_block",
    "stages_block",
]

logger = logging.getLogger("cielo.engine")

#: The methods that may move to a thread: they read, and never start or stop motion. A
#: ``set()``, ``trigger()``, ``kickoff()`` or ``stop()`` stays on the loop, so the engine's
#: calls of a device keep their order (a ``stop()`` can never overtake the ``set()`` it stops).
OFFLOADABLE = frozenset(
    {
        "read",
        "describe",
        "read_configuration",
        "describe_configuration",
        "locate",
        "describe_collect",
        "collect",
        "get_index",
    }
)
#: A device method that held the loop longer than this (seconds) is called in a thread.
BLOCKING_CALL = 0.01
#: ... this many times in a row.
BLOCKING_STRIKES = 3
#: An offloaded method is called on the loop again after this many quick calls in a row.
FAST_TO_RETURN = 8


def reads_block(obj: Any) -> bool:
    """Whether ``obj``'s class declares that its reads wait on I/O (``blocking_reads = True``)."""
    return getattr(type(obj), "blocking_reads", False) is True


def stages_block(obj: Any) -> bool:
    """Whether ``obj.stage()`` and ``unstage()`` may wait on I/O: its class declares
    ``blocking_reads``, or ``obj.blocking_stage`` is true (a cielo ``Device`` whose
    ``stage_sigs`` write EPICS signals)."""
    if reads_block(obj):
        return True
    try:
        return getattr(obj, "blocking_stage", False) is True
    except Exception:  # a device's attribute lookup that fails: not one that says so
        return False


class _Entry:
    __slots__ = ("obj", "fast", "pinned")

    def __init__(self, obj: Any, pinned: bool) -> None:
        self.obj = obj
        self.fast = 0
        self.pinned = pinned  # asked for by RE.offload(): never returned to the loop


#: the entry of every device whose class declares ``blocking_reads``
_DECLARED = _Entry(None, pinned=True)


class Offloader:
    """Which device methods run in worker threads, and the threads that run them."""

    def __init__(self) -> None:
        #: (id(device), method) -> entry; ``method`` ``None``: every method of the device
        self.entries: dict[tuple[int, str | None], _Entry] = {}
        #: a call held the loop too long past this (seconds); ``math.inf``: never moved
        self.limit = BLOCKING_CALL
        #: (id(device), method) -> slow calls in a row so far
        self.strikes: dict[tuple[int, str], int] = {}
        #: device classes seen not to declare ``blocking_reads``, and those that do
        self.plain: set[type] = set()
        self.declared: set[type] = set()
        #: id(device) -> its call running in a worker thread, for the devices the engine
        #: moved by itself: no other call of such a device may start before it ends
        self.inflight: dict[int, Future[Any]] = {}
        self._executor: ThreadPoolExecutor | None = None

    def __bool__(self) -> bool:
        return bool(self.entries)

    def wants(self, obj: Any, method: str) -> _Entry | None:
        """The entry sending ``obj.method()`` to a thread, if any (one is made for a device
        whose class declares ``blocking_reads``)."""
        entries = self.entries
        if entries:
            entry = entries.get((id(obj), method)) or entries.get((id(obj), None))
            if entry is not None and entry.obj is obj:
                return entry
        cls = type(obj)
        if cls in self.plain:
            return None
        if cls not in self.declared:
            if not reads_block(obj):
                self.plain.add(cls)
                return None
            self.declared.add(cls)
        return _DECLARED  # no entry per device: a session may make devices without end

    def add(self, obj: Any, method: str | None, *, pinned: bool = False) -> None:
        if method is not None and method not in OFFLOADABLE:
            raise ValueError(
                f"{method}() cannot be called in a worker thread: only methods that read "
                f"({', '.join(sorted(OFFLOADABLE))}) can, so that a stop() never overtakes "
                "the set() it stops"
            )
        self.entries[(id(obj), method)] = _Entry(obj, pinned)

    def saw_block(self, obj: Any, method: str, seconds: float, label: str) -> None:
        """``obj.method()`` held the loop for ``seconds``: after ``BLOCKING_STRIKES`` such
        calls in a row, call it in a thread from now on."""
        if method not in OFFLOADABLE:
            return
        key = (id(obj), method)
        strikes = self.strikes.get(key, 0) + 1
        if strikes < BLOCKING_STRIKES:
            self.strikes[key] = strikes
            return
        del self.strikes[key]
        logger.warning(
            "%s.%s() held the engine's event loop for %.0f ms %d times in a row: calling "
            "it in a worker thread from now on (back on the loop after %d quick calls)",
            label,
            method,
            seconds * 1e3,
            strikes,
            FAST_TO_RETURN,
        )
        self.add(obj, method)

    def call(self, entry: _Entry, method: str, func: Any, args: Any, kwargs: Any) -> Any:
        """Start ``func(*args, **kwargs)`` in a worker thread; a coroutine for its result."""
        future = self._submit(func, args, kwargs)
        if not entry.pinned:
            self._hold(entry.obj, future)
        return self._run(entry, method, future)

    def stages_in_thread(self, obj: Any) -> bool:
        """Whether ``obj`` is staged, unstaged and configured in a worker thread: its staging
        may wait on I/O (:func:`stages_block`), or it was given whole to ``RE.offload``."""
        entry = self.entries.get((id(obj), None)) if self.entries else None
        return (entry is not None and entry.obj is obj) or stages_block(obj)

    def call_in_order(self, obj: Any, func: Any, args: Any, kwargs: Any) -> Any:
        """Start ``func(*args, **kwargs)`` (a ``stage()``, a ``subscribe()``...) in a worker
        thread as ``obj``'s call in flight: its other calls, and :meth:`settle`, wait for
        it. A coroutine for its result."""
        future = self._submit(func, args, kwargs)
        self._hold(obj, future)
        return _result(future)

    def _submit(self, func: Any, args: Any, kwargs: Any) -> Future[Any]:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="cielo-device")
        return self._executor.submit(_timed, func, args, kwargs)

    def _hold(self, obj: Any, future: Future[Any]) -> None:
        """No other call of ``obj`` starts before ``future`` ends."""
        key, inflight = id(obj), self.inflight
        inflight[key] = future

        def _ended(done: Future[Any]) -> None:
            if inflight.get(key) is done:
                del inflight[key]

        future.add_done_callback(_ended)

    async def settle(self, objs: Iterable[Any]) -> None:
        """Wait until no call of ``objs`` that the engine moved by itself is still running
        in a worker thread (an interrupted plan no longer awaits it, but the device is in
        it: on the loop, the next call would have come after it too)."""
        pending = [self.inflight.get(id(obj)) for obj in objs] if self.inflight else []
        futures = [asyncio.wrap_future(f) for f in pending if f is not None and not f.done()]
        if futures:
            await asyncio.wait(futures)

    async def _run(self, entry: _Entry, method: str, future: Any) -> Any:
        result, seconds = await asyncio.wrap_future(future)
        if entry.pinned:
            return result
        if seconds > self.limit:
            entry.fast = 0
        else:
            entry.fast += 1
            if entry.fast >= FAST_TO_RETURN:
                self.entries.pop((id(entry.obj), method), None)
        return result

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


async def _result(future: Future[Any]) -> Any:
    result, _seconds = await asyncio.wrap_future(future)
    return result


def _timed(func: Any, args: Any, kwargs: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return result, time.perf_counter() - start
