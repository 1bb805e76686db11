"""Retention (trimming by length or age) and what a consumer that falls behind sees."""

from __future__ import annotations

import logging
import time

from cielo.bus import BusConsumer, Publisher, RedisStream


def run_docs(uid: str, events: int) -> list[tuple[str, dict]]:
    docs: list[tuple[str, dict]] = [("start", {"uid": uid, "time": time.time()})]
    docs.append(("descriptor", {"uid": f"{uid}-d", "run_start": uid, "data_keys": {}}))
    for i in range(events):
        docs.append(("event", {"descriptor": f"{uid}-d", "uid": f"{uid}-{i}", "seq_num": i + 1,
                               "time": 0.0, "data": {"x": i}, "timestamps": {"x": 0.0}}))  # fmt: skip
    docs.append(("stop", {"uid": f"{uid}-s", "run_start": uid, "exit_status": "success"}))
    return docs


def publish(stream: RedisStream, *runs: list[tuple[str, dict]]) -> None:
    with Publisher(stream, pack_events=False) as publisher:
        for docs in runs:
            for name, doc in docs:
                publisher(name, doc)


def test_maxlen_caps_the_stream(stream_uri):
    stream = RedisStream(f"{stream_uri}?maxlen=100")
    publish(stream, run_docs("a", 300), run_docs("b", 300))
    length = stream.client.xlen(stream.stream)
    assert 100 <= length < 300  # approximate: Redis trims whole nodes
    assert [e.name for e in stream.replay("b")][-1] == "stop"


def test_age_trimming_spares_what_a_group_has_not_handled(stream_uri):
    stream = RedisStream(f"{stream_uri}?max_age=0.5")
    reader = stream.group_reader("slow", "s1")
    publish(stream, run_docs("old", 5))
    time.sleep(0.7)
    publish(stream, run_docs("new", 5))
    stream.trim()
    assert [e.name for e in stream.replay("old")][0] == "start"  # unread by "slow": kept
    got: list[str] = []
    BusConsumer(reader, lambda n, d: got.append(d.get("uid", "")), count=50).run(idle_timeout=0.3)
    assert "old" in got and "new" in got and reader.missed() == 0
    time.sleep(0.7)
    assert stream.trim() > 0  # handled and old: gone now
    assert stream.client.xlen(stream.stream) == 0
    assert not stream.client.hexists(stream.runs_key, "old")  # the run index follows


def test_a_group_that_fell_behind_retention_reports_what_it_lost(stream_uri, caplog):
    stream = RedisStream(f"{stream_uri}?max_age=0.3&keep_unread=0")
    reader = stream.group_reader("late", "l1")
    publish(stream, run_docs("gone", 10))
    time.sleep(0.5)
    publish(stream, run_docs("kept", 2))
    assert stream.trim() >= 13
    caplog.set_level(logging.ERROR, logger="cielo.bus")
    got: list[str] = []
    consumer = BusConsumer(reader, lambda n, d: got.append(n), count=50)
    consumer.run(idle_timeout=0.3)
    assert got == ["start", "descriptor", "event", "event", "stop"]
    assert consumer.missed == reader.missed() == 13
    assert any("fell behind retention" in r.getMessage() for r in caplog.records)


def test_the_loss_is_told_in_band_before_the_next_document(stream_uri, caplog):
    stream = RedisStream(f"{stream_uri}?max_age=0.3&keep_unread=0")
    reader = stream.group_reader("late", "l1")
    publish(stream, run_docs("half", 10))

    class Seen:
        def __init__(self) -> None:
            self.got: list = []

        def __call__(self, name: str, doc: dict) -> None:
            self.got.append((name, doc.get("uid") or doc.get("run_start")))

        def gap(self, info: dict) -> None:
            self.got.append(("gap", info["missed"], info["open_runs"]))

    seen = Seen()
    consumer = BusConsumer(reader, seen, count=3)
    consumer.step()  # its own unacknowledged entries first: none
    assert consumer.step() == 3  # start, descriptor and one event of "half" handled
    time.sleep(1.1)  # the consumer checks for losses once a second
    publish(stream, run_docs("kept", 1))
    stream.trim()  # (publishing trimmed already): "half" is gone, 10 of its entries unread
    assert stream.client.xlen(stream.stream) == 4
    consumer.run(idle_timeout=0.3)
    assert seen.got == [
        ("start", "half"), ("descriptor", "half-d"), ("event", "half-0"),
        ("gap", 10, ["half"]),  # in band: after what came before, before what follows
        ("start", "kept"), ("descriptor", "kept-d"), ("event", "kept-0"), ("stop", "kept-s"),
    ]  # fmt: skip
    assert consumer.missed == 10
