"""One stored run: its documents, its streams as tables and labelled arrays."""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ._columnar import decode_page
from ._documents import unpack_datum_page, unpack_event_page
from ._errors import ExternalDataError
from ._writer import KEYS_KEY, ORDER_KEY

if TYPE_CHECKING:
    from ._catalog import Catalog

__all__ = ["Run", "Stream"]

Document = dict[str, Any]
INCOMPLETE = "incomplete"
#: The condition on ``documents`` selecting those of the run whose uid is bound.
RUN_DOCUMENTS = "run_id = (SELECT id FROM runs WHERE uid = ?)"


class Run:
    """A run in a catalog: ``.start``, ``.stop``, ``.descriptors``, streams by name.

    ``run["primary"].read()`` gives the primary stream as a pandas table;
    ``run.documents()`` yields every ``(name, doc)`` in the order they were made.
    """

    def __init__(self, catalog: Catalog, start: Document, stop: Document | None) -> None:
        self.catalog = catalog
        self.start = start
        self.stop = stop
        self.uid: str = start["uid"]

    def __repr__(self) -> str:
        return (
            f"<Run {self.uid[:8]} scan_id={self.start.get('scan_id')} "
            f"plan={self.start.get('plan_name')!r} {self.exit_status}>"
        )

    @property
    def exit_status(self) -> str:
        """The stop document's exit status, or ``"incomplete"`` when there is none."""
        return self.stop.get("exit_status", INCOMPLETE) if self.stop else INCOMPLETE

    @property
    def metadata(self) -> dict[str, Any]:
        return {"start": self.start, "stop": self.stop}

    def _rows(self, names: Sequence[str], ref: str | None = None) -> list[tuple[Any, ...]]:
        marks = ", ".join("?" for _ in names)
        sql = f"SELECT name, doc FROM documents WHERE {RUN_DOCUMENTS} AND name IN ({marks})"
        params: list[Any] = [self.uid, *names]
        if ref is not None:
            sql += " AND ref = ?"
            params.append(ref)
        return self.catalog.db.query(sql + " ORDER BY ord", params)

    @property
    def descriptors(self) -> list[Document]:
        return [json.loads(doc) for _, doc in self._rows(["descriptor"])]

    @property
    def stream_names(self) -> list[str]:
        names: list[str] = []
        for d in self.descriptors:
            if d.get("name", "primary") not in names:
                names.append(d.get("name", "primary"))
        return names

    def __getitem__(self, stream: str) -> Stream:
        descriptors = [d for d in self.descriptors if d.get("name", "primary") == stream]
        if not descriptors:
            raise KeyError(
                f"run {self.uid} has no stream {stream!r}; streams: {self.stream_names or 'none'}"
            )
        return Stream(self, stream, descriptors)

    def __contains__(self, stream: object) -> bool:
        return stream in self.stream_names

    def __iter__(self) -> Iterator[str]:
        return iter(self.stream_names)

    def documents(self, *, pages: bool = False) -> Iterator[tuple[str, Document]]:
        """Every document in the order it was made; events stored as pages come back
        as single events (with ``pages=True``, as ``event_page`` documents, each at the
        place of its first event)."""
        yield "start", self.start
        db = self.catalog.db
        pending: list[tuple[int, int, str, Document]] = []  # a heap by place in the run
        tie = 0
        last = -1
        while True:  # in chunks, so a long run is never held in memory at once
            rows = db.query(
                f"SELECT ord, name, doc, data, ref FROM documents WHERE {RUN_DOCUMENTS} AND ord > ? "
                "ORDER BY ord LIMIT 500",
                (self.uid, last),
            )
            for first, name, text, data, ref in rows:
                while pending and pending[0][0] < first:  # nothing later can come before
                    item = heapq.heappop(pending)
                    yield item[2], item[3]
                doc = _load(text, data, ref)
                if name == "events":
                    ords = doc.pop(ORDER_KEY, None)
                    order = doc.pop(KEYS_KEY, None)
                    if pages or ords is None:
                        heapq.heappush(pending, (first, tie, "event_page", doc))
                        tie += 1
                    else:
                        for place, event in zip(ords, _events(doc, order), strict=True):
                            heapq.heappush(pending, (place, tie, "event", event))
                            tie += 1
                else:
                    heapq.heappush(pending, (first, tie, name, doc))
                    tie += 1
                last = first
            if len(rows) < 500:
                break
        while pending:
            item = heapq.heappop(pending)
            yield item[2], item[3]
        if self.stop is not None:
            yield "stop", self.stop

    def replay(self, *callbacks: Callable[[str, Document], Any]) -> int:
        """Feed the run's documents in order to callbacks (as live); return the count."""
        n = 0
        for name, doc in self.documents():
            for callback in callbacks:
                callback(name, doc)
            n += 1
        return n


