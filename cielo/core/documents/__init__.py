"""Documents on their way out: delivery to subscribers, routing per run, event and datum pages.

The engine hands every document to a :class:`Dispatcher`; callbacks that follow several
runs at once use a :class:`RunRouter`; :func:`pack_events` and friends convert between
single documents and pages.
"""

from ._dispatch import DOCUMENT_NAMES, CallbackError, Dispatcher, event_model_validator
from ._pages import pack_datum, pack_event, pack_events, unpack_datum_page, unpack_event_page
from ._router import CallbackFailure, RunRouter, callback_name, per_run

__all__ = [
    "DOCUMENT_NAMES",
    "CallbackError",
    "CallbackFailure",
    "Dispatcher",
    "RunRouter",
    "callback_name",
    "event_model_validator",
    "pack_datum",
    "pack_event",
    "pack_events",
    "per_run",
    "unpack_datum_page",
    "unpack_event_page",
]
