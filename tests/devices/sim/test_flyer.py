"""The simulated flyer: kickoff, complete, collect; documents validate."""

from __future__ import annotations

import time

import pytest
from event_model import compose_run, pack_event_page

from cielo.core import DeviceError
from cielo.core import protocols as P
from cielo.devices.sim import SimFlyer


def test_fly_and_collect_events(validate):
    flyer = SimFlyer(name="flyer", num=11, period=0.01, start=-1.0, stop=1.0, sigma=0.3)
    assert isinstance(flyer, P.Flyable) and isinstance(flyer, P.EventCollectable)
    assert isinstance(flyer, P.EventPageCollectable)
    t0 = time.monotonic()
    assert flyer.kickoff().success
    flyer.complete().wait(2)
    assert time.monotonic() - t0 >= 0.09
    bundle = compose_run()
    validate("start", bundle.start_doc)
    desc = bundle.compose_descriptor(name="flyer", data_keys=flyer.describe_collect())
    validate("descriptor", desc.descriptor_doc)
    events = []
    for i, partial in enumerate(flyer.collect(), start=1):
        event = desc.compose_event(**partial, seq_num=i)
        validate("event", event)
        events.append(event)
    assert len(events) == 11
    xs = [e["data"]["flyer_x"] for e in events]
    assert xs[0] == -1.0 and xs[-1] == 1.0 and xs == sorted(xs)
    peak = max(events, key=lambda e: e["data"]["flyer_intensity"])
    assert peak["data"]["flyer_x"] == pytest.approx(0.0)
    assert list(flyer.collect()) == []  # each point once
    validate("event_page", pack_event_page(*events))


def test_collect_pages(validate):
    flyer = SimFlyer(name="f", num=5, period=0.0)
    flyer.kickoff()
    flyer.complete().wait(2)
    pages = list(flyer.collect_pages())
    assert len(pages) == 1 and len(pages[0]["time"]) == 5
    bundle = compose_run()
    desc = bundle.compose_descriptor(name="f", data_keys=flyer.describe_collect())
    page = dict(
        pages[0],
        uid=["u"] * 5,
        seq_num=[1, 2, 3, 4, 5],
        descriptor=desc.descriptor_doc["uid"],
        filled={},
    )
    page["uid"] = [f"u{i}" for i in range(5)]
    validate("event_page", page)


def test_complete_before_kickoff_and_stop():
    flyer = SimFlyer(name="f", num=100, period=0.01)
    with pytest.raises(DeviceError, match="before kickoff"):
        flyer.complete()
    flyer.kickoff()
    with pytest.raises(DeviceError, match="while a sweep is running"):
        flyer.kickoff()
    time.sleep(0.03)
    flyer.stop()
    with pytest.raises(DeviceError, match="stopped after"):
        flyer.complete().wait(1)
    assert 0 < len(list(flyer.collect())) < 100
