"""Helpers over event-model documents: JSON-safe encoding, event pages, per-run routing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cielo.core import (  # the event model's document names, one page packing
    DOCUMENT_NAMES,
    pack_events,
    unpack_datum_page,
    unpack_event_page,
)

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
