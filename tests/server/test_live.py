"""Live feeds over websockets: every status change pushed (no false idle between items),
and every document of the running plans (valid for event-model, with the item's md)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

websockets_sync = pytest.importorskip("websockets.sync.client")

pytestmark = pytest.mark.slow


def collect(served: Any, path: str, out: list[dict[str, Any]], until: Any) -> threading.Thread:
    """Read ``path``'s messages into ``out`` in a thread until ``until(message)``."""
    url = served.url.replace("http://", "ws://") + path
    ready = threading.Event()

    def read() -> None:
        with websockets_sync.connect(url, additional_headers=served.headers) as ws:
            ready.set()
            while True:
                message = json.loads(ws.recv(timeout=60))
                out.append(message)
                if until(message):
                    return

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    assert ready.wait(30)
    return thread


def test_status_and_documents_are_pushed(served: Any, validate: Any) -> None:
    served.open_environment()
    items = [
        {
            "item_type": "plan",
            "name": "count",
            "args": [["det"]],
            "kwargs": {"num": 3, "md": {"agent_suggestion": n}},
        }
        for n in range(3)
    ]
    assert served.request("/api/queue/item/add/batch", {"items": items}).json()["success"]
    statuses: list[dict[str, Any]] = []
    documents: list[dict[str, Any]] = []
    status_reader = collect(
        served,
        "/api/status/ws",
        statuses,
        lambda s: s["items_in_history"] == 3 and s["manager_state"] == "idle",
    )
    stops: list[str] = []

    def third_stop(message: dict[str, Any]) -> bool:
        if message["name"] == "stop":
            stops.append(message["doc"]["uid"])
        return len(stops) == 3

    doc_reader = collect(served, "/api/documents/ws", documents, third_stop)
    assert served.request("/api/queue/start").json()["success"]
    status_reader.join(60)
    assert not status_reader.is_alive()

    states = [s["manager_state"] for s in statuses]
    first_run = states.index("executing_queue")
    assert "idle" not in states[first_run:-1], f"a false idle between items: {states}"
    assert statuses[-1]["items_in_queue"] == 0

    doc_reader.join(30)
    assert not doc_reader.is_alive()
    for message in documents:
        validate(message["name"], message["doc"])
    run_starts = [m["doc"] for m in documents if m["name"] == "start"]
    assert [d["agent_suggestion"] for d in run_starts] == [0, 1, 2]  # md reaches the run start
    history = served.request("/api/history/get", method="GET").json()["items"]
    assert [h["result"]["run_uids"][0] for h in history] == [d["uid"] for d in run_starts]


def test_a_websocket_without_a_key_is_refused(served: Any) -> None:
    url = served.url.replace("http://", "ws://") + "/api/status/ws"
    with pytest.raises(Exception, match="4401|not authenticated"):
        with websockets_sync.connect(url) as ws:
            ws.recv(timeout=10)
