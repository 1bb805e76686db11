"""The catalog ingest behind a trimmed stream: a run the bus lost entries of is closed in
the catalog as failed, naming the lost entries, instead of being left incomplete.

Real Redis with real trimming (by age, and by length) and real runs of the sim profile."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from cielo import RunEngine, load_profile
from cielo.bus import BusConsumer, CatalogIngest, Publisher, RedisStream
from cielo.storage import open_catalog


def record_runs(*nums: int) -> list[list[tuple[str, dict[str, Any]]]]:
    """The documents of one real ``count`` run per entry of ``nums`` (events each)."""
    sim = load_profile("sim")
    runs: list[list[tuple[str, dict[str, Any]]]] = []
    with RunEngine(plugin_manager=sim.pm, scan_id_file=None) as RE:
        for num in nums:
            docs: list[tuple[str, dict[str, Any]]] = []
            token = RE.subscribe(lambda name, doc, docs=docs: docs.append((name, doc)))
            RE(sim.plans["count"]([sim.devices["det"]], num=num))
            RE.unsubscribe(token)
            runs.append(docs)
    return runs


def publish(stream: RedisStream, docs: list[tuple[str, dict[str, Any]]]) -> None:
    with Publisher(stream, pack_events=False) as publisher:
        for name, doc in docs:
            publisher(name, doc)


def ingest(tmp_path: Path, stream: RedisStream) -> tuple[CatalogIngest, BusConsumer, str]:
    uri = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    sink = CatalogIngest(lambda: open_catalog(uri))
    consumer = BusConsumer(stream.group_reader("catalog", "ingest-1"), sink, ack="run", count=3)
    assert consumer.step() == 0  # its own unacknowledged entries first: none
    return sink, consumer, uri


def pending(stream: RedisStream) -> int:
    return int(stream.client.xpending(stream.stream, "catalog")["pending"])


def test_a_run_whose_stop_was_trimmed_is_closed_as_failed(stream_uri, tmp_path, validate):
    half, kept = record_runs(20, 2)
    stream = RedisStream(f"{stream_uri}?max_age=0.3&keep_unread=0")
    sink, consumer, uri = ingest(tmp_path, stream)
    publish(stream, half)
    assert consumer.step() == 3  # start, descriptor, first event of `half`
    time.sleep(1.1)  # past max_age; the consumer looks for losses once a second
    publish(stream, kept)
    stream.trim()  # the rest of `half`, its stop included, is gone unread
    assert stream.client.xlen(stream.stream) == len(kept)
    consumer.run(idle_timeout=0.5)
    sink.close()

    uid, kept_uid = half[0][1]["uid"], kept[0][1]["uid"]
    assert consumer.missed == len(half) - 3
    with open_catalog(uri) as catalog:
        run = catalog[uid]
        assert run.stop is not None and run.exit_status == "fail"
        reason = run.stop["reason"]
        assert reason.startswith(f"the document bus lost {len(half) - 3} entries to retention")
        assert "after entry " in reason and "while this run was open" in reason
        assert run.stop["num_events"] == {"primary": 1}  # what reached the catalog
        for name, doc in run.documents():
            validate(name, doc)  # event-model's schemas, the stop included
        assert [name for name, _ in run.documents()] == ["start", "descriptor", "event", "stop"]
        assert catalog[kept_uid].exit_status == "success"  # the next run, whole
    assert sink.closed == {uid: reason}
    assert pending(stream) == 0  # nothing left unacknowledged: a restart gets nothing twice


def test_a_run_that_lost_only_its_middle_keeps_the_rest_and_stays_failed(
    stream_uri, tmp_path, validate
):
    (run_docs,) = record_runs(60)
    stream = RedisStream(f"{stream_uri}?maxlen=10&keep_unread=0")
    sink, consumer, uri = ingest(tmp_path, stream)
    publish(stream, run_docs[:3])
    assert consumer.step() == 3  # start, descriptor, first event
    publish(stream, run_docs[3:])  # trimmed by length while publishing: the middle goes
    stream.trim()
    left = int(stream.client.xlen(stream.stream))
    assert left < len(run_docs) - 3  # a real trim took the middle
    time.sleep(1.1)
    consumer.run(idle_timeout=0.5)
    sink.close()

    uid = run_docs[0][1]["uid"]
    own_stop = run_docs[-1][1]
    with open_catalog(uri) as catalog:
        run = catalog[uid]
        assert run.exit_status == "fail" and run.stop["uid"] == own_stop["uid"]
        lost = len(run_docs) - 3 - left
        assert run.stop["reason"].startswith(f"the document bus lost {lost} entries")
        assert run.stop["reason"].endswith("; the run's own stop said 'success'")
        stored = [doc["seq_num"] for name, doc in run.documents() if name == "event"]
        assert stored[0] == 1 and len(stored) == 1 + left - 1  # the first, then the rest
        for name, doc in run.documents():
            validate(name, doc)
    assert pending(stream) == 0


def test_an_ingest_restarted_after_its_unacknowledged_run_was_trimmed_closes_it(
    stream_uri, tmp_path, validate
):
    """The ingest stops mid-run (its entries of the run delivered, not acknowledged); by
    the time it is back, retention trimmed them: the restarted ingest learns from the
    stream's run index which run they opened, and closes it, though it never saw it."""
    half, kept = record_runs(20, 2)
    stream = RedisStream(f"{stream_uri}?max_age=0.3&keep_unread=0")
    sink, consumer, uri = ingest(tmp_path, stream)
    publish(stream, half)
    assert consumer.step() == 3  # start, descriptor, first event: stored, not acknowledged
    sink.close()  # the ingest stops here
    assert pending(stream) == 3
    time.sleep(1.1)
    publish(stream, kept)
    stream.trim()  # all of `half` is gone, the 3 unacknowledged entries too
    sink, consumer, uri = ingest(tmp_path, stream)  # the same member, restarted
    consumer.run(idle_timeout=2.5)
    sink.close()

    uid = half[0][1]["uid"]
    with open_catalog(uri) as catalog:
        run = catalog[uid]
        assert run.exit_status == "fail"
        reason = run.stop["reason"]  # the 3 delivered entries are stored: 3 fewer lost
        assert reason.startswith(f"the document bus lost {len(half) - 3} entries")
        assert "after what it read before it restarted" in reason
        assert run.stop["num_events"] == {"primary": 1}
        for name, doc in run.documents():
            validate(name, doc)
        assert catalog[kept[0][1]["uid"]].exit_status == "success"
    assert sink.closed == {uid: run.stop["reason"]}
    assert pending(stream) == 0


def test_a_loss_is_told_while_nothing_new_arrives(stream_uri, tmp_path):
    """The rest of the run and everything after it were trimmed, and nothing more is
    published: the ingest still closes the run, without waiting for a next entry."""
    (half,) = record_runs(20)
    stream = RedisStream(f"{stream_uri}?max_age=0.3&keep_unread=0")
    sink, consumer, uri = ingest(tmp_path, stream)
    publish(stream, half)
    assert consumer.step() == 3
    time.sleep(0.5)
    assert stream.trim() == len(half)  # everything, the unread rest included
    time.sleep(1.1)
    consumer.run(idle_timeout=2.5)
    sink.close()
    with open_catalog(uri) as catalog:
        stop = catalog[half[0][1]["uid"]].stop
    assert stop["exit_status"] == "fail" and "up to the last" in stop["reason"]
    assert pending(stream) == 0
