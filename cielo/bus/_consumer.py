"""Consuming the bus: consumer groups with acknowledgements, and a remote dispatcher.

:class:`BusConsumer` feeds one ``callback(name, doc)`` from a consumer group. At start,
and after a failure, it first re-delivers this member's entries that were delivered
but never acknowledged, then reads new ones; it acknowledges entries only after the
callback handled them and its ``flush()`` (when it has one) returned. With
``ack="run"`` a run's entries are acknowledged together once its stop document is
handled, so a consumer that dies (or whose storage fails) mid-run gets the whole run
again from its start: storage that drops an incomplete copy of a run when the run's
start arrives again ends up with each run exactly once.

When retention trimmed entries before the group read them, the consumer says so in
band: before the next document it calls the callback's ``gap(info)`` (when it has one)
with ``info = {"missed": N, "open_runs": [uids], "after": id, "before": id, "time": t}``:
the number of entries lost, the runs whose start it delivered but not yet their stop
(those are missing documents; runs wholly trimmed are simply never seen), and the ids of
the last entry delivered before the loss (``None``: none this session) and of the first
after it. The open runs' entries delivered so far are acknowledged after ``gap``
returned: the callback has settled those runs (the catalog ingest closes them as failed).

:class:`RemoteDispatcher` feeds any cielo callback in another process as if it were
subscribed to the RunEngine: ``subscribe(callback)``, then ``start()``.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ._codec import BusError
from ._transport import BusUnavailable, GroupReader, Received, Transport, iter_entries, replayable

__all__ = ["BusConsumer", "RemoteDispatcher"]

log = logging.getLogger("cielo.bus")
DocCallback = Callable[[str, dict[str, Any]], Any]


class BusConsumer:
    """Feed ``callback`` from a consumer group, acknowledging what it handled.

    :param reader: a group member (``transport.group_reader(group, consumer)``).
    :param callback: ``callback(name, doc)``; its ``flush()`` is called before entries are
        acknowledged, its ``reset()`` after it failed, its ``gap(info)`` where entries were
        lost to retention (all optional).
    :param ack: ``"batch"`` acknowledges each batch once handled; ``"run"`` acknowledges
        a run's entries when its stop document is handled (storage that must hold each
        run whole and once).
    :param on_error: ``"retry"``: a failing callback is reset and fed again from the
        oldest unacknowledged entry after ``retry_interval`` s (nothing lost);
        ``"skip"``: the failure is logged and the entry acknowledged (live views).
    :param claim_after: take over the unacknowledged entries of group members silent for
        this many seconds (members that died for good); ``None`` leaves them.
    """

    def __init__(
        self,
        reader: GroupReader,
        callback: DocCallback,
        *,
        ack: str = "batch",
        on_error: str = "retry",
        count: int = 500,
        block: float = 0.5,
        retry_interval: float = 1.0,
        claim_after: float | None = None,
    ) -> None:
        if ack not in ("batch", "run"):
            raise BusError(f"ack must be 'batch' or 'run', got {ack!r}")
        if on_error not in ("retry", "skip"):
            raise BusError(f"on_error must be 'retry' or 'skip', got {on_error!r}")
        self.reader = reader
        self.callback = callback
        self.ack_mode = ack
        self.on_error = on_error
        self.count = count
        self.block = block
        self.retry_interval = retry_interval
        self.claim_after = claim_after
        #: documents handed to the callback, entries acknowledged, failures, entries lost
        #: to retention before this group read them
        self.delivered = 0
        self.acked = 0
        self.failures = 0
        self.missed = 0
        self._cursor: str | None = "0"  # re-deliver own unacknowledged entries first
        self._open: dict[str, list[str]] = {}  # run uid -> ids not acknowledged yet
        self._started: set[str] = set()  # runs whose start was delivered, not their stop
        self._gap: dict[str, Any] | None = None  # a loss to tell the callback, in band
        self._last_id: str | None = None  # the last entry delivered
        self._stop = threading.Event()
        self._last_check = 0.0

    def step(self) -> int:
        """One read, deliver, acknowledge cycle; returns the number of entries handled."""
        self._check_missed()
        pending = self._cursor is not None
        batch = self.reader.read(self.count, self.block, pending_after=self._cursor)
        if pending:
            if not batch:
                self._cursor = None
                return 0
            self._cursor = batch[-1].id
        if not batch and self._gap is None:
            return 0
        try:
            done = self._deliver(batch)  # an empty batch: a loss to tell while idle
        except Exception as exc:
            self.failures += 1
            if self.on_error == "skip":
                log.error(
                    "bus consumer: %s failed: %s: %s (skipped)",
                    _label(self.callback),
                    type(exc).__name__,
                    exc,
                )
                self.reader.ack([r.id for r in batch])
                self.acked += len(batch)
                return len(batch)
            log.error(
                "bus consumer: %s failed: %s: %s; nothing acknowledged, retrying from the "
                "oldest unacknowledged entry in %s s",
                _label(self.callback), type(exc).__name__, exc, self.retry_interval,
            )  # fmt: skip
            self._reset()
            self._stop.wait(self.retry_interval)
            return 0
        self.reader.ack(done)
        self.acked += len(done)
        return len(batch)

    def _deliver(self, batch: list[Received]) -> list[str]:
        """Hand ``batch`` to the callback; returns the ids that may be acknowledged now."""
        callback = self.callback
        done: list[str] = []
        if self._gap is not None:
            done = self._tell_gap(batch[0].id if batch else None)
        for entry in batch:
            for name, doc in iter_entries([entry]):
                callback(name, doc)
                self.delivered += 1
            if entry.run is not None and entry.name in ("start", "stop"):
                (self._started.add if entry.name == "start" else self._started.discard)(entry.run)
            self._last_id = entry.id
        flush = getattr(callback, "flush", None)
        if callable(flush):
            flush()
        if self.ack_mode == "batch":
            return [r.id for r in batch]
        for entry in batch:
            if entry.run is None:
                done.append(entry.id)
                continue
            ids = self._open.setdefault(entry.run, [])
            ids.append(entry.id)
            if entry.name == "stop":
                done.extend(self._open.pop(entry.run))
        return done

    def _tell_gap(self, next_id: str | None) -> list[str]:
        """Tell the callback's ``gap(info)`` of the loss (the trimmed entries lie between
        ``info["after"]`` and ``info["before"]``); the runs it names as open are its
        concern from then on: their entries delivered so far may be acknowledged. Open
        runs are those started and not stopped in this session, and those whose start the
        reader found trimmed among this member's unacknowledged entries (a restart)."""
        info = self._gap or {}
        if "open_runs" not in info:
            take = getattr(self.reader, "take_lost_runs", None)
            lost = set(take()) if callable(take) else set()
            info["open_runs"] = sorted(self._started | lost)
        info.setdefault("after", self._last_id)
        info.setdefault("before", next_id)
        self._gap = info  # kept until told: a failing gap() is told again after the retry
        gap = getattr(self.callback, "gap", None)
        if callable(gap):
            gap(dict(info))
        self._gap = None
        self._started.difference_update(info["open_runs"])
        return [i for run in info["open_runs"] for i in self._open.pop(run, [])]

    def _reset(self) -> None:
        self._open.clear()
        self._started.clear()
        self._cursor = "0"
        reset = getattr(self.callback, "reset", None)
        if callable(reset):
            try:
                reset()
            except Exception as exc:
                log.error("bus consumer: reset of %s failed: %s", _label(self.callback), exc)

    def _check_missed(self) -> None:
        now = time.monotonic()
        if now - self._last_check < 1.0:
            return
        self._last_check = now
        claim = getattr(self.reader, "claim_from_idle_members", None)
        if self.claim_after is not None and callable(claim) and claim(self.claim_after):
            self._reset()  # deliver what was taken over, in stream order with our own
        missed = self.reader.missed()
        if missed > self.missed:
            log.error(
                "bus consumer: fell behind retention: %d entries were trimmed before this "
                "group read them (raise maxlen/max_age or keep_unread)",
                missed - self.missed,
            )
            lost = missed - self.missed + (self._gap or {}).get("missed", 0)
            self._gap = {**(self._gap or {}), "missed": lost, "time": time.time()}
            self.missed = missed

    def run(self, *, idle_timeout: float | None = None) -> None:
        """Consume until :meth:`stop` (or ``idle_timeout`` s pass with nothing new).

        A bus outage is logged once and waited out; nothing is acknowledged meanwhile.
        """
        self._stop.clear()
        idle_since = time.monotonic()
        down = False
        while not self._stop.is_set():
            try:
                handled = self.step()
            except BusUnavailable as exc:
                if not down:
                    log.error("bus consumer: %s; retrying every %s s", exc, self.retry_interval)
                    down = True
                self._reset()  # what was delivered but not acknowledged comes again
                self._stop.wait(self.retry_interval)
                continue
            if down:
                log.warning("bus consumer: bus reachable again")
                down = False
            if handled or self._cursor is not None:
                idle_since = time.monotonic()
            elif idle_timeout is not None and time.monotonic() - idle_since >= idle_timeout:
                return

    def stop(self) -> None:
        """Ask :meth:`run` to return after the current cycle."""
        self._stop.set()


