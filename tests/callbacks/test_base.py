"""CallbackBase routes documents by name and converts between events and pages."""

from __future__ import annotations

import pytest

from cielo.callbacks import (
    CallbackBase,
    pack_datum,
    pack_event,
    replay,
    unpack_datum_page,
    unpack_event_page,
)


class EventsOnly(CallbackBase):
    def __init__(self):
        self.seen = []

    def start(self, doc):
        self.seen.append(("start", doc["uid"]))

    def event(self, doc):
        self.seen.append(("event", doc["seq_num"], doc["data"]["det"]))


class PagesOnly(CallbackBase):
    def __init__(self):
        self.rows = []

    def event_page(self, doc):
        self.rows.extend(zip(doc["seq_num"], doc["data"]["det"], strict=True))


def test_pages_are_unpacked_for_event_consumers(docs, validate):
    paged = docs.step_run(pages=True)
    flat_values = [
        (seq, det)
        for name, doc in paged
        if name == "event_page"
        for seq, det in zip(doc["seq_num"], doc["data"]["det"], strict=True)
    ]
    cb = EventsOnly()
    replay(paged, cb)
    assert [s[1:] for s in cb.seen if s[0] == "event"] == flat_values
    for name, doc in paged:
        if name == "event_page":
            for event in unpack_event_page(doc):
                validate("event", event)


def test_events_are_packed_for_page_consumers(docs, validate):
    run = docs.step_run()
    cb = PagesOnly()
    replay(run, cb)
    events = [d for n, d in run if n == "event"]
    assert cb.rows == [(e["seq_num"], e["data"]["det"]) for e in events]
    validate("event_page", pack_event(events[0]))


def test_pack_unpack_round_trip(docs):
    events = [d for n, d in docs.step_run() if n == "event"]
    assert list(unpack_event_page(pack_event(events[3]))) == [events[3]]


def test_datum_page_round_trip(validate):
    datum = {"resource": "r1", "datum_id": "r1/0", "datum_kwargs": {"point": 0}}
    page = pack_datum(datum)
    validate("datum", datum)
    validate("datum_page", page)
    assert list(unpack_datum_page(page)) == [datum]


def test_unknown_document_name_is_named():
    with pytest.raises(ValueError, match="'bogus'"):
        CallbackBase()("bogus", {})


def test_base_ignores_documents_it_does_not_handle(docs):
    class Nothing(CallbackBase):
        pass

    assert replay(docs.image_run(external=True), Nothing()) > 0
