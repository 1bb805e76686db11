"""A run whose queue worker was lost ends on the bus too: ``cielo serve`` closes it in the
catalog and sends that stop to the profile's bus, so bus consumers see it end.

A real ``cielo serve`` publishing to a real Redis; its worker SIGKILLed mid-run."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from cielo.bus import BusConsumer, RedisStream
from cielo.core import read_profile
from cielo.storage import open_catalog
from cielo.testing import QueueServer


class Runs:
    """The documents a consumer group receives, by run."""

    def __init__(self) -> None:
        self.docs: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, name: str, doc: dict[str, Any]) -> None:
        self.docs.append((name, doc))

    def stop_of(self, uid: str) -> dict[str, Any] | None:
        return next((d for n, d in self.docs if n == "stop" and d["run_start"] == uid), None)


@pytest.mark.timeout(300)
def test_the_stop_of_a_run_whose_worker_was_killed_comes_on_the_bus(
    redis_server: Any, tmp_path: Path, validate: Any
) -> None:
    uri = f"redis://127.0.0.1:{redis_server.port}/lost-{uuid.uuid4().hex[:8]}"
    profile = tmp_path / "beam.toml"
    profile.write_text(Path(read_profile("sim").path).read_text() + f'\n[publish]\nuri = "{uri}"\n')
    stream = RedisStream(uri)
    runs = Runs()
    consumer = BusConsumer(stream.group_reader("watch", "w1", start="$"), runs)
    follower = threading.Thread(target=consumer.run, daemon=True)
    follower.start()
    item = {"item_type": "plan", "name": "count", "args": [["det"]],
            "kwargs": {"num": 200, "delay": 0.1}}  # fmt: skip
    try:
        with QueueServer(tmp_path, str(profile)) as server:
            assert server.call("/api/queue/item/add", {"item": item})["success"]
            assert server.call("/api/queue/start")["success"]
            deadline = time.monotonic() + 120
            while sum(name == "event" for name, _ in runs.docs) < 3:  # a few points in
                assert time.monotonic() < deadline, "the run never started on the bus"
                time.sleep(0.05)
            (start,) = [doc for name, doc in runs.docs if name == "start"]
            os.kill(server.status()["worker_pid"], signal.SIGKILL)
            server.wait(lambda s: s["items_in_history"] == 1 and not s["worker_pid"], 120)
            deadline = time.monotonic() + 60
            while runs.stop_of(start["uid"]) is None:
                assert time.monotonic() < deadline, "the lost run's stop never came on the bus"
                time.sleep(0.1)
            (record,) = server.call("/api/history/get")["items"]
    finally:
        consumer.stop()
        follower.join(10)
    stop = runs.stop_of(start["uid"])
    assert stop is not None and stop["exit_status"] == "fail"
    validate("stop", stop)  # event-model's schema
    assert record["result"]["exit_status"] == "failed"
    assert "worker" in stop["reason"]
    with open_catalog(server.env["CIELO_CATALOG"]) as catalog:
        assert catalog[start["uid"]].stop == stop  # the same stop, in the catalog and on the bus
    replayed = list(stream.replay(start["uid"]))
    assert replayed[0].name == "start" and replayed[-1].name == "stop"  # indexed with its run
    assert replayed[-1].doc == stop
