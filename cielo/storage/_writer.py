"""The catalog writer: a subscriber that stores every document, batching events.

Events are grouped into pages (one row per page) and written in transactions of up to
``batch_size`` events or ``max_delay`` seconds, whichever comes first; start,
descriptor and stop documents are committed at once. A run is durable when its stop
document has been written; if the process dies first, what was committed stays and the
run shows as ``incomplete``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from ._columnar import encode_page
from ._documents import RunRouter, dumps, pack_events, unpack_event_page, unstorable
from ._errors import CatalogError
from ._schema import KeyRows, flatten_metadata, strict_meta

if TYPE_CHECKING:
    from ._catalog import Catalog

__all__ = ["CatalogWriter", "ORDER_KEY"]

#: Key of a stored page of events that holds each event's place in the run (stripped
#: when the page is read back), so :meth:`Run.documents` restores the exact order.
ORDER_KEY = "_cielo_ord"
#: Key of a stored page of events that holds the order of an event's keys, when it is
#: not the order pages are unpacked in (replay gives each event as it was written).
KEYS_KEY = "_cielo_keys"
_UNPACKED = ["descriptor", "uid", "seq_num", "time", "data", "timestamps"]

log = logging.getLogger(__name__)
Document = dict[str, Any]

_INSERT_RUN = (
    "INSERT INTO runs (uid, scan_id, time, plan_name, start, text) "
    "VALUES (?, ?, ?, ?, ?, ?) RETURNING id"
)
_INSERT_RUN_PG = (
    "INSERT INTO runs (uid, scan_id, time, plan_name, start, text, meta, keys) "
    "VALUES (?, ?, ?, ?, ?, ?, CAST(? AS JSONB), CAST(? AS BIGINT[])) RETURNING id"
)
_INSERT_DOC = (
    "INSERT INTO documents (run_id, ord, name, uid, ref, first_seq, last_seq, doc, data) "
    "VALUES ((SELECT id FROM runs WHERE uid = ?), ?, ?, ?, ?, ?, ?, ?, ?)"
)


def payload(page: Document, ref: str) -> tuple[str, bytes | None]:
    """``(doc, data)`` of a stored page of events of descriptor ``ref`` (its row's
    ``ref``): its columns (``data``, schemas 8 and up), or its JSON when it has a single
    event."""
    blob = encode_page(page, ref)
    return ("", blob) if blob is not None else (dumps(page), None)


def stored_page(events: list[Document], ords: list[int]) -> Document:
    """The page of ``events`` (of one descriptor, the same data keys) as the catalog
    stores it: with each event's place in the run and, if needed, its keys' order."""
    page = pack_events(events)
    page[ORDER_KEY] = ords
    order = list(events[0])
    if order != _UNPACKED + (["filled"] if "filled" in page else []):
        page[KEYS_KEY] = order
    return page


class _Page:
    """Events of one descriptor waiting to be written as one row (packed when written)."""

    __slots__ = ("descriptor", "keys", "events", "ords")

    def __init__(self, descriptor: str, event: Document) -> None:
        self.descriptor = descriptor
        self.keys = event["data"].keys()
        self.events: list[Document] = []
        self.ords: list[int] = []  # each event's place among the run's documents

    def row(self, run_uid: str) -> tuple[Any, ...]:
        page = stored_page(self.events, self.ords)
        seq = page["seq_num"]
        return (
            run_uid,
            self.ords[0],
            "events",
            None,
            self.descriptor,
            seq[0],
            seq[-1],
            *payload(page, self.descriptor),
        )


class _RunWriter:
    """The documents of one run, numbered in arrival order."""

    def __init__(self, writer: CatalogWriter, start: Document) -> None:
        self.writer = writer
        self.uid = start["uid"]
        self.ord = 0
        self.pages: dict[str, _Page] = {}
        self.num_events: dict[str, int] = {}
        self.stream_of: dict[str, str] = {}
        self.refused = 0  # events not stored (values a catalog cannot hold)
        self.skip = writer._insert_run(start)

    def __call__(self, name: str, doc: Document) -> None:
        if self.skip or name == "start":
            return  # the run row was written when this writer was made
        self.ord += 1
        w = self.writer
        if name == "event":
            problem = _unstorable_event(doc)
            if problem:
                self.refused += 1
                raise CatalogError(
                    f"run {self.uid}: event {doc.get('seq_num')} of stream "
                    f"{self.stream_of.get(doc['descriptor'], '?')!r} was not stored: {problem}; "
                    "the device must give numbers, strings, booleans or arrays of them"
                )
            descriptor = doc["descriptor"]
            page = self.pages.get(descriptor)
            if page is None or page.keys != doc["data"].keys():
                if page is not None:
                    w._rows.append(page.row(self.uid))
                page = self.pages[descriptor] = _Page(descriptor, doc)
            page.events.append(doc)
            page.ords.append(self.ord)
            w._pending_events += 1
            self.num_events[descriptor] = self.num_events.get(descriptor, 0) + 1
        elif name == "event_page":
            if _unstorable_event(doc):
                self.ord -= 1  # store the page's good events one by one, refuse the others
                self._events_one_by_one(doc)
                return
            self._close_page(doc["descriptor"])
            seq = doc["seq_num"]
            n = len(seq)
            if n:
                row = (
                    self.uid, self.ord, "event_page", None, doc["descriptor"], seq[0], seq[-1],
                    *payload(doc, doc["descriptor"]),
                )  # fmt: skip
                w._rows.append(row)
                w._pending_events += n
                self.num_events[doc["descriptor"]] = self.num_events.get(doc["descriptor"], 0) + n
        elif name == "stop":
            w._stop(self, doc)
            return
        else:
            uid, ref = _identity(name, doc)
            problem = unstorable(doc, name, text=False)
            if problem:
                raise CatalogError(f"run {self.uid}: a {name} document was not stored: {problem}")
            if name == "descriptor":
                self.stream_of[doc["uid"]] = doc.get("name", "primary")
            w._rows.append((self.uid, self.ord, name, uid, ref, None, None, dumps(doc), None))
        w._maybe_flush(urgent=name == "descriptor")

    def _events_one_by_one(self, page: Document) -> None:
        errors = []
        for event in unpack_event_page(page):
            try:
                self("event", event)
            except CatalogError as exc:
                errors.append(str(exc))
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise CatalogError(errors[0] + more)

    def _close_page(self, descriptor: str) -> None:
        page = self.pages.pop(descriptor, None)
        if page is not None and page.events:
            self.writer._rows.append(page.row(self.uid))

    def take_pages(self) -> None:
        for descriptor in list(self.pages):
            self._close_page(descriptor)


def _unstorable_event(doc: Document) -> str | None:
    """What in an event (or a page of them) JSON cannot hold, if anything."""
    return unstorable(doc["data"], "data", text=False) or unstorable(
        doc["timestamps"], "timestamps", text=False
    )


def _identity(name: str, doc: Document) -> tuple[str | None, str | None]:
    if name == "descriptor":
        return doc["uid"], doc.get("name", "primary")
    if name == "datum":
        return doc["datum_id"], doc["resource"]
    if name == "datum_page":
        return None, doc["resource"]
    if name == "stream_datum":
        return doc["uid"], doc["descriptor"]
    if name in ("resource", "stream_resource"):
        return doc["uid"], None
    raise CatalogError(f"catalog writer: unknown document name {name!r}")


class CatalogWriter:
    """``callback(name, doc)`` storing every run it sees in a catalog.

    :param catalog: the :class:`~cielo.storage.Catalog` to write to.
    :param batch_size: events per transaction (more is faster, less is fresher).
    :param max_delay: seconds an event may wait before it is committed.
    :param on_duplicate: ``"error"`` (a run already stored is refused) or ``"skip"``.
    :param durable: commit each start and stop document at once (live writing); with
        ``False`` (bulk import) everything is committed in batches and at :meth:`close`.
    """

    def __init__(
        self,
        catalog: Catalog,
        *,
        batch_size: int = 5000,
        max_delay: float = 0.5,
        on_duplicate: str = "error",
        durable: bool = True,
    ) -> None:
        if on_duplicate not in ("error", "skip"):
            raise CatalogError(f"on_duplicate must be 'error' or 'skip', not {on_duplicate!r}")
        self.catalog = catalog
        self.db = catalog.db
        self._pg = self.db.dialect.name == "postgresql"
        self.batch_size = int(batch_size)
        self.max_delay = float(max_delay)
        self.on_duplicate = on_duplicate
        self.durable = durable
        self.skipped: list[str] = []
        self._runs: dict[str, _RunWriter] = {}
        self._router = RunRouter(self._open_run, name=f"CatalogWriter({catalog.uri!r})")
        self._rows: list[tuple[Any, ...]] = []
        self._new_runs: list[tuple[Any, ...]] = []
        self._new_keys: list[list[tuple[Any, ...]]] = []
        self._stops: list[tuple[Any, ...]] = []
        self._seen: set[str] = set()
        self._pending_events = 0
        self._since = 0.0
        self._lock = threading.RLock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def __repr__(self) -> str:  # how the engine names it in RE.callback_errors and logs
        return f"CatalogWriter({self.catalog.uri!r})"

    # -- the callback ---------------------------------------------------------------
    def __call__(self, name: str, doc: Document) -> None:
        with self._lock:
            if self._error is not None:
                error, self._error = self._error, None
                raise CatalogError(f"catalog writer failed in the background: {error}") from error
            if self._closed.is_set():
                raise CatalogError("this catalog writer is closed")
            if not (self._rows or self._pending_events or self._new_runs):
                self._since = time.monotonic()
            self._router(name, doc)
            if self.max_delay > 0 and self._thread is None:
                self._thread = threading.Thread(
                    target=self._background, name="cielo-catalog-writer", daemon=True
                )
                self._thread.start()

    def _open_run(self, start: Document) -> _RunWriter:
        run = _RunWriter(self, start)
        if not run.skip:
            self._runs[run.uid] = run
        return run

    # -- writing --------------------------------------------------------------------
    def _insert_run(self, start: Document) -> bool:
        """Queue the run row (committed at once when durable); True if the run is skipped."""
        uid = start["uid"]
        problem = unstorable(start, "start")
        if problem:
            raise CatalogError(
                f"run {uid} was not stored: {problem}; change that metadata and run again"
            )
        if uid in self._seen or self.db.query("SELECT 1 FROM runs WHERE uid = ?", (uid,)):
            if self.on_duplicate == "skip":
                self.skipped.append(uid)
                return True
            raise CatalogError(f"run {uid} is already in catalog {self.catalog.uri}")
        self._seen.add(uid)
        keys, text = flatten_metadata(start)
        start_text = dumps(start)
        run: tuple[Any, ...] = (
            uid,
            start.get("scan_id"),
            start["time"],
            start.get("plan_name"),
            start_text,
            text,
        )
        if self._pg:  # JSONB cannot read NaN: such a start is indexed from a strict copy
            run += (strict_meta(start_text),)
        self._new_runs.append(run)
        self._new_keys.append(keys)
        if self.durable:
            self.flush()
        return False

    def _maybe_flush(self, urgent: bool = False) -> None:
        if (
            (urgent and self.durable)
            or self._pending_events >= self.batch_size
            or len(self._rows) >= self.batch_size
        ):
            self.flush()

    def flush(self) -> None:
        """Commit everything buffered (open event pages included), in one transaction."""
        with self._lock:
            for run in self._runs.values():
                run.take_pages()
            self._write()

    def _write(self) -> None:
        runs, self._new_runs = self._new_runs, []
        keys, self._new_keys = self._new_keys, []
        rows, self._rows, self._pending_events = self._rows, [], 0
        stops, self._stops = self._stops, []
        if not (runs or rows or stops):
            return
        db = self.db
        key_rows = KeyRows.of(db)
        key_rows.resolve((k, e, t) for run_keys in keys for k, e, t, _, _ in run_keys)
        with db.transaction():
            for run, run_keys in zip(runs, keys, strict=True):
                if self._pg:  # (the hashes of its strings, booleans and None)
                    run = (*run, key_rows.hashes(run_keys))
                ((run_id,),) = db.query(_INSERT_RUN_PG if self._pg else _INSERT_RUN, run)
                db.executemany(key_rows.insert, key_rows.rows(run_id, run_keys))
            db.executemany(_INSERT_DOC, rows)
            db.executemany(
                "UPDATE runs SET exit_status = ?, stop_time = ?, num_events = ?, stop = ? WHERE uid = ?",
                stops,
            )

    def _stop(self, run: _RunWriter, doc: Document) -> None:
        run.take_pages()
        num_events = doc.get("num_events") or {}
        total = sum(run.num_events.values())  # what was stored
        if num_events and not run.refused:
            total = sum(num_events.values())
        self._stops.append((doc.get("exit_status"), doc.get("time"), total, dumps(doc), run.uid))
        self._runs.pop(run.uid, None)
        if self.durable or len(self._stops) >= self.batch_size:
            self._write()

    def _background(self) -> None:
        while not self._closed.wait(self.max_delay / 2):
            with self._lock:
                stale = (self._rows or self._pending_events or self._new_runs) and (
                    time.monotonic() - self._since >= self.max_delay
                )
                if not stale:
                    continue
                try:
                    self.flush()
                except BaseException as exc:  # reported at the next document
                    log.exception("catalog writer: background flush failed")
                    self._error = exc

    # -- lifecycle ------------------------------------------------------------------
    def close(self) -> None:
        """Write what is buffered and stop the background flusher (runs left open stay incomplete)."""
        with self._lock:
            if self._closed.is_set():
                return
            self.flush()
            self._closed.set()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> CatalogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