class RemoteDispatcher:
    """Feed cielo callbacks from the bus in another process, as if subscribed to the RunEngine.

    :param transport: a bus that keeps documents (``open_transport("redis://...")``).
    :param group: join this consumer group (resumable: a restarted dispatcher continues
        where it stopped); without one, read from ``start`` and keep no position.
    :param consumer: this member's name in the group (stable across restarts).
    :param start: without a group, ``"$"`` (only new documents) or ``"0"`` (all kept).
    :param ack: in a group, ``"batch"`` acknowledges what was delivered batch by batch;
        ``"run"`` a run's documents at its stop, so a dispatcher killed mid-run gets that
        run again whole, from its start (see :class:`BusConsumer`).
    """

    def __init__(
        self,
        transport: Transport,
        *,
        group: str | None = None,
        consumer: str = "dispatcher",
        start: str = "$",
        ack: str = "batch",
    ) -> None:
        if ack not in ("batch", "run"):
            raise BusError(f"ack must be 'batch' or 'run', got {ack!r}")
        self.ack = ack
        self.transport = replayable(transport, "read back")
        self.group = group
        self.consumer = consumer
        self.start_at = start
        self._subs: dict[int, tuple[str, DocCallback]] = {}
        self._tokens = itertools.count(1)
        self._stop = threading.Event()
        self._consumer: BusConsumer | None = None
        #: callback failures (logged; the other callbacks still get every document)
        self.errors: list[tuple[str, str, BaseException]] = []

    def subscribe(self, callback: DocCallback, name: str = "all") -> int:
        """Send documents called ``name`` (or all) to ``callback(name, doc)``; returns a token."""
        if not callable(callback):
            raise TypeError(f"subscribe() needs a callable callback(name, doc), got {callback!r}")
        token = next(self._tokens)
        self._subs[token] = (name, callback)
        return token

    def unsubscribe(self, token: int) -> None:
        self._subs.pop(token)

    def __call__(self, name: str, doc: dict[str, Any]) -> None:
        for wanted, callback in list(self._subs.values()):
            if wanted in ("all", name):
                try:
                    callback(name, doc)
                except Exception as exc:
                    self.errors.append((_label(callback), name, exc))
                    log.error(
                        "remote dispatcher: %s failed on %s: %s: %s",
                        _label(callback),
                        name,
                        type(exc).__name__,
                        exc,
                    )

    def gap(self, info: dict[str, Any]) -> None:
        """Entries were lost to retention: tell the subscribers that have ``gap(info)``."""
        for _, callback in list(self._subs.values()):
            gap = getattr(callback, "gap", None)
            if callable(gap):
                try:
                    gap(info)
                except Exception as exc:
                    self.errors.append((_label(callback), "gap", exc))
                    log.error("remote dispatcher: %s failed on a gap: %s", _label(callback), exc)

    def flush(self) -> None:
        for _, callback in self._subs.values():
            flush = getattr(callback, "flush", None)
            if callable(flush):
                flush()

    def start(self, *, idle_timeout: float | None = None) -> None:
        """Deliver documents until :meth:`stop` (or ``idle_timeout`` s with nothing new)."""
        self._stop.clear()
        if self.group is not None:
            reader = self.transport.group_reader(self.group, self.consumer, start=self.start_at)
            self._consumer = BusConsumer(reader, self, ack=self.ack, on_error="skip")
            self._consumer.run(idle_timeout=idle_timeout)
            return
        idle_since = time.monotonic()
        for batch in self.transport.follow(self.start_at):
            for name, doc in iter_entries(batch):
                self(name, doc)
            if batch:
                idle_since = time.monotonic()
            if self._stop.is_set():
                return
            if idle_timeout is not None and time.monotonic() - idle_since >= idle_timeout:
                return

    def stop(self) -> None:
        """Make :meth:`start` return (within about a second)."""
        self._stop.set()
        if self._consumer is not None:
            self._consumer.stop()


def _label(callback: Any) -> str:
    return getattr(callback, "__qualname__", None) or type(callback).__name__
