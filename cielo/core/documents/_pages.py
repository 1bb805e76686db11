"""Event and datum pages: pack documents into column-wise pages and unpack them again.

An ``event_page`` holds the events of one descriptor column by column (``uid``,
``seq_num``, ``time`` and one list per data key); a ``datum_page`` does the same for
the datums of one resource. These run per event on subscriber threads, so they do the
least work that keeps a round trip exact: a page has ``filled`` exactly when its events
had it, and unpacking it gives the events back equal to the ones packed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = [
    "pack_datum",
    "pack_event",
    "pack_events",
    "unpack_datum_page",
    "unpack_event_page",
]

Document = dict[str, Any]


def pack_events(events: Iterable[Mapping[str, Any]]) -> Document:
    """One event page holding ``events`` (all of one descriptor, with the same data keys).

    The page carries ``filled`` when any event does; a key missing from an event's
    ``filled`` counts as ``False`` there. An empty ``events`` raises :class:`ValueError`.
    """
    events = events if isinstance(events, (list, tuple)) else list(events)
    if not events:
        raise ValueError("pack_events needs at least one event; got none")
    if len(events) == 1:
        return pack_event(events[0])
    keys = list(events[0]["data"])
    page: Document = {
        "descriptor": events[0]["descriptor"],
        "uid": [ev["uid"] for ev in events],
        "time": [ev["time"] for ev in events],
        "seq_num": [ev["seq_num"] for ev in events],
        "data": {k: [ev["data"][k] for ev in events] for k in keys},
        "timestamps": {k: [ev["timestamps"][k] for ev in events] for k in keys},
    }
    if any("filled" in ev for ev in events):
        filled_keys = {k: None for ev in events for k in ev.get("filled", ())}
        page["filled"] = {
            k: [ev.get("filled", {}).get(k, False) for ev in events] for k in filled_keys
        }
    return page


def pack_event(event: Mapping[str, Any]) -> Document:
    """A one-row event page holding ``event`` (the one-event case of :func:`pack_events`)."""
    page: Document = {
        "descriptor": event["descriptor"],
        "uid": [event["uid"]],
        "time": [event["time"]],
        "seq_num": [event["seq_num"]],
        "data": {k: [v] for k, v in event["data"].items()},
        "timestamps": {k: [v] for k, v in event["timestamps"].items()},
    }
    filled = event.get("filled")
    if filled is not None:
        page["filled"] = {k: [v] for k, v in filled.items()}
    return page


def unpack_event_page(page: Mapping[str, Any]) -> Iterator[Document]:
    """Yield the events of an event page, one dict per row, in order.

    ``uid``, ``seq_num`` and ``time`` of different lengths raise :class:`ValueError`.
    """
    descriptor = page["descriptor"]
    data = tuple(page["data"].items())
    timestamps = tuple(page["timestamps"].items())
    filled = page.get("filled")
    filled_items = tuple(filled.items()) if filled is not None else None
    rows = zip(page["uid"], page["seq_num"], page["time"], strict=True)
    for i, (uid, seq_num, time) in enumerate(rows):
        event: Document = {
            "descriptor": descriptor,
            "uid": uid,
            "seq_num": seq_num,
            "time": time,
            "data": {k: v[i] for k, v in data},
            "timestamps": {k: v[i] for k, v in timestamps},
        }
        if filled_items is not None:
            event["filled"] = {k: v[i] for k, v in filled_items}
        yield event


def pack_datum(datum: Mapping[str, Any]) -> Document:
    """A one-row datum page holding ``datum``."""
    return {
        "resource": datum["resource"],
        "datum_id": [datum["datum_id"]],
        "datum_kwargs": {k: [v] for k, v in datum["datum_kwargs"].items()},
    }


def unpack_datum_page(page: Mapping[str, Any]) -> Iterator[Document]:
    """Yield the datums of a datum page, one dict per row, in order."""
    resource = page["resource"]
    kwargs = tuple(page["datum_kwargs"].items())
    for i, datum_id in enumerate(page["datum_id"]):
        yield {
            "resource": resource,
            "datum_id": datum_id,
            "datum_kwargs": {k: v[i] for k, v in kwargs},
        }
