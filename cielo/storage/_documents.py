"""Helpers over event-model documents: JSON-safe encoding, event pages, per-run routing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from cielo.core import DOCUMENT_NAMES  # the event model's document names

__all__ = [
    "DOCUMENT_NAMES",
    "RunRouter",
    "dumps",
    "jsonable",
    "pack_events",
    "unpack_event_page",
    "unpack_datum_page",
]


Document = dict[str, Any]


def jsonable(value: Any) -> Any:
    """``json.dumps`` ``default=``: numpy arrays and scalars become lists and numbers."""
    tolist = getattr(value, "tolist", None)
    if tolist is not None:
        return tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"cannot store a {type(value).__name__} in a document: {value!r}")


_ENCODER = json.JSONEncoder(default=jsonable, separators=(",", ":"), allow_nan=True)


def dumps(doc: Any) -> str:
    """Compact JSON for a document (numpy values converted)."""
    return _ENCODER.encode(doc)


def pack_events(events: Iterable[Mapping[str, Any]]) -> Document:
    """One event_page holding ``events`` (all of one descriptor, same data keys)."""
    events = list(events)
    if not events:
        raise ValueError("pack_events needs at least one event")
    keys = list(events[0]["data"])
    page: Document = {
        "descriptor": events[0]["descriptor"],
        "uid": [ev["uid"] for ev in events],
        "time": [ev["time"] for ev in events],
        "seq_num": [ev["seq_num"] for ev in events],
        "data": {k: [ev["data"][k] for ev in events] for k in keys},
        "timestamps": {k: [ev["timestamps"][k] for ev in events] for k in keys},
    }
    filled_keys = {k for ev in events for k in ev.get("filled", {})}
    if filled_keys or any("filled" in ev for ev in events):
        page["filled"] = {
            k: [ev.get("filled", {}).get(k, False) for ev in events] for k in filled_keys
        }
    return page


def unpack_event_page(page: Mapping[str, Any]) -> Iterator[Document]:
    """The events of an event_page, one by one."""
    data, timestamps = page["data"], page["timestamps"]
    filled = page.get("filled")
    descriptor = page["descriptor"]
    for i, uid in enumerate(page["uid"]):
        event: Document = {
            "descriptor": descriptor,
            "uid": uid,
            "time": page["time"][i],
            "seq_num": page["seq_num"][i],
            "data": {k: v[i] for k, v in data.items()},
            "timestamps": {k: v[i] for k, v in timestamps.items()},
        }
        if filled is not None:
            event["filled"] = {k: v[i] for k, v in filled.items()}
        yield event


def unpack_datum_page(page: Mapping[str, Any]) -> Iterator[Document]:
    """The datum documents of a datum_page, one by one."""
    kwargs = page["datum_kwargs"]
    for i, datum_id in enumerate(page["datum_id"]):
        yield {
            "resource": page["resource"],
            "datum_id": datum_id,
            "datum_kwargs": {k: v[i] for k, v in kwargs.items()},
        }


class RunRouter:
    """Send each run's documents to its own consumer, made when the run starts.

    ``RunRouter(make)`` is a ``callback(name, doc)`` that may see many runs, one after
    another or interleaved: at each start document it calls ``make(start_doc)`` for a
    new per-run consumer ``callback(name, doc)`` and routes that run's later documents
    (found through descriptor, resource and stream_resource uids) to it. The consumer
    is dropped after the stop document.
    """

    def __init__(self, make: Callable[[Document], Callable[[str, Document], Any]]) -> None:
        self._make = make
        self._runs: dict[str, Callable[[str, Document], Any]] = {}
        self._owner: dict[str, str] = {}  # descriptor/resource uid -> run uid
        self._last_run: str | None = None

    def __call__(self, name: str, doc: Document) -> None:
        if name == "start":
            self._runs[doc["uid"]] = self._make(doc)
            self._last_run = doc["uid"]
            run = doc["uid"]
        else:
            run = self._run_of(name, doc)
        consumer = self._runs.get(run) if run is not None else None
        if consumer is None:
            return  # a document of a run this router never saw start: nothing to do
        if name in ("descriptor", "resource", "stream_resource"):
            self._owner[doc["uid"]] = run  # type: ignore[index]
        consumer(name, doc)
        if name == "stop":
            del self._runs[run]  # type: ignore[arg-type]
            self._owner = {k: v for k, v in self._owner.items() if v != run}

    def _run_of(self, name: str, doc: Document) -> str | None:
        if name == "stop":
            return doc["run_start"]
        if name in ("descriptor", "resource", "stream_resource"):
            run = doc.get("run_start") or self._last_run
            return run if run in self._runs else self._last_run
        if name in ("event", "event_page", "stream_datum"):
            return self._owner.get(doc["descriptor"])
        if name in ("datum", "datum_page"):
            return self._owner.get(doc["resource"])
        raise ValueError(f"unknown document name {name!r}; expected one of {DOCUMENT_NAMES}")
