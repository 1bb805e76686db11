"""Route ``(name, doc)`` pairs to methods named after the document kind.

Events arrive either one by one (``event``) or in pages (``event_page``); the same holds
for ``datum``/``datum_page``. A subclass implements whichever form suits it and receives
both: pages are unpacked into events for a subclass that only implements ``event``, and
events are packed into one-row pages for a subclass that only implements ``event_page``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from cielo.core import DOCUMENT_NAMES  # the event model's document names

__all__ = [
    "DOCUMENT_NAMES",
    "CallbackBase",
    "pack_datum",
    "pack_event",
    "unpack_datum_page",
    "unpack_event_page",
]

Document = dict[str, Any]


def unpack_event_page(page: Mapping[str, Any]) -> Iterator[Document]:
    """Yield the events of an event page, one dict per row, in order."""
    descriptor = page["descriptor"]
    data: Mapping[str, Any] = page["data"]
    timestamps: Mapping[str, Any] = page["timestamps"]
    filled: Mapping[str, Any] = page.get("filled") or {}
    keys = tuple(data)
    for i, (uid, seq_num, time) in enumerate(
        zip(page["uid"], page["seq_num"], page["time"], strict=True)
    ):
        event: Document = {
            "descriptor": descriptor,
            "uid": uid,
            "seq_num": seq_num,
            "time": time,
            "data": {k: data[k][i] for k in keys},
            "timestamps": {k: timestamps[k][i] for k in keys},
        }
        if filled:
            event["filled"] = {k: v[i] for k, v in filled.items()}
        yield event


def pack_event(event: Mapping[str, Any]) -> Document:
    """Return a one-row event page holding ``event``."""
    page: Document = {
        "descriptor": event["descriptor"],
        "uid": [event["uid"]],
        "seq_num": [event["seq_num"]],
        "time": [event["time"]],
        "data": {k: [v] for k, v in event["data"].items()},
        "timestamps": {k: [v] for k, v in event["timestamps"].items()},
    }
    if event.get("filled"):
        page["filled"] = {k: [v] for k, v in event["filled"].items()}
    return page


def unpack_datum_page(page: Mapping[str, Any]) -> Iterator[Document]:
    """Yield the datums of a datum page, one dict per row, in order."""
    resource = page["resource"]
    kwargs: Mapping[str, Any] = page["datum_kwargs"]
    keys = tuple(kwargs)
    for i, datum_id in enumerate(page["datum_id"]):
        yield {
            "resource": resource,
            "datum_id": datum_id,
            "datum_kwargs": {k: kwargs[k][i] for k in keys},
        }


def pack_datum(datum: Mapping[str, Any]) -> Document:
    """Return a one-row datum page holding ``datum``."""
    return {
        "resource": datum["resource"],
        "datum_id": [datum["datum_id"]],
        "datum_kwargs": {k: [v] for k, v in datum["datum_kwargs"].items()},
    }


class CallbackBase:
    """A document consumer: ``callback(name, doc)`` calls ``self.<name>(doc)``.

    Override the methods for the documents you care about (``start``, ``descriptor``,
    ``event`` or ``event_page``, ``stop``, ...); the others do nothing. Implement either
    ``event`` or ``event_page`` (or both): the base converts between them, so the
    callback works on streams that carry either form. The same holds for ``datum`` and
    ``datum_page``. Instances see documents live (subscribed to a RunEngine) or replayed
    from storage (:func:`cielo.callbacks.replay`) with the same code.

    An unknown document name raises :class:`ValueError` naming it.
    """

    def __call__(self, name: str, doc: Document) -> Any:
        method = getattr(self, name, None) if name in DOCUMENT_NAMES else None
        if method is None:
            raise ValueError(
                f"{type(self).__name__} received a document named {name!r}; "
                f"expected one of {sorted(DOCUMENT_NAMES)}"
            )
        return method(doc)

    def start(self, doc: Document) -> Any:
        """Handle a run start document."""

    def descriptor(self, doc: Document) -> Any:
        """Handle an event descriptor."""

    def event(self, doc: Document) -> Any:
        """Handle one event (by default: pass it on as a one-row page if pages are handled)."""
        if type(self).event_page is not CallbackBase.event_page:
            return self.event_page(pack_event(doc))
        return None

    def event_page(self, doc: Document) -> Any:
        """Handle an event page (by default: unpack it into ``event`` calls)."""
        if type(self).event is not CallbackBase.event:
            event = self.event
            for row in unpack_event_page(doc):
                event(row)
        return None

    def resource(self, doc: Document) -> Any:
        """Handle a resource document."""

    def datum(self, doc: Document) -> Any:
        """Handle one datum (by default: pass it on as a one-row page if pages are handled)."""
        if type(self).datum_page is not CallbackBase.datum_page:
            return self.datum_page(pack_datum(doc))
        return None

    def datum_page(self, doc: Document) -> Any:
        """Handle a datum page (by default: unpack it into ``datum`` calls)."""
        if type(self).datum is not CallbackBase.datum:
            datum = self.datum
            for row in unpack_datum_page(doc):
                datum(row)
        return None

    def stream_resource(self, doc: Document) -> Any:
        """Handle a stream resource document."""

    def stream_datum(self, doc: Document) -> Any:
        """Handle a stream datum document."""

    def stop(self, doc: Document) -> Any:
        """Handle a run stop document."""
