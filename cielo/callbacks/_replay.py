"""Feed stored documents to callbacks: the same code consumes runs live or replayed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["replay"]


def replay(documents: Any, *callbacks: Callable[[str, dict[str, Any]], Any]) -> int:
    """Send each ``(name, doc)`` of ``documents`` to every callback, in order.

    ``documents`` is an iterable of ``(name, doc)`` pairs (a list, a generator reading a
    JSONL file, a catalog query) or an object with a ``documents()`` method returning
    one (a stored run). Returns the number of documents sent. A callback that raises
    stops the replay with its error: replay is for analysis, where a broken callback
    should be seen at once.
    """
    if not callbacks:
        raise TypeError("replay(documents, *callbacks) needs at least one callback")
    source = documents.documents() if hasattr(documents, "documents") else documents
    if not isinstance(source, Iterable):
        raise TypeError(
            f"replay() expects an iterable of (name, doc) pairs or a run with documents(); "
            f"got {type(documents).__name__}"
        )
    count = 0
    for item in source:
        try:
            name, doc = item
        except (TypeError, ValueError):
            raise TypeError(
                f"replay() expects (name, doc) pairs; item {count} is {item!r:.80}"
            ) from None
        for callback in callbacks:
            callback(name, doc)
        count += 1
    return count
