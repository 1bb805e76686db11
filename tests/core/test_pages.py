"""Event and datum pages: packing and unpacking, checked against event-model's own."""

from __future__ import annotations

import event_model
import pytest

import cielo.callbacks
import cielo.storage
from cielo.core import (
    pack_datum,
    pack_event,
    pack_events,
    unpack_datum_page,
    unpack_event_page,
)


def _events(n: int, *, filled: bool = False) -> list[dict]:
    run = event_model.compose_run()
    keys = {"det": {"source": "sim", "dtype": "number", "shape": []}}
    if filled:
        keys["img"] = {"source": "sim", "dtype": "array", "shape": [2], "external": "FILE"}
    desc = run.compose_descriptor(name="primary", data_keys=keys)
    events = []
    for i in range(n):
        data: dict = {"det": float(i) * 1.5}
        stamps = {"det": 100.0 + i}
        extra = {}
        if filled:
            data["img"], stamps["img"] = f"datum-{i}", 100.0 + i
            extra["filled"] = {"img": bool(i % 2)}
        events.append(desc.compose_event(data=data, timestamps=stamps, **extra))
    # event-model adds an empty ``filled``; leave it out where nothing is external
    return [dict(ev) if filled else _without_filled(dict(ev)) for ev in events]


def _without_filled(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "filled"}


def test_pages_match_event_models(validate):
    events = _events(4)
    page = pack_events(events)
    validate("event_page", page)
    theirs = event_model.pack_event_page(*events)
    assert _without_filled(page) == _without_filled(dict(theirs))
    ours = list(unpack_event_page(page))
    assert ours == events
    back = [_without_filled(dict(ev)) for ev in event_model.unpack_event_page(page)]
    assert back == events
    for event in ours:
        validate("event", event)


def test_filled_survives_the_round_trip(validate):
    events = _events(3, filled=True)
    page = pack_events(events)
    validate("event_page", page)
    assert page["filled"] == {"img": [False, True, False]}
    assert list(unpack_event_page(page)) == events
    # a key one event leaves out of ``filled`` counts as not filled there
    events[1]["filled"] = {}
    assert pack_events(events)["filled"] == {"img": [False, False, False]}
    # an empty ``filled`` is kept too, so the round trip gives back what went in
    empty = {**_events(1)[0], "filled": {}}
    assert pack_event(empty)["filled"] == {}
    assert list(unpack_event_page(pack_event(empty))) == [empty]


def test_one_event_packs_alike_both_ways(validate):
    for event in _events(2) + _events(2, filled=True):
        page = pack_event(event)
        validate("event_page", page)
        assert page == pack_events([event]) == pack_events(iter([event]))
        assert list(unpack_event_page(page)) == [event]
    unfilled = _events(1)[0]
    assert "filled" not in pack_event(unfilled)
    assert "filled" not in next(unpack_event_page(pack_event(unfilled)))


def test_bad_pages_are_refused_with_a_clear_error():
    with pytest.raises(ValueError, match="needs at least one event"):
        pack_events([])
    page = pack_events(_events(3))
    page["time"] = page["time"][:2]
    with pytest.raises(ValueError, match="zip"):
        list(unpack_event_page(page))


def test_datum_pages_round_trip(validate):
    run = event_model.compose_run()
    resource = run.compose_resource(
        spec="AD_HDF5", root="/", resource_path="data/x.h5", resource_kwargs={}
    )
    datums = [dict(resource.compose_datum(datum_kwargs={"point": i})) for i in range(3)]
    pages = [pack_datum(d) for d in datums]
    for datum, page in zip(datums, pages, strict=True):
        validate("datum", datum)
        validate("datum_page", page)
        assert list(unpack_datum_page(page)) == [datum]
    whole = dict(event_model.pack_datum_page(*datums))
    validate("datum_page", whole)
    assert list(unpack_datum_page(whole)) == datums


def test_callbacks_and_storage_use_the_core_functions():
    for name in ("pack_event", "pack_datum", "unpack_event_page", "unpack_datum_page"):
        assert getattr(cielo.callbacks, name) is getattr(cielo.core, name)
    for name in ("pack_events", "unpack_event_page", "unpack_datum_page"):
        assert getattr(cielo.storage, name) is getattr(cielo.core, name)
