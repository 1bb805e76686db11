"""Document dispatch: subscribers by document name or ``"all"``, slow ones never stall the engine.

Each buffered subscriber has its own bounded buffer and delivery thread, so a slow
callback delays only itself; when its buffer is full the engine waits for room
(back-pressure) instead of dropping documents. The RunEngine waits on its event loop
(:attr:`Dispatcher.on_full`, :meth:`Dispatcher.room`): its plan stops between messages
while the loop goes on turning; other emitters wait in :meth:`Dispatcher.emit` itself. Subscribers given the same ``group``
share one buffer and one thread instead, and so see each document one after the other in
subscription order (for callbacks whose output must not interleave). A callback's exception is logged,
recorded in :attr:`Dispatcher.errors` and, when errors are fatal, reported to the
engine, which fails the run. The other subscribers still receive every document.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._errors import RunEngineError, UnknownDocumentName

__all__ = ["CallbackError", "Dispatcher", "DOCUMENT_NAMES", "event_model_validator"]

logger = logging.getLogger("cielo.engine.dispatch")

DOCUMENT_NAMES = frozenset(
    {
        "start",
        "descriptor",
        "event",
        "event_page",
        "resource",
        "datum",
        "datum_page",
        "stream_resource",
        "stream_datum",
        "stop",
    }
)

DocCallback = Callable[[str, dict[str, Any]], Any]


@dataclass(frozen=True)
class CallbackError:
    """One failure of one subscriber on one document."""

    callback: str
    name: str
    uid: str | None
    exception: BaseException
    traceback: str = field(repr=False)
    time: float = field(default_factory=time.time)
    #: the subscriber was subscribed with ``fatal=True`` (its errors fail the run)
    fatal: bool = False

    def __str__(self) -> str:
        return (
            f"callback {self.callback} failed on {self.name!r} document {self.uid}: "
            f"{type(self.exception).__name__}: {self.exception}"
        )


def _wake(loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> None:
    """Finish ``future`` on its loop (from a delivery thread)."""

    def finish() -> None:
        if not future.done():
            future.set_result(None)

    try:
        loop.call_soon_threadsafe(finish)
    except RuntimeError:  # the loop was closed: nobody waits any more
        pass


class _Subscription:
    __slots__ = ("token", "callback", "name", "label", "dispatcher", "worker", "group", "fatal")

    def __init__(
        self,
        token: int,
        callback: DocCallback,
        name: str,
        dispatcher: Dispatcher,
        group: str | None = None,
        fatal: bool = False,
    ) -> None:
        self.token = token
        self.fatal = fatal
        self.callback = callback
        self.name = name
        self.label = getattr(callback, "__qualname__", None) or repr(callback)
        self.dispatcher = dispatcher
        self.worker: _Worker | None = None
        self.group = group

    def deliver(self, name: str, doc: dict[str, Any]) -> None:
        try:
            self.callback(name, doc)
        except Exception as exc:
            self.dispatcher._record(self, name, doc, exc)


class _Worker:
    """A bounded buffer drained by one daemon thread for one subscriber or one group.

    ``members`` are the subscribers it delivers to, in subscription order; each document
    goes to every member that wants it before the next document is delivered. Members
    join and leave through control items queued in line with the documents, so a member
    sees exactly the documents emitted while it was subscribed.
    """

    __slots__ = (
        "dispatcher",
        "members",
        "maxsize",
        "queue",
        "cv",
        "waiting",
        "inflight",
        "closed",
        "thread",
        "batch",
        "index",
        "abandoned",
        "room_waiters",
    )

    def __init__(self, sub: _Subscription, maxsize: int, *, label: str | None = None) -> None:
        self.dispatcher = sub.dispatcher
        self.members: tuple[_Subscription, ...] = (sub,)
        self.maxsize = maxsize
        self.queue: deque[tuple[str | None, Any]] = deque()
        self.cv = threading.Condition(threading.Lock())
        self.waiting = False
        self.inflight = 0
        self.closed = False
        #: the documents being delivered and how far (for :meth:`pending`)
        self.batch: list[tuple[str | None, Any]] = []
        self.index = 0
        #: closing gave up: deliver nothing more
        self.abandoned = False
        #: called (on the delivery thread) once the buffer has room again
        self.room_waiters: list[Callable[[], None]] = []
        self.thread = threading.Thread(
            target=self._run,
            name=f"cielo-dispatch-{sub.token}-{label or sub.label}",
            daemon=True,
        )
        self.thread.start()

    @property
    def full(self) -> bool:
        return len(self.queue) + self.inflight >= self.maxsize and not self.closed

    def put(self, item: tuple[str, dict[str, Any]]) -> None:
        """Queue a document; when the buffer is full, wait for room, or (with the
        dispatcher's ``on_full`` set) queue it anyway and call ``on_full()``."""
        cv = self.cv
        on_full = None
        with cv:
            if len(self.queue) + self.inflight >= self.maxsize:
                self.dispatcher.backpressure_waits += 1
                on_full = self.dispatcher.on_full
                if on_full is None:
                    while len(self.queue) + self.inflight >= self.maxsize and not self.closed:
                        cv.wait(0.5)
            self.queue.append(item)
            if self.waiting:
                cv.notify_all()
        if on_full is not None:
            on_full()

    def when_room(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once the buffer has room (now, if it has)."""
        with self.cv:
            if self.full:
                self.room_waiters.append(callback)
                return
        callback()

    def _take_room_waiters(self) -> list[Callable[[], None]]:
        """The room waiters to call now (with ``cv`` held)."""
        if not self.room_waiters or self.full:
            return []
        waiters, self.room_waiters = self.room_waiters, []
        return waiters

    def control(self, action: Callable[[], None]) -> None:
        """Run ``action()`` on the delivery thread after what is queued (never blocks)."""
        with self.cv:
            self.queue.append((None, action))
            self.cv.notify_all()

    def add_member(self, sub: _Subscription) -> None:
        def _add() -> None:
            self.members = (*self.members, sub)

        self.control(_add)

    def remove_member(self, sub: _Subscription) -> threading.Event:
        """Stop delivering to ``sub`` once what is queued now is delivered (event set then)."""
        removed = threading.Event()

        def _remove() -> None:
            self.members = tuple(m for m in self.members if m is not sub)
            removed.set()

        self.control(_remove)
        return removed

    def _run(self) -> None:
        cv = self.cv
        while True:
            with cv:
                while not self.queue and not self.closed:
                    self.waiting = True
                    cv.wait()
                    self.waiting = False
                if not self.queue:
                    cv.notify_all()
                    return
                batch = self.batch = list(self.queue)
                self.queue.clear()
                self.inflight = len(batch)
            for i, (name, doc) in enumerate(batch):
                self.index = i
                if self.abandoned:
                    break
                if name is None:
                    doc()  # a control item: a member joins or leaves
                else:
                    for sub in self.members:
                        if sub.name == "all" or sub.name == name:
                            sub.deliver(name, doc)
                if i % 256 == 255 or self.room_waiters:
                    with cv:
                        self.inflight = len(batch) - i - 1
                        waiters = self._take_room_waiters()
                        cv.notify_all()
                    for waiter in waiters:
                        waiter()
            with cv:
                self.inflight = 0
                self.batch = []
                waiters = self._take_room_waiters()
                cv.notify_all()
            for waiter in waiters:
                waiter()

    def pending(self) -> int:
        """Documents queued or in the batch being delivered, not yet handled."""
        with self.cv:
            batch, index = self.batch, self.index
            queued = sum(1 for name, _doc in self.queue if name is not None)
        return queued + sum(1 for name, _doc in batch[index:] if name is not None)

    def abandon(self) -> int:
        """Deliver nothing more; returns how many documents that drops."""
        self.abandoned = True
        count = self.pending()
        with self.cv:
            self.queue.clear()
            waiters, self.room_waiters = self.room_waiters, []
        for waiter in waiters:
            waiter()
        return count

    def flush(self, deadline: float | None) -> bool:
        with self.cv:
            while self.queue or self.inflight:
                if threading.current_thread() is self.thread:
                    return False  # a callback flushing from its own thread
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self.cv.wait(0.2 if remaining is None else min(remaining, 0.2))
        return True

    def close(self, timeout: float | None) -> None:
        with self.cv:
            self.closed = True
            waiters, self.room_waiters = self.room_waiters, []
            self.cv.notify_all()
        for waiter in waiters:
            waiter()
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout)


class Dispatcher:
    """Routes ``(name, doc)`` to subscribers.

    Parameters
    ----------
    buffer_size
        Documents a buffered subscriber may fall behind before the engine waits for it.
    on_error
        Called as ``on_error(error)`` with each :class:`CallbackError` (the engine uses it
        to fail the run when callback errors are fatal).
    """

    def __init__(
        self,
        *,
        buffer_size: int = 10_000,
        on_error: Callable[[CallbackError], None] | None = None,
        max_errors: int = 1000,
    ) -> None:
        if buffer_size < 1:
            raise ValueError(f"buffer_size must be at least 1, got {buffer_size!r}")
        self.buffer_size = buffer_size
        self.on_error = on_error
        self.errors: deque[CallbackError] = deque(maxlen=max_errors)
        #: failures per subscriber (its label) since :meth:`take_error_counts`; only the
        #: first failure of each is logged with its traceback
        self.error_counts: dict[str, int] = {}
        self.backpressure_waits = 0
        #: When set, a full buffer never makes :meth:`emit` wait: the document is queued
        #: anyway and ``on_full()`` called; the caller then awaits :meth:`room` (the
        #: RunEngine does, between two messages, so its event loop is never blocked).
        self.on_full: Callable[[], None] | None = None
        self._tokens = itertools.count(1)
        self._subs: dict[int, _Subscription] = {}
        #: group name -> its shared worker (while the group has members)
        self._groups: dict[str, _Worker] = {}
        self._lock = threading.Lock()
        #: per document name: (synchronous subscribers, buffered workers); rebuilt on change
        self._routes: dict[str, tuple[tuple[_Subscription, ...], tuple[_Worker, ...]]] = {}

    # -- subscribing ---------------------------------------------------------
    def subscribe(
        self,
        callback: DocCallback,
        name: str = "all",
        *,
        buffered: bool = True,
        group: str | None = None,
        fatal: bool = False,
    ) -> int:
        """Send documents called ``name`` (or all of them) to ``callback(name, doc)``; returns a token.

        ``group``: subscribers with the same group share one buffer and delivery thread,
        each document going to them one after the other in subscription order.
        ``fatal``: this subscriber's errors are reported as fatal (:attr:`CallbackError.fatal`).
        """
        if not callable(callback):
            raise TypeError(
                f"subscribe() needs a callable callback(name, doc), got {callback!r}"
                + (" (did you swap callback and name?)" if callable(name) else "")
            )
        if name != "all" and name not in DOCUMENT_NAMES:
            raise UnknownDocumentName(
                f"cannot subscribe to documents named {name!r}; use 'all' or one of "
                f"{sorted(DOCUMENT_NAMES)}"
            )
        if group is not None and not buffered:
            raise ValueError(
                f"group={group!r} needs a buffered subscriber: unbuffered ones already run "
                "in order on the engine's thread; drop group= or buffered=False"
            )
        if group is not None and (not isinstance(group, str) or not group):
            raise TypeError(f"group must be a non-empty string or None, got {group!r}")
        with self._lock:
            token = next(self._tokens)
            sub = _Subscription(token, callback, name, self, group, fatal)
            if group is not None and group in self._groups:
                sub.worker = self._groups[group]
                sub.worker.add_member(sub)
            elif buffered:
                label = None if group is None else f"group-{group}"
                sub.worker = _Worker(sub, self.buffer_size, label=label)
                if group is not None:
                    self._groups[group] = sub.worker
            self._subs[token] = sub
            self._rebuild()
        return token

    def unsubscribe(self, token: int) -> None:
        """Stop sending documents to the subscriber of ``token`` (after delivering what it has)."""
        with self._lock:
            sub = self._subs.pop(token, None)
            if sub is None:
                raise KeyError(f"no subscription with token {token!r}")
            worker = sub.worker
            last = worker is not None and not any(s.worker is worker for s in self._subs.values())
            if sub.group is not None and last:
                self._groups.pop(sub.group, None)
            self._rebuild()
        if worker is None:
            return
        if last:
            worker.flush(None)
            worker.close(1.0)
            return
        removed = worker.remove_member(sub)
        if threading.current_thread() is not worker.thread:  # not a member leaving by itself
            removed.wait()

    def _rebuild(self) -> None:
        routes = {}
        for doc_name in DOCUMENT_NAMES:
            subs = [s for s in self._subs.values() if s.name in ("all", doc_name)]
            sync = tuple(s for s in subs if s.worker is None)
            workers = tuple(dict.fromkeys(s.worker for s in subs if s.worker is not None))
            if sync or workers:
                routes[doc_name] = (sync, workers)
        self._routes = routes

    @property
    def has_fatal(self) -> bool:
        """Some subscriber was subscribed with ``fatal=True``."""
        return any(s.fatal for s in self._subs.values())

    @property
    def subscriptions(self) -> dict[int, tuple[str, DocCallback]]:
        return {t: (s.name, s.callback) for t, s in self._subs.items()}

    # -- emitting ------------------------------------------------------------
    def emit(self, name: str, doc: dict[str, Any]) -> None:
        """Deliver one document (the engine's hot path)."""
        route = self._routes.get(name)
        if route is None:
            return
        sync, workers = route
        for sub in sync:
            sub.deliver(name, doc)
        if workers:
            item = (name, doc)
            for worker in workers:
                worker.put(item)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every buffered subscriber has handled what it was given."""
        deadline = None if timeout is None else time.monotonic() + timeout
        ok = True
        for worker in self._workers():
            ok = worker.flush(deadline) and ok
        return ok

    @property
    def congested(self) -> bool:
        """Some buffered subscriber's buffer is full."""
        return any(worker.full for worker in self._workers())

    async def room(self) -> None:
        """Wait, on the running event loop, until every buffer has room."""
        loop = asyncio.get_running_loop()
        for worker in self._workers():
            while worker.full:
                future: asyncio.Future[None] = loop.create_future()
                worker.when_room(functools.partial(_wake, loop, future))
                await future

    def _workers(self) -> list[_Worker]:
        return list(dict.fromkeys(s.worker for s in list(self._subs.values()) if s.worker))

    def backlog(self) -> dict[str, int]:
        """Documents buffered and not yet handled, per subscriber (labels of a group joined)."""
        backlog = {}
        for worker in self._workers():
            count = worker.pending()
            if count:
                backlog[" + ".join(m.label for m in worker.members)] = count
        return backlog

    def close(self, timeout: float | None = None, *, progress_every: float = 5.0) -> dict[str, int]:
        """Deliver everything buffered, then stop the delivery threads.

        Waits as long as the slowest subscriber needs (logging what is left every
        ``progress_every`` s); with a ``timeout``, gives up after it, drops what is left
        and logs an error naming each subscriber and how many documents it never got.
        Returns those counts (empty when everything was delivered).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        if any(w.thread is threading.current_thread() for w in self._workers()):
            deadline = time.monotonic()  # closed by a subscriber: it cannot wait for itself
        gave_up = False
        backlog = self.backlog()
        while backlog:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                gave_up = True
                break
            logger.warning(
                "closing: delivering %s",
                ", ".join(f"{n} document(s) to {label}" for label, n in backlog.items()),
            )
            wait = progress_every if deadline is None else min(progress_every, deadline - now)
            self.flush(wait)
            backlog = self.backlog()
        with self._lock:
            workers = self._workers()
            self._subs.clear()
            self._groups.clear()
            self._routes = {}
        lost: dict[str, int] = {}
        for worker in workers:
            if gave_up:
                count = worker.abandon()  # the thread stops after the document it handles
                if count:
                    lost[" + ".join(m.label for m in worker.members)] = count
            worker.close(1.0 if gave_up else None)
        if lost:
            logger.error(
                "closed after %s s with documents never delivered: %s; runs they belong to "
                "are incomplete there (close without a timeout to deliver everything)",
                timeout,
                ", ".join(f"{label} lost {n}" for label, n in lost.items()),
            )
        return lost

    # -- errors --------------------------------------------------------------
    def take_error_counts(self) -> dict[str, int]:
        """The failures per subscriber since the last call, and start counting afresh."""
        counts, self.error_counts = self.error_counts, {}
        return counts

    def _record(self, sub: _Subscription, name: str, doc: dict[str, Any], exc: Exception) -> None:
        uid = doc.get("uid") if isinstance(doc, dict) else None
        # a subscriber fails on one thread at a time (its own, or the engine's)
        count = self.error_counts.get(sub.label, 0) + 1
        self.error_counts[sub.label] = count
        error = CallbackError(
            callback=sub.label,
            name=name,
            uid=uid,
            exception=exc,
            traceback="".join(traceback.format_exception(exc)) if count == 1 else "",
            fatal=sub.fatal,
        )
        self.errors.append(error)
        if count == 1:
            logger.error(
                "%s (its further failures are counted, not printed: RE.callback_error_counts)",
                error,
                exc_info=exc,
            )
        else:
            logger.debug("%s", error)
        if self.on_error is not None:
            try:
                self.on_error(error)
            except Exception:
                logger.exception("error handler %r failed", self.on_error)


def event_model_validator() -> Callable[[str, dict[str, Any]], None]:
    """A subscriber checking each document with event-model's JSON schemas."""
    try:
        from event_model import DocumentNames, schema_validators
    except ImportError as exc:
        raise RunEngineError(
            "validate_documents=True needs the event-model package: pip install event-model"
        ) from exc

    def validate_document(name: str, doc: dict[str, Any]) -> None:
        schema_validators[DocumentNames[name]].validate(doc)

    return validate_document
