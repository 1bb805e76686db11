"""Route ``(name, doc)`` pairs to methods named after the document kind.

Events arrive either one by one (``event``) or in pages (``event_page``); the same holds
for ``datum``/``datum_page``. A subclass implements whichever form suits it and receives
both: pages are unpacked into events for a subclass that only implements ``event``, and
events are packed into one-row pages for a subclass that only implements ``event_page``.
"""

from __future__ import annotations

from typing import Any

from cielo.core import (  # the event model's document names, one page packing
    DOCUMENT_NAMES,
    pack_datum,
    pack_event,
    unpack_datum_page,
    unpack_event_page,
)

__all__ = [
    "DOCUMENT_NAMES",
    "CallbackBase",
    "pack_datum",
    "pack_event",
    "unpack_datum_page",
    "unpack_event_page",
]

Document = dict[str, Any]


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
