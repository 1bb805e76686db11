"""``cielo serve --store`` on both backends end to end (SQLite, and a real redis-server),
and the manager SIGKILLed at random moments while clients edit the queue: after each
restart every acknowledged edit is there, the one in flight is all or nothing, nothing
is duplicated."""

from __future__ import annotations

import pathlib
import random
import threading
import time
import uuid
from typing import Any

import httpx
import pytest

from cielo.testing import QueueServer

pytestmark = pytest.mark.slow

COUNT = {"item_type": "plan", "name": "count", "args": [["det"]], "kwargs": {"num": 2}}


@pytest.fixture(params=["sqlite", "redis"])
def store_uri(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.sqlite'}"
    server = request.getfixturevalue("redis_server")
    return f"redis://127.0.0.1:{server.port}/0?prefix=served:{uuid.uuid4().hex}"


def items(served: QueueServer) -> list[dict[str, Any]]:
    return list(served.call("/api/queue/get")["items"])


def test_a_queue_runs_and_survives_a_restart_on_each_store(
    store_uri: str, tmp_path: pathlib.Path
) -> None:
    served = QueueServer(tmp_path, open=False, store=store_uri).start()
    try:
        assert served.call("/api/config/get")["success"]
        served.open_environment()
        reply = served.call("/api/queue/item/add/batch", {"items": [COUNT] * 3})
        assert reply["success"], reply["msg"]
        assert served.call("/api/queue/start")["success"]
        served.wait(lambda s: s["manager_state"] == "idle" and s["items_in_history"] == 3, 90)
        served.call("/api/queue/item/add", {"item": COUNT})
        proposal = served.call("/api/proposals/add", {"item": COUNT})["item"]
        queued, history = items(served), served.call("/api/history/get")["items"]
        assert [h["result"]["exit_status"] for h in history] == ["completed"] * 3
        assert all(len(h["result"]["run_uids"]) == 1 for h in history)

        served.kill()
        served.start()
        assert items(served) == queued
        assert served.call("/api/history/get")["items"] == history
        proposed = served.call("/api/proposals/get")["items"]
        assert [p["item_uid"] for p in proposed] == [proposal["item_uid"]]
    finally:
        served.stop()


class Editor(threading.Thread):
    """Adds (one or a batch), moves and removes items until the server goes away; keeps
    what the server acknowledged, and the operation in flight when it went."""

    def __init__(self, served: QueueServer, queued: list[str], seed: int) -> None:
        super().__init__(daemon=True)
        self.served, self.rng = served, random.Random(seed)
        self.queued = list(queued)  # the queue as acknowledged, front first
        self.in_flight: tuple[str, Any] | None = None
        self.acknowledged = 0

    def run(self) -> None:
        http = httpx.Client(base_url=self.served.url, headers=self.served.headers, timeout=10)
        while True:
            op = self.rng.choice(["add", "batch", "move", "remove"] if self.queued else ["add"])
            try:
                if op == "add":
                    self.in_flight = ("add", None)
                    reply = http.post("/api/queue/item/add", json={"item": COUNT}).json()
                    self.queued.append(reply["item"]["item_uid"])
                elif op == "batch":
                    self.in_flight = ("batch", None)
                    reply = http.post("/api/queue/item/add/batch", json={"items": [COUNT] * 3})
                    self.queued += [i["item_uid"] for i in reply.json()["items"]]
                elif op == "move":
                    uid = self.rng.choice(self.queued)
                    self.in_flight = ("move", uid)
                    body = {"uid": uid, "pos_dest": "front"}
                    assert http.post("/api/queue/item/move", json=body).json()["success"]
                    self.queued.remove(uid)
                    self.queued.insert(0, uid)
                else:
                    uid = self.rng.choice(self.queued)
                    self.in_flight = ("remove", uid)
                    body = {"uid": uid}
                    assert http.post("/api/queue/item/remove", json=body).json()["success"]
                    self.queued.remove(uid)
            except (httpx.HTTPError, ValueError):
                return  # the manager was killed: ``in_flight`` may or may not have happened
            self.in_flight = None
            self.acknowledged += 1


def consistent(model: list[str], found: list[str], in_flight: tuple[str, Any] | None) -> bool:
    """Whether ``found`` is ``model`` with the operation in flight applied or not."""
    if found == model:
        return True
    kind, uid = in_flight or ("", None)
    if kind in ("add", "batch"):
        size = 1 if kind == "add" else 3
        return found[:-size] == model and len(found) == len(model) + size
    if kind == "move":
        return found == [uid] + [u for u in model if u != uid]
    if kind == "remove":
        return found == [u for u in model if u != uid]
    return False


@pytest.mark.timeout(900)
def test_the_manager_killed_at_random_moments_during_edits(
    store_uri: str, tmp_path: pathlib.Path
) -> None:
    rng = random.Random(20261202)
    served = QueueServer(tmp_path, open=False, store=store_uri).start()
    queued: list[str] = []
    edits = 0
    try:
        for trial in range(5):
            editor = Editor(served, queued, seed=trial)
            editor.start()
            target, deadline = rng.randint(1, 6), time.monotonic() + 60
            while editor.acknowledged < target and time.monotonic() < deadline:
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.03))  # at a random point of the next edits
            served.kill()
            editor.join(30)
            served.start()
            found = [i["item_uid"] for i in items(served)]
            assert len(set(found)) == len(found), f"trial {trial}: an item is duplicated"
            assert consistent(editor.queued, found, editor.in_flight), (
                f"trial {trial}: after {editor.acknowledged} acknowledged edits and "
                f"{editor.in_flight} in flight, the queue is {found}, not {editor.queued}"
            )
            queued = found
            edits += editor.acknowledged
    finally:
        served.stop()
    assert edits >= 10, f"only {edits} edits were acknowledged: the trials tested little"
