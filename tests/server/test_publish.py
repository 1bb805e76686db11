"""A profile's ``[publish]`` bus is honoured by ``cielo serve``'s worker, as by ``cielo run``."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

pytest.importorskip("redis")

from cielo.bus import RedisStream
from cielo.core import read_profile
from cielo.testing import QueueServer


def test_the_worker_publishes_every_document_to_the_profiles_bus(
    redis_server: Any, tmp_path: pathlib.Path
) -> None:
    profile = tmp_path / "beamq.toml"
    sim = pathlib.Path(read_profile("sim").path).read_text()
    profile.write_text(sim + f'\n[publish]\nuri = "redis://127.0.0.1:{redis_server.port}"\n')
    served = QueueServer(tmp_path, profile=str(profile), open=False).start()
    try:
        served.open_environment()
        item = {"item_type": "plan", "name": "count", "args": [["det"]], "kwargs": {"num": 3}}
        assert served.request("/api/queue/item/add", {"item": item}).json()["success"]
        assert served.request("/api/queue/start").json()["success"]
        served.wait(lambda s: s["manager_state"] == "idle" and s["items_in_history"] == 1)
        (record,) = served.request("/api/history/get", method="GET").json()["items"]
        (uid,) = record["result"]["run_uids"]
        served.request("/api/environment/close")
        served.wait(lambda s: s["worker_environment_exists"] is False)
    finally:
        served.stop()
    stream = RedisStream(f"redis://127.0.0.1:{redis_server.port}/cielo.beamq")
    names = [entry.name for entry in stream.replay(uid)]
    assert names[0] == "start" and names[-1] == "stop" and "descriptor" in names
    events = [e.doc for e in stream.replay(uid) if e.name in ("event", "event_page")]
    assert sum(len(d["seq_num"]) if isinstance(d["seq_num"], list) else 1 for d in events) == 3
