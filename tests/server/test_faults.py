"""Faults of real processes: the manager or the worker killed (SIGKILL) or hung (SIGSTOP)."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest

pytestmark = pytest.mark.slow

LONG = {
    "item_type": "plan",
    "name": "count",
    "args": [["det"]],
    "kwargs": {"num": 400, "delay": 0.05},
}
SHORT = {"item_type": "plan", "name": "count", "args": [["det"]], "kwargs": {"num": 2}}


def add(served: Any, item: dict[str, Any], **where: Any) -> dict[str, Any]:
    reply = served.request("/api/queue/item/add", {"item": item, **where}).json()
    assert reply["success"], reply["msg"]
    return dict(reply["item"])


def queue_uids(served: Any) -> list[str]:
    return [i["item_uid"] for i in served.request("/api/queue/get", method="GET").json()["items"]]


def history(served: Any) -> list[dict[str, Any]]:
    return list(served.request("/api/history/get", method="GET").json()["items"])


def running_item(served: Any) -> dict[str, Any]:
    served.wait(lambda s: s["running_item_uid"] is not None and s["re_state"] == "running")
    return dict(served.request("/api/queue/get", method="GET").json()["running_item"])


def test_a_killed_manager_restarts_with_queue_and_history(served: Any) -> None:
    served.open_environment()
    add(served, SHORT)
    assert served.request("/api/queue/start").json()["success"]
    served.wait(lambda s: s["manager_state"] == "idle" and s["items_in_history"] == 1)
    for n in range(5):
        add(served, dict(SHORT, kwargs={"num": n + 1}), pos="front")
    queued, recorded = queue_uids(served), history(served)
    served.request("/api/environment/close")
    served.wait(lambda s: s["worker_environment_exists"] is False)

    served.kill()
    served.start()
    assert queue_uids(served) == queued
    assert history(served) == recorded
    served.open_environment()  # the instrument lock was released with the worker
    assert served.request("/api/queue/start").json()["success"]
    served.wait(lambda s: s["manager_state"] == "idle" and s["items_in_history"] == 6)
    assert [h["result"]["exit_status"] for h in history(served)] == ["completed"] * 6


def test_a_running_plan_survives_the_manager_and_is_reported_again(served: Any) -> None:
    served.open_environment()
    item = add(served, dict(LONG, kwargs={"num": 1200, "delay": 0.05}))  # 60 s
    add(served, SHORT)
    served.request("/api/queue/start")
    assert running_item(served)["item_uid"] == item["item_uid"]
    worker = served.status()["worker_pid"]

    served.kill()  # SIGKILL the manager mid-plan: the worker goes on
    served.start()
    status = served.status()
    assert status["worker_pid"] == worker and status["running_item_uid"] == item["item_uid"]
    assert status["manager_state"] == "executing_queue" and status["re_state"] == "running"
    # the restarted manager controls the plan it found running
    assert served.request("/api/re/pause", {"option": "immediate"}).json()["success"]
    served.wait(lambda s: s["manager_state"] == "paused")
    assert served.request("/api/re/stop").json()["success"]
    status = served.wait(lambda s: s["manager_state"] == "idle", timeout=60)
    last = history(served)[-1]
    assert last["item_uid"] == item["item_uid"]
    assert last["result"]["exit_status"] == "stopped" and len(last["result"]["run_uids"]) == 1
    assert status["items_in_queue"] == 1  # the next item waits for a queue_start


def closed_run(served: Any, uid: str, timeout: float = 10.0) -> Any:
    """Run ``uid`` of the served catalog once it has a stop document."""
    from cielo.storage import open_catalog

    deadline = time.monotonic() + timeout
    while True:
        catalog = open_catalog(served.env["CIELO_CATALOG"], create=False)
        try:
            run = catalog[uid]
        finally:
            catalog.close()
        if run.stop is not None or time.monotonic() > deadline:
            return run
        time.sleep(0.1)


def test_a_killed_worker_is_detected_within_2_s_and_its_item_failed(
    served: Any, validate: Any
) -> None:
    served.open_environment()
    item = add(served, LONG)
    rest = add(served, SHORT)
    served.request("/api/queue/start")
    running_item(served)
    pid = served.status()["worker_pid"]
    time.sleep(1.0)  # events reach the catalog in pages, at least every 0.5 s

    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    served.wait(lambda s: s["worker_environment_exists"] is False, timeout=10)
    detected = time.monotonic() - killed
    assert detected <= 2.0, f"a dead worker was noticed after {detected:.2f} s"
    status = served.status()
    assert status["manager_state"] == "idle" and status["running_item_uid"] is None
    assert "SIGKILL" in status["worker_environment_error"]
    last = history(served)[-1]
    assert last["item_uid"] == item["item_uid"]
    assert last["result"]["exit_status"] == "failed" and "SIGKILL" in last["result"]["msg"]
    assert queue_uids(served) == [rest["item_uid"]]  # the queue is intact
    # its open run is closed in the catalog, saying why
    (run_uid,) = last["result"]["run_uids"]
    run = closed_run(served, run_uid)
    assert run.start["queue_item_uid"] == item["item_uid"]
    assert run.stop is not None, "the lost worker's run was left open"
    assert run.stop["exit_status"] == "fail" and "SIGKILL" in run.stop["reason"]
    assert run.stop["num_events"]["primary"] >= 1
    validate("stop", run.stop)

    served.open_environment()  # the lock died with the worker
    served.request("/api/queue/start")
    served.wait(lambda s: s["manager_state"] == "idle" and s["items_in_queue"] == 0)
    assert history(served)[-1]["result"]["exit_status"] == "completed"


def test_manager_and_worker_killed_the_restart_closes_the_items_run(served: Any) -> None:
    served.open_environment()
    item = add(served, LONG)
    served.request("/api/queue/start")
    running_item(served)
    served.wait(lambda s: len(served.request("/api/re/runs").json()["run_list"]) == 1)
    (run,) = served.request("/api/re/runs").json()["run_list"]
    pid = served.status()["worker_pid"]
    served.kill()
    os.kill(pid, signal.SIGKILL)

    served.start()
    last = history(served)[-1]
    assert last["item_uid"] == item["item_uid"] and last["result"]["exit_status"] == "failed"
    assert "interrupted: the manager restarted" in last["result"]["msg"]
    stored = closed_run(served, run["uid"])
    assert stored.stop is not None and stored.stop["exit_status"] == "fail"
    assert "interrupted" in stored.stop["reason"]


def test_a_hung_worker_is_detected_killed_and_its_item_failed(served: Any) -> None:
    served.open_environment()
    item = add(served, LONG)
    served.request("/api/queue/start")
    running_item(served)
    pid = served.status()["worker_pid"]

    os.kill(pid, signal.SIGSTOP)
    stopped = time.monotonic()
    try:
        served.wait(lambda s: s["worker_environment_exists"] is False, timeout=10)
    finally:
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
    detected = time.monotonic() - stopped
    assert detected <= 2.0, f"a hung worker was noticed after {detected:.2f} s"
    last = history(served)[-1]
    assert last["item_uid"] == item["item_uid"] and last["result"]["exit_status"] == "failed"
    assert "stopped answering" in last["result"]["msg"]
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # it was killed (and reaped by the manager)
    served.open_environment()


def test_stopping_the_server_aborts_the_running_plan_and_requeues_it(served: Any) -> None:
    served.open_environment()
    item = add(served, LONG)
    served.request("/api/queue/start")
    running_item(served)
    worker = served.status()["worker_pid"]
    served.stop()  # SIGTERM: the plan is aborted (devices stopped), the worker closed
    with pytest.raises(ProcessLookupError):
        os.kill(worker, 0)
    served.start()
    last = history(served)[-1]
    assert last["item_uid"] == item["item_uid"] and last["result"]["exit_status"] == "aborted"
    front = served.request("/api/queue/get", method="GET").json()["items"][0]
    assert front["kwargs"] == LONG["kwargs"] and front["item_uid"] != item["item_uid"]


def test_cielo_run_is_refused_while_the_server_holds_the_instrument(served: Any) -> None:
    import subprocess
    import sys

    served.open_environment()
    result = subprocess.run(
        [sys.executable, "-m", "cielo.cli", "run", "--profile", "sim", "count([det])"],
        env=served.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "cielo serve worker" in result.stderr and "in use" in result.stderr


def test_opening_is_refused_while_another_runner_holds_the_instrument(served: Any) -> None:
    from cielo.core import InstrumentLock

    lock = InstrumentLock(
        "sim", holder="a test's cielo run", directory=served.env["CIELO_LOCK_DIR"]
    )
    with lock:
        assert served.request("/api/environment/open").json()["success"]
        status = served.wait(
            lambda s: s["manager_state"] == "idle" and not s["worker_environment_exists"]
        )
        assert "in use by a test's cielo run" in status["worker_environment_error"]
        reply = served.request("/api/queue/start").json()
        assert reply["success"] is False and "in use by" in reply["msg"]
    served.open_environment()  # free again


def test_a_worker_without_a_manager_releases_the_instrument(served: Any) -> None:
    from cielo.core import InstrumentBusy, InstrumentLock

    served.stop()
    served.env["CIELO_SERVER_ORPHAN_TIMEOUT"] = "1"
    served.start()
    served.open_environment()
    served.kill()  # no manager comes back
    lock = InstrumentLock("sim", holder="a test", directory=served.env["CIELO_LOCK_DIR"])
    deadline = time.monotonic() + 30
    while True:
        try:
            lock.acquire()
            break
        except InstrumentBusy:
            assert time.monotonic() < deadline, "the orphaned worker kept the instrument"
            time.sleep(0.2)
    lock.release()


@pytest.mark.timeout(400)  # three environments opened, three profile loads
def test_environment_reload_reads_the_profile_again_and_keeps_the_queue(
    tmp_path: Any,
) -> None:
    import pathlib

    from cielo.core import read_profile
    from cielo.testing import QueueServer

    sim = pathlib.Path(read_profile("sim").path).read_text()
    profile = tmp_path / "beam.toml"
    profile.write_text(sim)
    served = QueueServer(tmp_path, profile=str(profile), open=False).start()
    try:
        served.open_environment()
        queued = add(served, SHORT)
        pid = served.status()["worker_pid"]
        assert "det9" not in served.call("/api/devices/allowed")["devices_allowed"]

        profile.write_text(
            sim + '\n[devices.det9]\ntype = "sim.peak_detector"\nmotors = ["motor"]\n'
        )
        reply = served.call("/api/environment/reload", {})
        assert reply["success"], reply["msg"]
        status = served.wait(lambda s: s["worker_environment_state"] == "idle", 90)
        assert status["worker_pid"] != pid
        assert "det9" in served.call("/api/devices/allowed")["devices_allowed"]
        assert queue_uids(served) == [queued["item_uid"]]
        add(served, dict(SHORT, args=[["det9"]]))

        profile.write_text(sim.replace('type = "sim.motor"', 'type = "sim.no_such_device"', 1))
        pid = served.status()["worker_pid"]
        reply = served.call("/api/environment/reload", {})
        assert reply["success"] is False and "did not load" in reply["msg"]
        assert "sim.no_such_device" in reply["msg"]
        status = served.status()  # nothing changed: the worker was not touched
        assert status["worker_environment_state"] == "idle" and status["worker_pid"] == pid
        assert "det9" in served.call("/api/devices/allowed")["devices_allowed"]
        profile.write_text(sim)  # det9 gone: the queued item that uses it is named
        reply = served.call("/api/environment/reload", {})
        assert reply["success"] and len(reply["stale"]) == 1 and "det9" in reply["stale"][0]
        assert len(queue_uids(served)) == 2
    finally:
        served.stop()


_STALLED_CLIENT = """
import sys, time
from websockets.sync.client import connect
with connect(sys.argv[1], additional_headers={"Authorization": "ApiKey " + sys.argv[2]}):
    print("connected", flush=True)
    time.sleep(600)
