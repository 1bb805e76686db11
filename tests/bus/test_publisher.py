"""The publisher against a real redis-server: order, pages, serializers, outages, bounds."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pytest

from cielo import RunEngine, load_profile
from cielo.bus import BusError, Publisher, RedisStream, iter_entries, open_transport


@pytest.fixture(scope="module")
def sim() -> Any:
    return load_profile("sim")


def run_published(sim: Any, uri: str, plan: Any, **options: Any) -> tuple[list, list, Any]:
    """Run ``plan`` with a publisher on ``uri``; returns (engine docs, run uids, publisher)."""
    seen: list[tuple[str, dict]] = []
    publisher = Publisher(open_transport(uri), **options)
    with publisher, RunEngine(plugin_manager=sim.pm, scan_id_file=None) as RE:
        RE.subscribe(publisher)
        RE.subscribe(lambda name, doc: seen.append((name, doc)))
        uids = RE(plan)
    return seen, list(uids), publisher


def test_every_document_arrives_in_order_and_unchanged(sim, stream_uri, validate):
    plan = sim.plans["scan"]([sim.devices["det"]], sim.devices["motor"], -1, 1, 30)
    seen, (uid,), publisher = run_published(sim, stream_uri, plan)
    stream = RedisStream(stream_uri)
    entries = list(stream.replay(uid))
    back = list(iter_entries(entries))
    assert back == seen
    for name, doc in back:
        validate(name, doc)
    assert publisher.published == len(seen) and publisher.lost == 0
    # single events travel packed into pages (fewer entries), and are restored on reading
    assert len(entries) < len(seen)
    assert any(e.packed and e.name == "event_page" for e in entries)


def test_event_pages_stay_pages_and_arrays_become_lists(stream_uri):
    start = {"uid": "r1", "time": 1.0}
    desc = {"uid": "d1", "run_start": "r1", "time": 1.0, "data_keys": {}, "name": "primary"}
    page = {
        "descriptor": "d1", "uid": ["e1", "e2"], "time": [1.0, 2.0], "seq_num": [1, 2],
        "data": {"img": np.arange(6).reshape(2, 3)}, "timestamps": {"img": np.array([1.0, 2.0])},
    }  # fmt: skip
    stop = {"uid": "s1", "run_start": "r1", "time": 3.0, "exit_status": "success"}
    with Publisher(RedisStream(stream_uri, serializer="json")) as publisher:
        for name, doc in [
            ("start", start),
            ("descriptor", desc),
            ("event_page", page),
            ("stop", stop),
        ]:
            publisher(name, doc)
    entries = list(RedisStream(stream_uri).replay("r1"))
    assert [(e.name, e.packed, e.run) for e in entries] == [
        ("start", False, "r1"), ("descriptor", False, "r1"),
        ("event_page", False, "r1"), ("stop", False, "r1"),
    ]  # fmt: skip
    assert entries[2].doc["data"]["img"] == [[0, 1, 2], [3, 4, 5]]


@pytest.mark.parametrize("name", ["pickle", "yaml"])
def test_serializers_other_than_msgpack_and_json_are_refused(stream_uri, name):
    with pytest.raises(BusError, match=name):
        RedisStream(stream_uri, serializer=name)


@pytest.mark.parametrize(
    "uri, message",
    [
        ("127.0.0.1:6379/x", "no scheme"),
        ("redis://127.0.0.1:6379", "names no stream"),
        ("redis://127.0.0.1:6379/s?maxlen=lots", "maxlen='lots' is not a int"),
        ("redis://127.0.0.1:6379/s?max_len=5", "unknown option"),
        ("kafkaa://127.0.0.1:9092/t", "no bus transport for kafkaa"),
        ("zmq://127.0.0.1", "names no port"),
    ],
)
def test_bad_uris_say_what_is_wrong(uri, message):
    with pytest.raises(BusError, match=message):
        open_transport(uri)


def test_outage_is_buffered_reported_and_caught_up(sim, own_redis, caplog):
    uri = f"redis://127.0.0.1:{own_redis.port}/outage"
    own_redis.stop()
    caplog.set_level(logging.ERROR, logger="cielo.bus")
    seen: list[tuple[str, dict]] = []
    publisher = Publisher(RedisStream(uri, timeout=0.5), retry_interval=0.2)
    with RunEngine(plugin_manager=sim.pm, scan_id_file=None) as RE:
        RE.subscribe(publisher)
        RE.subscribe(lambda name, doc: seen.append((name, doc)))
        t0 = time.monotonic()
        (uid,) = RE(sim.plans["count"]([sim.devices["det"]], num=20))
        elapsed = time.monotonic() - t0
    assert elapsed < 5, f"the engine waited for the bus: {elapsed:.1f} s"
    assert publisher.buffered == len(seen)
    deadline = time.monotonic() + 20  # the client's own retries come first
    while not publisher.outages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert publisher.outages == 1
    assert any("unreachable" in r.getMessage() for r in caplog.records)
    own_redis.start()
    assert publisher.flush(timeout=20)
    publisher.close()
    assert list(iter_entries(list(RedisStream(uri).replay(uid)))) == seen
    assert publisher.lost == 0


def test_past_the_bound_events_are_dropped_and_counted_runs_still_close(sim, own_redis, caplog):
    uri = f"redis://127.0.0.1:{own_redis.port}/bounded"
    own_redis.stop()
    publisher = Publisher(RedisStream(uri, timeout=0.5), max_buffer=5, retry_interval=0.2)
    with RunEngine(plugin_manager=sim.pm, scan_id_file=None) as RE:
        RE.subscribe(publisher)
        (uid,) = RE(sim.plans["count"]([sim.devices["det"]], num=20))
    own_redis.start()
    publisher.close(timeout=20)
    names = [n for n, _ in iter_entries(list(RedisStream(uri).replay(uid)))]
    assert names[:2] == ["start", "descriptor"] and names[-1] == "stop"
    assert publisher.lost == 20 - names.count("event") > 0
    assert any("dropping events" in r.getMessage() for r in caplog.records)


def test_an_unsendable_document_is_reported_and_the_rest_still_go(stream_uri, caplog):
    with Publisher(RedisStream(stream_uri)) as publisher:
        publisher("start", {"uid": "r2", "time": 0.0})
        publisher("descriptor", {"uid": "d2", "run_start": "r2", "bad": object()})
        publisher("stop", {"uid": "s2", "run_start": "r2", "time": 1.0})
    names = [e.name for e in RedisStream(stream_uri).replay("r2")]
    assert names == ["start", "stop"] and publisher.lost == 1
    assert any("cannot publish descriptor" in r.getMessage() for r in caplog.records)


def test_a_batch_retried_after_an_outage_keeps_every_document_in_its_run(own_redis):
    uri = f"redis://127.0.0.1:{own_redis.port}/retried"
    publisher = Publisher(RedisStream(uri, timeout=0.5), retry_interval=0.1)
    publisher("start", {"uid": "r3", "time": 0.0})
    publisher("descriptor", {"uid": "d3", "run_start": "r3", "data_keys": {}})
    assert publisher.flush(10)
    own_redis.stop()  # the run's events and stop wait out an outage
    for i in range(3):
        publisher("event", {"descriptor": "d3", "uid": f"e{i}", "seq_num": i + 1, "time": 0.0,
                            "data": {"x": i}, "timestamps": {"x": 0.0}})  # fmt: skip
    publisher("stop", {"uid": "s3", "run_start": "r3", "time": 1.0})
    deadline = time.monotonic() + 20
    while not publisher.outages and time.monotonic() < deadline:
        time.sleep(0.05)
    own_redis.start()
    publisher.close(timeout=20)
    names = [n for n, _ in iter_entries(list(RedisStream(uri).replay("r3")))]
    assert names == ["start", "descriptor", "event", "event", "event", "stop"]


def test_events_that_cannot_be_packed_go_as_they_are(stream_uri):
    with Publisher(RedisStream(stream_uri)) as publisher:
        publisher("start", {"uid": "r4", "time": 0.0})
        publisher("descriptor", {"uid": "d4", "run_start": "r4"})
        publisher("event", {"descriptor": "d4", "data": None})
        publisher("event", {"descriptor": "d4", "data": {"x": 1}})  # no uid, time, seq_num
        publisher("event", {"descriptor": "d4", "data": {"x": 2}})
        publisher("stop", {"uid": "s4", "run_start": "r4", "time": 1.0})
    entries = list(RedisStream(stream_uri).replay("r4"))
    assert [(e.name, e.packed) for e in entries][2:] == [("event", False)] * 3 + [("stop", False)]
    assert publisher.lost == 0
