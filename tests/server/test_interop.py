"""Bluesky's own client, ``bluesky-queueserver-api``'s ``REManagerAPI``, drives ``cielo serve``.

Every method the issue names is called against a real server and a real worker, with the
queue in SQLite and in a real redis-server (the same tests on both stores).
"""

from __future__ import annotations

import pathlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("bluesky_queueserver_api")
from bluesky_queueserver_api import BPlan
from bluesky_queueserver_api.http import REManagerAPI

from cielo.testing import QueueServer

pytestmark = [pytest.mark.interop, pytest.mark.slow]

#: a plan that runs long enough to be paused (0.05 s x 400 points)
LONG = {
    "item_type": "plan",
    "name": "count",
    "args": [["det"]],
    "kwargs": {"num": 400, "delay": 0.05},
}


@pytest.fixture(params=["sqlite", "redis"])
def served(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[QueueServer]:
    """A fresh ``cielo serve --profile sim`` (environment closed) on each queue store."""
    store = None
    if request.param == "redis":
        port = request.getfixturevalue("redis_server").port
        store = f"redis://127.0.0.1:{port}/0?prefix=interop:{uuid.uuid4().hex}"
    server = QueueServer(tmp_path, open=False, store=store)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def RM(served: Any) -> Any:
    client = REManagerAPI(http_server_uri=served.url)
    client.set_authorization_key(api_key=served.key)
    yield client
    client.close()


def names(RM: Any) -> list[str]:
    return [item["name"] for item in RM.queue_get()["items"]]


def wait_state(RM: Any, state: str, timeout: float = 30) -> None:
    RM.wait_for_condition(lambda s: s["manager_state"] == state, timeout=timeout)


def test_rem_api_edits_runs_and_reports_the_queue(RM: Any, served: Any) -> None:
    status = RM.status()
    assert status["manager_state"] == "idle" and status["worker_environment_exists"] is False
    for counter in (
        "plan_queue_uid",
        "plan_history_uid",
        "plans_allowed_uid",
        "devices_allowed_uid",
        "run_list_uid",
        "lock_info_uid",
    ):
        assert counter in status

    plans = RM.plans_allowed()["plans_allowed"]
    assert "count" in plans and plans["count"]["schema"]["properties"]["detectors"]
    devices = RM.devices_allowed()["devices_allowed"]
    assert "det" in devices and "motor.user_setpoint" in devices  # sub-devices by dotted name

    # editing: add (back, front, before/after), batch, get, move, remove, clear
    a = RM.item_add(BPlan("count", ["det"], num=2))["item"]
    b = RM.item_add(
        {
            "item_type": "plan",
            "name": "scan",
            "args": [["det"], "motor", -1, 1],
            "kwargs": {"num": 3},
        },
        pos="front",
    )["item"]
    RM.item_add(BPlan("count", ["det2"]), after_uid=b["item_uid"])
    assert names(RM) == ["scan", "count", "count"]
    batch = RM.item_add_batch(
        [BPlan("count", ["det"]), BPlan("rel_scan", ["det"], "motor", -1, 1, num=3)],
        before_uid=a["item_uid"],
    )
    assert len(batch["items"]) == 2 and all(r["success"] for r in batch["results"])
    assert names(RM) == ["scan", "count", "count", "rel_scan", "count"]
    assert RM.item_get(uid=b["item_uid"])["item"]["name"] == "scan"
    assert RM.item_get(pos="back")["item"]["item_uid"] == a["item_uid"]
    RM.item_move(uid=a["item_uid"], pos_dest="front")
    RM.item_move(pos=-1, before_uid=a["item_uid"])  # the back item goes in front of a
    assert RM.queue_get()["items"][1]["item_uid"] == a["item_uid"]
    removed = RM.item_remove(pos="front")["item"]
    assert removed["name"] == "rel_scan" and len(RM.queue_get()["items"]) == 4
    before = RM.status()["plan_queue_uid"]
    RM.item_remove(uid=b["item_uid"])
    assert RM.status()["plan_queue_uid"] != before  # every modification changes the counter
    with pytest.raises(RM.RequestFailedError, match="no item with uid"):
        RM.item_remove(uid="no-such-uid")

    # running: open, start, wait for idle, history with results
    RM.environment_open()
    RM.wait_for_idle(timeout=60)
    assert RM.status()["worker_environment_state"] == "idle"
    RM.queue_start()
    RM.wait_for_idle(timeout=60)
    history = RM.history_get()["items"]
    assert [h["result"]["exit_status"] for h in history] == ["completed"] * 3
    for record in history:
        result = record["result"]
        assert set(result) >= {
            "exit_status",
            "run_uids",
            "scan_ids",
            "time_start",
            "time_stop",
            "msg",
            "traceback",
        }
        assert len(result["run_uids"]) == 1 and result["time_stop"] >= result["time_start"]
    assert RM.queue_get()["items"] == [] and RM.queue_get()["running_item"] == {}

    # queue_stop: the queue stops after the running item
    RM.item_add(LONG)
    RM.item_add(BPlan("count", ["det"]))
    RM.queue_start()
    wait_state(RM, "executing_queue")
    RM.queue_stop()
    assert RM.status()["queue_stop_pending"] is True
    RM.re_pause("immediate")
    wait_state(RM, "paused")
    RM.re_resume()
    RM.re_pause("immediate")
    wait_state(RM, "paused")
    RM.re_stop()  # stopped: a success, recorded, not requeued; the queue stops
    RM.wait_for_idle(timeout=60)
    assert RM.history_get()["items"][-1]["result"]["exit_status"] == "stopped"
    assert names(RM) == ["count"]

    for end, status_name in (("re_abort", "aborted"), ("re_halt", "halted")):
        RM.item_add(LONG, pos="front")
        RM.queue_start()
        wait_state(RM, "executing_queue")
        RM.re_pause("immediate")
        wait_state(RM, "paused")
        getattr(RM, end)()
        RM.wait_for_idle(timeout=60)
        last = RM.history_get()["items"][-1]
        assert last["result"]["exit_status"] == status_name
        front = RM.queue_get()["items"][0]  # back at the front, with a new uid
        assert front["kwargs"] == LONG["kwargs"] and front["item_uid"] != last["item_uid"]
        RM.item_remove(pos="front")

    RM.history_clear()
    assert RM.history_get()["items"] == []
    RM.queue_clear()
    assert RM.queue_get()["items"] == []

    RM.environment_close()
    RM.wait_for_idle(timeout=60)
    assert RM.status()["worker_environment_exists"] is False
    RM.environment_open()
    RM.wait_for_idle(timeout=60)
    RM.environment_destroy()
    RM.wait_for_idle(timeout=60)
    assert RM.status()["worker_environment_exists"] is False


def test_rem_api_refusals_raise_with_the_servers_message(RM: Any) -> None:
    with pytest.raises(RM.RequestFailedError, match="unknown plan 'cont'; did you mean 'count'"):
        RM.item_add(BPlan("cont", ["det"]))
    with pytest.raises(RM.RequestFailedError, match="parameter num"):
        RM.item_add(BPlan("count", ["det"], num="three"))
    with pytest.raises(RM.RequestFailedError, match="not open"):
        RM.environment_close()
    with pytest.raises(RM.RequestFailedError, match="open it first"):
        RM.queue_start()
    assert RM.queue_get()["items"] == []
    bad = REManagerAPI(http_server_uri=RM._http_server_uri)
    with pytest.raises(bad.HTTPClientError, match="401"):
        bad.status()
    bad.close()


def test_rem_api_batches_updates_modes_autostart_and_immediate_execution(RM: Any) -> None:
    """The client's other methods: update, move and remove batches, loop mode, a stop
    cancelled, autostart and an item executed at once, outside the queue."""
    a, b, c = (RM.item_add(BPlan("count", ["det"], num=n))["item"] for n in (1, 2, 3))
    updated = RM.item_update({**a, "kwargs": {"num": 4}})["item"]
    assert updated["item_uid"] == a["item_uid"] and updated["kwargs"] == {"num": 4}
    RM.item_move_batch(uids=[c["item_uid"], b["item_uid"]], pos_dest="front")
    assert [i["item_uid"] for i in RM.queue_get()["items"]] == [
        c["item_uid"], b["item_uid"], a["item_uid"]
    ]  # fmt: skip
    RM.item_remove_batch(uids=[b["item_uid"], c["item_uid"], "no-such-uid"])
    assert [i["item_uid"] for i in RM.queue_get()["items"]] == [a["item_uid"]]

    RM.environment_open()
    RM.wait_for_idle(timeout=60)
    # loop mode: a finished item goes back to the end, so the queue runs until stopped
    RM.queue_mode_set(loop=True)
    assert RM.status()["plan_queue_mode"]["loop"] is True
    RM.queue_start()
    RM.wait_for_condition(lambda s: s["items_in_history"] >= 3, timeout=60)
    RM.queue_stop()
    RM.wait_for_idle(timeout=60)
    assert [i["kwargs"] for i in RM.queue_get()["items"]] == [{"num": 4}]  # still queued
    RM.queue_mode_set(mode="default")
    assert RM.status()["plan_queue_mode"] == {"loop": False, "ignore_failures": False}

    # a stop asked, then cancelled: the queue goes on past the running item
    RM.item_add(LONG, pos="front")
    RM.queue_start()
    wait_state(RM, "executing_queue")
    RM.queue_stop()
    assert RM.status()["queue_stop_pending"] is True
    RM.queue_stop_cancel()
    assert RM.status()["queue_stop_pending"] is False
    RM.re_pause("immediate")
    wait_state(RM, "paused")
    RM.re_resume()
    RM.item_remove(pos="back")  # the count after LONG: the queue ends with LONG
    RM.re_pause("immediate")
    wait_state(RM, "paused")
    RM.re_stop()
    RM.wait_for_idle(timeout=60)
    done = len(RM.history_get()["items"])

    # an item executed at once: outside the queue, recorded in history
    executed = RM.item_execute(BPlan("count", ["det"], num=2))["item"]
    RM.wait_for_condition(lambda s: s["items_in_history"] == done + 1, timeout=60)
    RM.wait_for_idle(timeout=60)
    last = RM.history_get()["items"][-1]
    assert last["item_uid"] == executed["item_uid"]
    assert last["result"]["exit_status"] == "completed" and RM.queue_get()["items"] == []

    # autostart: an item added to an idle queue starts by itself
    RM.queue_autostart(True)
    assert RM.status()["queue_autostart_enabled"] is True
    RM.item_add(BPlan("count", ["det"]))
    RM.wait_for_condition(lambda s: s["items_in_history"] == done + 2, timeout=60)
    RM.queue_autostart(False)
    RM.wait_for_idle(timeout=60)
    assert RM.history_get()["items"][-1]["result"]["exit_status"] == "completed"


def test_rem_api_a_failed_item_stops_the_queue_unless_failures_are_ignored(RM: Any) -> None:
    """A plan that fails at run time (a scan of the shutter, which takes only 'open' or
    'closed') goes to history with its error and back to the front, and the queue stops;
    in ignore-failures mode it is recorded and the queue goes on."""
    failing = BPlan("scan", ["det"], "shutter", 0, 1, 3)
    RM.item_add(failing)
    RM.item_add(BPlan("count", ["det"]))
    RM.environment_open()
    RM.wait_for_idle(timeout=60)
    RM.queue_start()
    RM.wait_for_idle(timeout=60)
    [record] = RM.history_get()["items"]
    assert record["result"]["exit_status"] == "failed"
    assert "cannot set the shutter to 0.0; use 'open' or 'closed'" in record["result"]["msg"]
    assert [i["name"] for i in RM.queue_get()["items"]] == ["scan", "count"]  # stopped
    RM.queue_mode_set(ignore_failures=True)
    RM.queue_start()
    RM.wait_for_idle(timeout=60)
    statuses = [h["result"]["exit_status"] for h in RM.history_get()["items"]]
    assert statuses == ["failed", "failed", "completed"] and RM.queue_get()["items"] == []


def test_rem_api_a_queue_stop_instruction_and_a_deferred_pause(RM: Any) -> None:
    """A ``queue_stop`` instruction stops the queue where it stands (recorded, the items
    behind it kept); a deferred pause pauses at the plan's next checkpoint."""
    from bluesky_queueserver_api import BInst

    RM.item_add(BPlan("count", ["det"]))
    RM.item_add(BInst("queue_stop"))
    RM.item_add(BPlan("count", ["det2"]))
    RM.environment_open()
    RM.wait_for_idle(timeout=60)
    RM.queue_start()
    RM.wait_for_idle(timeout=60)
    done = RM.history_get()["items"]
    assert [(h["item_type"], h["name"]) for h in done] == [
        ("plan", "count"), ("instruction", "queue_stop")
    ]  # fmt: skip
    assert [i["args"] for i in RM.queue_get()["items"]] == [[["det2"]]]
    RM.item_add(LONG, pos="front")
    RM.queue_start()
    RM.wait_for_condition(lambda s: s["re_state"] == "running", timeout=30)
    RM.re_pause("deferred")
    wait_state(RM, "paused")
    assert RM.status()["re_state"] == "paused"
    RM.re_abort()
    RM.wait_for_idle(timeout=60)
    assert RM.history_get()["items"][-1]["result"]["exit_status"] == "aborted"
