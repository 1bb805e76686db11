"""The publisher: a RunEngine subscriber that sends every document to a bus, never stalling.

``publisher(name, doc)`` only appends to a bounded outbox and returns; a sender thread
takes whatever is waiting, packs runs of single events into event pages (only events
already waiting: a run's stop is never held back for more) and hands the batch to the
transport. When the bus is down the outbox keeps filling, the outage is logged once
at ERROR with the bound, and sending resumes by itself. Past ``max_buffer`` documents,
event-like documents (events, pages, datums) are dropped and counted in
:attr:`Publisher.lost` (logged at ERROR); start, descriptor, resource and stop documents
are always kept, so every consumer still sees each run open and close.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import deque
from itertools import islice
from typing import Any

from cielo.core import pack_events

from ._transport import BusUnavailable, Entry, Transport

__all__ = ["Publisher"]

log = logging.getLogger("cielo.bus")
Document = dict[str, Any]

#: documents dropped first when the outbox is full (many per run, each one small)
_DROPPABLE = frozenset({"event", "event_page", "datum", "datum_page", "stream_datum"})
#: the field that links each kind of document to the document it belongs to
_PARENT = {
    "descriptor": "run_start",
    "resource": "run_start",
    "stream_resource": "run_start",
    "stop": "run_start",
    "event": "descriptor",
    "event_page": "descriptor",
    "datum": "resource",
    "datum_page": "resource",
    "stream_datum": "stream_resource",
}
_OPEN: weakref.WeakSet[Publisher] = weakref.WeakSet()


class Publisher:
    """Publish every document of every run to ``transport``; use it as a context manager.

    :param transport: where documents go (see :func:`cielo.bus.open_transport`).
    :param pack_events: send consecutive single events of one descriptor as one event
        page (consumers unpack them again, so they see the events the engine emitted);
        by default when the transport says its readers unpack (``packs_events``).
    :param max_buffer: documents kept while the bus is unreachable or slow; beyond it,
        event-like documents are dropped and counted in :attr:`lost`.
    :param max_batch: documents handed to the transport at once.
    :param retry_interval: seconds between attempts while the bus is down.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        pack_events: bool | None = None,
        max_buffer: int = 100_000,
        max_batch: int = 1000,
        retry_interval: float = 1.0,
    ) -> None:
        if max_buffer < 1 or max_batch < 1:
            raise ValueError(
                f"max_buffer and max_batch must be >= 1, got {max_buffer}, {max_batch}"
            )
        self.transport = transport
        self.pack_events = (
            bool(getattr(transport, "packs_events", False)) if pack_events is None else pack_events
        )
        self.max_buffer = max_buffer
        self.max_batch = max_batch
        self.retry_interval = retry_interval
        #: documents sent, documents lost (dropped past the bound or unsendable), outages seen
        self.published = 0
        self.lost = 0
        self.outages = 0
        self._outbox: deque[tuple[str, Document]] = deque()
        self._cv = threading.Condition(threading.Lock())
        self._sending = 0  # documents taken from the outbox and not yet sent
        self._closing = False
        self._idle = False  # the sender waits for documents (only then is it woken)
        self._down_since: float | None = None
        self._lost_in_outage = 0
        self._links: dict[str, str] = {}  # descriptor/resource/... uid -> run uid
        self._run_keys: dict[str, list[str]] = {}  # run uid -> its keys in _links
        self._thread = threading.Thread(
            target=self._send_loop, name="cielo-bus-publisher", daemon=True
        )
        self._thread.start()
        _OPEN.add(self)

    def __repr__(self) -> str:
        return f"<Publisher to {self.transport.uri} ({self.published} sent, {self.lost} lost)>"

    # -- the subscriber (the engine's delivery thread) ------------------------------
    def __call__(self, name: str, doc: Document) -> None:
        with self._cv:
            if self._closing:
                self.lost += 1
                log.error(
                    "bus %s: %s document after close() is not published", self.transport.uri, name
                )
                return
            if len(self._outbox) >= self.max_buffer and name in _DROPPABLE:
                self.lost += 1
                self._lost_in_outage += 1
                if self._lost_in_outage == 1:
                    log.error(
                        "bus %s: %d documents are waiting (max_buffer); dropping events and "
                        "datums until the bus catches up (counted in publisher.lost)",
                        self.transport.uri,
                        self.max_buffer,
                    )
                return
            self._outbox.append((name, doc))
            if self._idle:
                self._cv.notify()

    @property
    def buffered(self) -> int:
        """Documents waiting to be sent."""
        return len(self._outbox)

    # -- the sender thread ------------------------------------------------------------
    def _send_loop(self) -> None:
        batch: list[Entry] | None = None  # made once per batch: retries send the same entries
        taken = 0
        while True:
            with self._cv:
                while not self._outbox and not self._closing:
                    self._idle = True
                    self._cv.wait()
                    self._idle = False
                if not self._outbox:
                    return
                if batch is None:
                    docs = list(islice(self._outbox, self.max_batch))
                    taken = self._sending = len(docs)
            try:
                if batch is None:
                    batch = self._entries(docs)
                self._send(batch)
            except BusUnavailable as exc:
                self._outage(exc)
                with self._cv:
                    self._cv.notify_all()
                    self._cv.wait(self.retry_interval)
                continue
            except Exception as exc:  # malformed documents: never let the sender die
                self.lost += taken
                log.exception(
                    "bus %s: %d documents not published: %s", self.transport.uri, taken, exc
                )
            else:
                self.published += taken
            with self._cv:
                for _ in range(min(taken, len(self._outbox))):  # close() may have cleared it
                    self._outbox.popleft()
                self._sending = 0
                self._cv.notify_all()
            batch = None
            self._recovered()

    def _send(self, entries: list[Entry]) -> None:
        try:
            self.transport.publish(entries)
        except BusUnavailable:
            raise
        except Exception:  # one unsendable document must not hold back the others
            for entry in entries:
                try:
                    self.transport.publish([entry])
                except BusUnavailable:
                    raise
                except Exception as exc:
                    self.lost += 1
                    log.error(
                        "bus %s: cannot publish %s document %s: %s: %s",
                        self.transport.uri,
                        entry.name,
                        entry.doc.get("uid"),
                        type(exc).__name__,
                        exc,
                    )

    def _entries(self, docs: list[tuple[str, Document]]) -> list[Entry]:
        entries: list[Entry] = []
        i = 0
        while i < len(docs):
            name, doc = docs[i]
            run = self._run_of(name, doc)
            j = i + 1
            data = doc.get("data")
            if name == "event" and self.pack_events and isinstance(data, dict):
                while j < len(docs) and docs[j][0] == "event":
                    nxt = docs[j][1]
                    nxt_data = nxt.get("data")
                    if nxt.get("descriptor") != doc.get("descriptor") or not (
                        isinstance(nxt_data, dict) and nxt_data.keys() == data.keys()
                    ):
                        break
                    j += 1
            if j - i > 1:
                try:
                    page = pack_events([d for _, d in docs[i:j]])
                except (KeyError, TypeError, ValueError):  # not packable: send them as they are
                    j = i + 1
                else:
                    entries.append(Entry("event_page", page, run, True))
                    i = j
                    continue
            entries.append(Entry(name, doc, run))
            i = j
        return entries

    def _run_of(self, name: str, doc: Document) -> str | None:
        if name == "start":
            return doc.get("uid")
        parent = doc.get(_PARENT.get(name, ""))
        run = parent if name in ("descriptor", "resource", "stream_resource", "stop") else None
        if run is None and isinstance(parent, str):
            run = self._links.get(parent)
        if name in ("descriptor", "resource", "stream_resource") and run and "uid" in doc:
            self._links[doc["uid"]] = run
            self._run_keys.setdefault(run, []).append(doc["uid"])
        elif name == "stop" and run:
            for key in self._run_keys.pop(run, ()):
                self._links.pop(key, None)
        return run

    def _outage(self, exc: BaseException) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            self.outages += 1
            log.error(
                "bus %s unreachable (%s); keeping up to %d documents and retrying every %s s",
                self.transport.uri,
                exc,
                self.max_buffer,
                self.retry_interval,
            )

    def _recovered(self) -> None:
        if self._down_since is not None or self._lost_in_outage:
            down = 0.0 if self._down_since is None else time.monotonic() - self._down_since
            log.warning(
                "bus %s: publishing again after %.1f s; %d documents were lost meanwhile",
                self.transport.uri,
                down,
                self._lost_in_outage,
            )
            self._down_since = None
            self._lost_in_outage = 0

    # -- lifecycle ----------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every document handed over so far is sent; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cv:
            while self._outbox:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cv.wait(0.2 if remaining is None else min(remaining, 0.2))
        return True

    def close(self, timeout: float | None = 10.0) -> None:
        """Send what is waiting (up to ``timeout`` s), then stop; what is left counts as lost."""
        if self._closing:
            return
        sent = self.flush(timeout)
        with self._cv:
            self._closing = True
            left = len(self._outbox)
            self._outbox.clear()
            self._cv.notify_all()
        self._thread.join(timeout=max(self.retry_interval, 1.0) + 5.0)
        if not sent and left:
            self.lost += left
            log.error(
                "bus %s: closing with %d documents unsent after %s s; they are lost",
                self.transport.uri,
                left,
                timeout,
            )
        _OPEN.discard(self)
        self.transport.close()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@atexit.register
def _close_open_publishers() -> None:
    """At interpreter exit, give every open publisher a moment to send what it holds."""
    for publisher in list(_OPEN):
        publisher.close(timeout=5.0)
