"""Helpers over event-model documents: JSON-safe encoding, event pages, per-run routing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cielo.core import (  # the event model's document names, one page packing, routing
    DOCUMENT_NAMES,
    pack_events,
    unpack_datum_page,
    unpack_event_page,
)
from cielo.core import RunRouter as _CoreRunRouter

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


class RunRouter(_CoreRunRouter):
    """Send each run's documents to its own consumer, made when the run starts.

    ``RunRouter(make)`` is a ``callback(name, doc)`` that may see many runs, one after
    another or interleaved: at each start document it calls ``make(start_doc)`` for a
    new per-run consumer ``callback(name, doc)`` and routes that run's later documents
    (found through descriptor, resource and stream_resource uids) to it. The consumer
    is dropped after the stop document. This is :class:`cielo.core.RunRouter` with one
    factory, where a consumer's errors go straight to the caller (``isolate=False``)
    and a descriptor or resource with no known ``run_start`` goes to the latest run
    (``unlinked="latest"``); ``options`` may change both.
    """

    def __init__(
        self, make: Callable[[Document], Callable[[str, Document], Any]], **options: Any
    ) -> None:
        options.setdefault("isolate", False)
        options.setdefault("unlinked", "latest")
        super().__init__([make], **options)