class Stream:
    """One stream of a run (``"primary"``, ``"baseline"``, ...)."""

    def __init__(self, run: Run, name: str, descriptors: list[Document]) -> None:
        self.run = run
        self.name = name
        self.descriptors = descriptors
        self.data_keys: dict[str, Document] = {}
        for d in descriptors:
            self.data_keys.update(d["data_keys"])

    def __repr__(self) -> str:
        return f"<Stream {self.name!r} of run {self.run.uid[:8]}: {', '.join(self.data_keys)}>"

    def _pages(self, first: int | None, last: int | None) -> Iterator[Document]:
        db = self.run.catalog.db
        for d in self.descriptors:
            sql = (
                f"SELECT doc, data FROM documents WHERE {RUN_DOCUMENTS} "
                "AND name IN ('events', 'event_page') AND ref = ?"
            )
            params: list[Any] = [self.run.uid, d["uid"]]
            if first is not None:
                sql += " AND last_seq >= ?"
                params.append(first)
            if last is not None:
                sql += " AND first_seq <= ?"
                params.append(last)
            for text, data in db.query(sql + " ORDER BY ord", params):
                yield _load(text, data, d["uid"])

    def columns(
        self,
        columns: Iterable[str] | None = None,
        *,
        fill: bool = True,
        first: int | None = None,
        last: int | None = None,
    ) -> dict[str, Any]:
        """``{"seq_num", "time", key: values}``: numpy arrays (or lists of arrays).

        :param columns: data keys to read (default all); unknown keys are an error.
        :param fill: replace references to external data by the arrays they point to.
        :param first, last: only events with ``first <= seq_num <= last``.
        """
        import numpy as np

        keys = list(self.data_keys) if columns is None else list(columns)
        unknown = [k for k in keys if k not in self.data_keys]
        if unknown:
            raise KeyError(
                f"stream {self.name!r} has no data key(s) {unknown}; keys: {list(self.data_keys)}"
            )
        seq: list[int] = []
        times: list[float] = []
        values: dict[str, list[Any]] = {k: [] for k in keys}
        for page in self._pages(first, last):
            lo, hi = 0, len(page["seq_num"])
            if first is not None or last is not None:
                sel = [
                    i
                    for i, s in enumerate(page["seq_num"])
                    if (first is None or s >= first) and (last is None or s <= last)
                ]
                lo, hi = (sel[0], sel[-1] + 1) if sel else (0, 0)
            seq += page["seq_num"][lo:hi]
            times += page["time"][lo:hi]
            data = page["data"]
            for k in keys:
                column = data.get(k)
                values[k] += column[lo:hi] if column is not None else [None] * (hi - lo)
        order = np.argsort(np.asarray(seq, dtype=np.int64), kind="stable")
        out: dict[str, Any] = {
            "seq_num": np.asarray(seq, dtype=np.int64)[order],
            "time": np.asarray(times, dtype=float)[order],
        }
        externals = [k for k in keys if self.data_keys[k].get("external")]
        for k in keys:
            if k in externals and fill:
                out[k] = self._fill(k, values[k], out["seq_num"])
            else:
                column = [values[k][i] for i in order]
                out[k] = _as_array(column)
        return out

    def read(self, columns: Iterable[str] | None = None, **options: Any) -> Any:
        """The stream as a :class:`pandas.DataFrame`: one column per data key, plus ``time``,
        indexed by ``seq_num``; array-valued keys hold one array per row."""
        import pandas as pd

        data = self.columns(columns, **options)
        seq = data.pop("seq_num")
        frame = {k: (list(v) if getattr(v, "ndim", 1) > 1 else v) for k, v in data.items()}
        return pd.DataFrame(frame, index=pd.Index(seq, name="seq_num"))

    def to_xarray(self, columns: Iterable[str] | None = None, **options: Any) -> Any:
        """The stream as an :class:`xarray.Dataset` along dimension ``time``."""
        import numpy as np
        import xarray as xr

        data = self.columns(columns, **options)
        seq, times = data.pop("seq_num"), data.pop("time")
        variables = {}
        for k, v in data.items():
            arr = np.asarray(v) if not isinstance(v, list) else np.stack(v)
            dims = ["time"] + [f"{k}_dim_{i}" for i in range(arr.ndim - 1)]
            attrs = {a: b for a, b in self.data_keys[k].items() if isinstance(b, (str, int, float))}
            variables[k] = xr.Variable(dims, arr, attrs=attrs)
        return xr.Dataset(variables, coords={"time": times, "seq_num": ("time", seq)})

    def iter_tables(
        self, chunk: int = 10_000, columns: Iterable[str] | None = None
    ) -> Iterator[Any]:
        """The stream in tables of about ``chunk`` events, for runs too big to read at once."""
        cols = list(columns) if columns is not None else None
        rows = self.run.catalog.db.query(
            f"SELECT MIN(first_seq), MAX(last_seq) FROM documents WHERE {RUN_DOCUMENTS} "
            f"AND name IN ('events', 'event_page') AND ref IN ({', '.join('?' for _ in self.descriptors)})",
            [self.run.uid, *(d["uid"] for d in self.descriptors)],
        )
        lo, hi = rows[0]
        if lo is None:
            return
        for first in range(lo, hi + 1, chunk):
            yield self.read(cols, first=first, last=first + chunk - 1)

    # -- external data ----------------------------------------------------------------
    def _fill(self, key: str, refs: list[Any], seq_nums: Any) -> Any:
        source = self.data_keys[key].get("external", "")
        registry = self.run.catalog.readers
        if str(source).startswith("STREAM:"):
            return self._fill_stream(key, seq_nums, registry)
        datums: dict[str, Document] = {}
        resources: dict[str, Document] = {}
        for name, text in self.run._rows(["datum", "datum_page", "resource"]):
            doc = json.loads(text)
            if name == "resource":
                resources[doc["uid"]] = doc
            elif name == "datum":
                datums[doc["datum_id"]] = doc
            else:
                datums.update((d["datum_id"], d) for d in unpack_datum_page(doc))
        out = []
        for datum_id in refs:
            datum = datums.get(datum_id)
            if datum is None:
                raise ExternalDataError(
                    f"data key {key!r}: datum {datum_id!r} is not in run {self.run.uid}"
                )
            resource = resources.get(datum["resource"])
            if resource is None:
                raise ExternalDataError(
                    f"data key {key!r}: resource {datum['resource']} is not in run {self.run.uid}"
                )
            out.append(registry.reader(resource).read_datum(**datum["datum_kwargs"]))
        return _as_array(out)

    def _fill_stream(self, key: str, seq_nums: Any, registry: Any) -> Any:
        import numpy as np

        resources = {
            doc["uid"]: doc
            for doc in (json.loads(t) for _, t in self.run._rows(["stream_resource"]))
            if doc.get("data_key") == key
        }
        by_seq: dict[int, Any] = {}
        lo, hi = (int(seq_nums.min()), int(seq_nums.max())) if len(seq_nums) else (0, -1)
        for d in self.descriptors:
            for _, text in self.run._rows(["stream_datum"], ref=d["uid"]):
                sd = json.loads(text)
                resource = resources.get(sd["stream_resource"])
                if resource is None:
                    continue  # a stream_datum of another data key
                idx, seqs = sd["indices"], sd["seq_nums"]
                if seqs["stop"] <= lo or seqs["start"] > hi:
                    continue  # frames of events not asked for: not read
                frames = registry.reader(resource).read(idx["start"], idx["stop"])
                for i, s in enumerate(range(seqs["start"], seqs["stop"])):
                    by_seq[s] = frames[i]
        missing = [int(s) for s in seq_nums if int(s) not in by_seq]
        if missing:
            raise ExternalDataError(
                f"data key {key!r} of stream {self.name!r}: no stream_datum covers "
                f"seq_num(s) {missing[:10]} in run {self.run.uid}"
            )
        shape = tuple(self.data_keys[key].get("shape") or ())
        frames = [np.asarray(by_seq[int(s)]) for s in seq_nums]
        if shape and all(f.size == int(np.prod(shape)) and f.shape != shape for f in frames):
            frames = [f.reshape(shape) for f in frames]  # as the descriptor declares it
        return _as_array(frames)


def _events(page: Document, order: list[str] | None) -> Iterator[Document]:
    """The events of a stored page, each with its keys in the order it was written."""
    if order is None:
        yield from unpack_event_page(page)
        return
    for event in unpack_event_page(page):
        yield {k: event[k] for k in order if k in event}


def _load(text: str, data: bytes | None, ref: str | None) -> Document:
    """A stored document: its JSON, or the columns of a page of events (schema 8 and up;
    ``ref``: its row's descriptor)."""
    return json.loads(text) if data is None else decode_page(bytes(data), ref)


def _as_array(column: list[Any]) -> Any:
    """A numpy array when the values stack, else the list of values."""
    import numpy as np

    if not column:
        return np.asarray(column)
    try:
        arr = np.asarray(column)
    except ValueError:
        return [np.asarray(v) for v in column]
    if arr.dtype == object:
        return column
    return arr
