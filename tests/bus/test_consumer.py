"""Consumer groups, acknowledgements, replay and the remote dispatcher, against real Redis."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from cielo import RunEngine, load_profile
from cielo.bus import BusConsumer, Publisher, RedisStream, RemoteDispatcher, iter_entries
from cielo.callbacks import LiveTable


@pytest.fixture(scope="module")
def sim() -> Any:
    return load_profile("sim")


def publish_runs(sim: Any, uri: str, *plans: Any) -> tuple[list[tuple[str, dict]], list[str]]:
    seen: list[tuple[str, dict]] = []
    with (
        Publisher(RedisStream(uri)) as publisher,
        RunEngine(plugin_manager=sim.pm, scan_id_file=None) as RE,
    ):
        RE.subscribe(publisher)
        RE.subscribe(lambda name, doc: seen.append((name, doc)))
        uids = [uid for plan in plans for uid in RE(plan)]
    return seen, uids


def count(sim: Any, num: int) -> Any:
    return sim.plans["count"]([sim.devices["det"]], num=num)


def test_a_restarted_member_resumes_with_what_it_never_acknowledged(sim, stream_uri):
    seen, _ = publish_runs(sim, stream_uri, count(sim, 30))
    stream = RedisStream(stream_uri)
    crashed = stream.group_reader("store", "worker-1")
    half = crashed.read(3, 0.1)  # delivered, never acknowledged: the member "dies" here
    assert [e.name for e in half] == ["start", "descriptor", "event_page"]
    got: list[tuple[str, dict]] = []
    consumer = BusConsumer(
        stream.group_reader("store", "worker-1"), lambda n, d: got.append((n, d))
    )
    consumer.run(idle_timeout=0.5)
    assert got == seen  # the unacknowledged entries again, then the rest: nothing lost or doubled
    again: list[Any] = []
    BusConsumer(stream.group_reader("store", "worker-1"), lambda n, d: again.append(n)).run(
        idle_timeout=0.3
    )
    assert again == []  # everything was acknowledged


def test_two_groups_each_get_everything_and_members_of_one_group_share(sim, stream_uri):
    seen, _ = publish_runs(sim, stream_uri, count(sim, 5), count(sim, 5))
    stream = RedisStream(stream_uri)
    whole: list[Any] = []
    BusConsumer(stream.group_reader("archive", "a"), lambda n, d: whole.append((n, d))).run(
        idle_timeout=0.3
    )
    assert whole == seen
    shared: list[Any] = []
    for member in ("b1", "b2"):
        reader = stream.group_reader("live", member)
        BusConsumer(reader, lambda n, d: shared.append((n, d)), count=3).run(idle_timeout=0.3)
    assert sorted(d["uid"] for _, d in shared) == sorted(d["uid"] for _, d in seen)


class FlakyStore:
    """Stores runs; fails once in the middle of the first run (a storage outage)."""

    def __init__(self) -> None:
        self.runs: dict[str, list[tuple[str, dict]]] = {}
        self.current: list[tuple[str, dict]] = []
        self.failed = False
        self.resets = 0

    def __call__(self, name: str, doc: dict) -> None:
        if name == "event" and doc["seq_num"] == 7 and not self.failed:
            self.failed = True
            raise ConnectionError("storage went away")
        if name == "start":
            self.current = self.runs[doc["uid"]] = []  # a run arriving again replaces its copy
        self.current.append((name, doc))

    def reset(self) -> None:
        self.resets += 1


def test_ack_per_run_gives_a_failed_run_again_from_its_start(sim, stream_uri, caplog):
    seen, uids = publish_runs(sim, stream_uri, count(sim, 10), count(sim, 3))
    store = FlakyStore()
    reader = RedisStream(stream_uri).group_reader("catalog", "c")
    consumer = BusConsumer(reader, store, ack="run", retry_interval=0.05, count=4)
    consumer.run(idle_timeout=0.5)
    assert store.failed and store.resets == 1 and consumer.failures == 1
    assert [d for run in uids for d in store.runs[run]] == seen
    assert any("storage went away" in r.getMessage() for r in caplog.records)


def test_replay_one_run_or_the_runs_started_in_a_time_range(sim, stream_uri):
    seen1, (first,) = publish_runs(sim, stream_uri, count(sim, 3))
    time.sleep(0.05)
    between = time.time()
    time.sleep(0.05)
    seen2, (second,) = publish_runs(sim, stream_uri, count(sim, 4))
    stream = RedisStream(stream_uri)
    assert list(iter_entries(list(stream.replay(first[:6])))) == seen1
    assert list(iter_entries(list(stream.replay(since=between)))) == seen2
    assert list(iter_entries(list(stream.replay(until=between)))) == seen1
    assert list(iter_entries(list(stream.replay(since=0)))) == seen1 + seen2


REMOTE = textwrap.dedent(
    """
    import sys
    from cielo.bus import RemoteDispatcher, open_transport
    from cielo.callbacks import LiveTable, per_run

    uri, out = sys.argv[1], sys.argv[2]
    with open(out, "w") as f:
        dispatcher = RemoteDispatcher(open_transport(uri), group="tables", consumer="t1", start="0")
        dispatcher.subscribe(per_run(lambda: LiveTable(out=f, width=100)))
        dispatcher.start(idle_timeout=float(sys.argv[3]))
    """
)


def test_remote_dispatcher_in_another_process_prints_the_same_table(
    sim, stream_uri, tmp_path: Path
):
    local = io.StringIO()
    with (
        Publisher(RedisStream(stream_uri)) as publisher,
        RunEngine(plugin_manager=sim.pm, scan_id_file=None) as RE,
    ):
        RE.subscribe(publisher)
        RE.subscribe(LiveTable(out=local, width=100))
        RE(sim.plans["scan"]([sim.devices["det"]], sim.devices["motor"], -2, 2, 9))
    out = tmp_path / "table.txt"
    subprocess.run(
        [sys.executable, "-c", REMOTE, stream_uri, str(out), "1.0"], check=True, timeout=60
    )
    assert out.read_text() == local.getvalue()
    assert "motor" in local.getvalue() and local.getvalue().count("\n") > 9


def test_remote_dispatcher_without_a_group_follows_new_runs(sim, stream_uri):
    publish_runs(sim, stream_uri, count(sim, 2))  # before it starts: not seen
    dispatcher = RemoteDispatcher(RedisStream(stream_uri))
    got: list[str] = []
    dispatcher.subscribe(lambda n, d: got.append(n))
    dispatcher.subscribe(lambda n, d: 1 / 0, "stop")  # a failing callback harms no other

    import threading

    thread = threading.Thread(target=dispatcher.start, daemon=True)
    thread.start()
    time.sleep(0.3)
    publish_runs(sim, stream_uri, count(sim, 3))
    deadline = time.monotonic() + 10
    while "stop" not in got and time.monotonic() < deadline:
        time.sleep(0.05)
    dispatcher.stop()
    thread.join(5)
    assert got == ["start", "descriptor", "event", "event", "event", "stop"]
    assert len(dispatcher.errors) == 1 and dispatcher.errors[0][1] == "stop"


def test_a_member_that_died_for_good_is_taken_over_by_another(sim, stream_uri, caplog):
    seen, _ = publish_runs(sim, stream_uri, count(sim, 20))
    stream = RedisStream(stream_uri)
    gone = stream.group_reader("catalog", "host-a")
    assert len(gone.read(2, 0.1)) == 2  # host-a took the run's first entries, then died
    time.sleep(1.2)
    store = FlakyStore()
    store.failed = True  # no failure here
    other = BusConsumer(stream.group_reader("catalog", "host-b"), store, ack="run", claim_after=1.0)
    other.run(idle_timeout=0.5)
    assert [d for run in store.runs.values() for d in run] == seen  # whole, in order, once
    members = [m["name"] for m in stream.client.xinfo_consumers(stream.stream, "catalog")]
    assert members == [b"host-b"]
    assert any("'host-a' silent" in r.getMessage() for r in caplog.records)
