"""Helpers over event-model documents: JSON-safe encoding, event pages, per-run routing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cielo.core import (  # the event model's document names, one page packing, routing
    DOCUMENT_NAMES,
    jsonable,
    pack_events,
    unpack_datum_page,
    unpack_event_page,
)
from cielo.core import RunRouter as _CoreRunRouter
from cielo.core import dumps_document as dumps

__all__ = [
    "DOCUMENT_NAMES",
    "RunRouter",
    "dumps",
    "jsonable",
    "unstorable",
    "pack_events",
    "unpack_event_page",
    "unpack_datum_page",
]


Document = dict[str, Any]


_PLAIN = frozenset({float, int, bool, type(None)})


def unstorable(value: Any, where: str, *, text: bool = True) -> str | None:
    """Say what in ``value`` a catalog cannot store (``None`` if it all can).

    Refused: what JSON cannot hold (objects, complex numbers), text with a NUL character
    (PostgreSQL text cannot hold one) or a lone surrogate (not UTF-8), unless ``text`` is
    false (such text inside a stored document is escaped by JSON, so only run-start
    metadata, which is also indexed as plain text, needs it). ``where`` names ``value``
    in the answer, e.g. ``"data['det']"``.
    """
    kind = type(value)
    if kind in _PLAIN:
        return None
    if kind is str:
        return _bad_text(value, where) if text else None
    if isinstance(value, dict):
        for key, item in value.items():
            if type(item) in _PLAIN and type(key) is str and key.isascii() and "\x00" not in key:
                continue  # the common case, without building a name for it
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                return f"{where} has a key {key!r} ({type(key).__name__}) JSON cannot hold"
            here = f"{where}[{key!r}]"
            problem = (
                _bad_text(key, here) if text and isinstance(key, str) else None
            ) or unstorable(item, here, text=text)
            if problem:
                return problem
        return None
    if isinstance(value, (list, tuple)):
        if all(type(item) in _PLAIN for item in value):
            return None
        for i, item in enumerate(value):
            problem = unstorable(item, f"{where}[{i}]", text=text)
            if problem:
                return problem
        return None
    dtype = getattr(value, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", "") in "biuf":
        return None  # numeric numpy arrays and scalars
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return unstorable(tolist(), where, text=text)
    if isinstance(value, (bytes, set, frozenset)):
        return None  # converted by :func:`jsonable`
    return f"{where} = {_short(value)} ({type(value).__name__}) is not a JSON value"


def _bad_text(text: str, where: str) -> str | None:
    if text.isascii():
        if "\x00" in text:
            return f"{where} = {_short(text)} holds a NUL character"
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return f"{where} = {_short(text)} holds a lone surrogate (not valid Unicode)"
    if "\x00" in text:
        return f"{where} = {_short(text)} holds a NUL character"
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class RunRouter(_CoreRunRouter):
    """Send each run's documents to its own consumer, made when the run starts.

    ``RunRouter(make)`` is a ``callback(name, doc)`` that may see many runs, one after
    another or interleaved: at each start document it calls ``make(start_doc)`` for a
    new per-run consumer ``callback(name, doc)`` and routes that run's later documents
    (found through descriptor, resource and stream_resource uids) to it. The consumer
    is dropped after the stop document. This is :class:`cielo.core.RunRouter` with one
    factory, where a consumer's errors go straight to the caller (``isolate=False``)
    and a descriptor or resource with no known ``run_start`` goes to the latest run
    (``unlinked="latest"``), and documents of a run whose start it never saw are
    dropped with a warning (``orphans="warn"``); ``options`` may change these.
    """

    def __init__(
        self, make: Callable[[Document], Callable[[str, Document], Any]], **options: Any
    ) -> None:
        options.setdefault("isolate", False)
        options.setdefault("unlinked", "latest")
        options.setdefault("orphans", "warn")  # a writer that missed a start says so
        super().__init__([make], **options)