"""


def test_sigterm_ends_the_manager_within_a_bound_despite_open_websockets(served: Any) -> None:
    """An orphaned manager once ignored SIGTERM for 45 min: uvicorn waited for websocket
    feeds that never ended. Now feeds end when their connection closes, open connections
    get a grace period, and the exit is bounded whatever holds it."""
    import contextlib
    import subprocess
    import sys

    from websockets.sync.client import connect

    served.open_environment()
    add(served, LONG)
    served.request("/api/queue/start")
    running_item(served)
    ws_url = served.url.replace("http://", "ws://")
    polite = contextlib.ExitStack()
    for path in ("/api/status/ws", "/api/console_output/ws"):
        polite.enter_context(connect(ws_url + path, additional_headers=served.headers))
    # a browser that went away without closing: connected, then never reads again
    stalled = subprocess.Popen(
        [sys.executable, "-c", _STALLED_CLIENT, ws_url + "/api/documents/ws", served.key],
        stdout=subprocess.PIPE,
    )
    try:
        assert stalled.stdout is not None and stalled.stdout.readline() == b"connected\n"
        os.kill(stalled.pid, signal.SIGSTOP)
        time.sleep(1.0)  # documents pile up towards it
        worker = served.status()["worker_pid"]
        sent = time.monotonic()
        served.process.terminate()
        code = served.process.wait(timeout=60)
        took = time.monotonic() - sent
    finally:
        stalled.kill()
        stalled.wait()
        polite.close()
    # the graceful path (the plan aborted, the worker closed), not the last-resort exit
    assert code == -signal.SIGTERM, (served.base / "serve.log").read_text()[-2000:]
    print(f"the manager exited {took:.2f} s after SIGTERM")
    assert took <= 20.0, f"the manager took {took:.1f} s to exit after SIGTERM"
    with pytest.raises(ProcessLookupError):
        os.kill(worker, 0)
    served.start()
    assert history(served)[-1]["result"]["exit_status"] == "aborted"
