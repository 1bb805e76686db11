"""Functions as queue items: a profile's ``[functions] allow`` names them, a real
``cielo serve`` checks them at submission (name, group permissions), runs them in its
worker between plans and records their return value or traceback in the history;
``/api/function/execute`` runs one at once and ``/api/task/result`` gives its result."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from cielo.core import ProfileError, load_profile
from cielo.testing import QueueServer

TOOLS = pathlib.Path(__file__).parent / "served_functions"
#: tools.toml allows these; permissions.toml forbids forbidden_* to the default group
ALLOW = ["add_numbers", "write_note", "opaque", "explode", "forbidden_reset"]


def _profile(path: pathlib.Path, names: list[str]) -> pathlib.Path:
    """tools.toml, allowing ``names`` of beamline_tools instead."""
    refs = ", ".join(f'"beamline_tools:{name}"' for name in names)
    text = (TOOLS / "tools.toml").read_text()
    path.write_text(re.sub(r"(?ms)^allow = \[.*?\]", lambda _: f"allow = [{refs}]", text))
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueueServer]:
    base = tmp_path_factory.mktemp("functions")
    permissions = ["--permissions", str(TOOLS / "permissions.toml")]
    with QueueServer(
        base, str(TOOLS / "tools.toml"), args=permissions, pythonpath=[TOOLS]
    ) as served:
        yield served


@pytest.fixture(autouse=True)
def fresh(server: QueueServer) -> None:
    server.wait(lambda s: s["manager_state"] == "idle", 30)
    for path in ("/api/queue/clear", "/api/history/clear", "/api/queue/mode/set"):
        body = {"mode": {"ignore_failures": False}} if path.endswith("set") else {}
        assert server.call(path, body)["success"], path


def _history(server: QueueServer, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        items: list[dict[str, Any]] = server.call("/api/history/get")["items"]
        if len(items) >= count and server.status()["manager_state"] == "idle":
            return items
        time.sleep(0.05)
    raise TimeoutError(f"history never held {count} items: {items}")


def fn(name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    return {"item_type": "function", "name": name, "args": list(args), "kwargs": kwargs}


def test_allowed_functions_are_listed_with_their_parameters(server: QueueServer) -> None:
    reply = server.call("/api/functions/allowed")
    assert reply["success"]
    listed = reply["functions_allowed"]
    assert set(listed) == set(ALLOW) - {"forbidden_reset"}  # the group may not use it
    assert listed["add_numbers"]["description"] == "Add two numbers."
    assert [p["name"] for p in listed["add_numbers"]["parameters"]] == ["a", "b"]


def test_functions_run_between_plans_and_go_to_history(
    server: QueueServer, tmp_path: pathlib.Path
) -> None:
    note = tmp_path / "note.txt"
    items = [
        fn("write_note", str(note), "from the worker"),
        {"item_type": "plan", "name": "count", "args": [["det"]], "kwargs": {"num": 2}},
        fn("add_numbers", 2, b=3.5),
        fn("opaque"),
    ]
    reply = server.call("/api/queue/item/add/batch", {"items": items})
    assert reply["success"], reply
    assert server.call("/api/queue/start")["success"]
    history = _history(server, 4)
    assert [h["name"] for h in history] == ["write_note", "count", "add_numbers", "opaque"]
    assert all(h["result"]["exit_status"] == "completed" for h in history)
    assert note.read_text() == "from the worker"
    assert history[0]["result"]["return_value"] == "from the worker"
    assert history[1]["result"]["run_uids"]  # the plan between them ran
    assert history[2]["result"]["return_value"] == 5.5
    assert history[3]["result"]["return_value"] == "{1, 2}"  # not JSON: its repr


def test_an_unknown_function_is_refused_naming_it(server: QueueServer) -> None:
    reply = server.call("/api/queue/item/add", {"item": fn("add_numbrs", 1)})
    assert not reply["success"]
    assert "function 'add_numbrs' is not allowed" in reply["msg"]
    assert "did you mean 'add_numbers'" in reply["msg"]
    assert server.call("/api/queue/get")["items"] == []


def test_a_function_the_group_may_not_use_is_refused(server: QueueServer) -> None:
    for path in ("/api/queue/item/add", "/api/function/execute"):
        reply = server.request(path, {"item": fn("forbidden_reset")})
        assert "forbidden_reset" in reply.json()["msg"], path
        assert "forbidden_functions pattern 'forbidden_*'" in reply.json()["msg"]
    assert server.call("/api/queue/get")["items"] == []


def test_a_raising_function_fails_like_a_plan(server: QueueServer) -> None:
    items = [fn("explode", "on purpose"), fn("add_numbers", 1)]
    assert server.call("/api/queue/item/add/batch", {"items": items})["success"]
    assert server.call("/api/queue/start")["success"]
    failed = _history(server, 1)[0]
    assert failed["name"] == "explode"
    assert failed["result"]["exit_status"] == "failed"
    assert "RuntimeError: exploded: on purpose" in failed["result"]["msg"]
    assert 'raise RuntimeError(f"exploded: {reason}")' in failed["result"]["traceback"]
    # the queue stopped with the failed item back at the front; ignoring failures goes on
    assert [i["name"] for i in server.call("/api/queue/get")["items"]] == ["explode", "add_numbers"]
    assert server.call("/api/queue/mode/set", {"mode": {"ignore_failures": True}})["success"]
    assert server.call("/api/queue/start")["success"]
    history = _history(server, 3)
    assert [h["result"]["exit_status"] for h in history] == ["failed", "failed", "completed"]
    assert server.call("/api/queue/get")["items"] == []


def test_function_execute_and_task_result(server: QueueServer) -> None:
    reply = server.call("/api/function/execute", {"item": fn("add_numbers", 40, b=2)})
    assert reply["success"], reply
    assert reply["item"]["name"] == "add_numbers"
    uid = reply["task_uid"]
    deadline = time.monotonic() + 30
    while (result := server.call("/api/task/result", {"task_uid": uid}))["status"] != "completed":
        assert result["status"] == "running", result
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert result["result"]["exit_status"] == "completed"
    assert result["result"]["return_value"] == 42
    missing = server.call("/api/task/result", {"task_uid": "nope"})
    assert missing["status"] == "not_found" and "nope" in missing["msg"]
    plan = {"item_type": "plan", "name": "count", "args": [["det"]]}
    refused = server.call("/api/function/execute", {"item": plan})
    assert not refused["success"] and "/api/queue/item/execute" in refused["msg"]


def test_task_status_of_several_tasks(server: QueueServer) -> None:
    uids = []
    for a in (1, 2):
        reply = server.call("/api/function/execute", {"item": fn("add_numbers", a, b=1)})
        assert reply["success"], reply
        uids.append(reply["task_uid"])
        server.wait(lambda s: s["manager_state"] == "idle" and not s["running_item_uid"])
    asked = [*uids, "nope"]
    reply = server.call("/api/task/status", {"task_uid": asked})
    assert reply["status"] == {uids[0]: "completed", uids[1]: "completed", "nope": "not_found"}
    assert server.call("/api/task/status", {"task_uid": uids[1]})["status"] == "completed"


def test_task_status_reads_the_history_once(tmp_path: pathlib.Path) -> None:
    """However many tasks are asked about, the store's history is read once."""
    from cielo.server import SQLiteQueueStore
    from cielo.server.api.functions import task_states

    class Counting(SQLiteQueueStore):
        reads = 0

        def history(self) -> list[dict[str, Any]]:
            self.reads += 1
            return super().history()

    store = Counting(tmp_path / "queue.db")
    try:
        for n in range(50):
            result = {"exit_status": "completed" if n % 2 else "failed", "return_value": n}
            store.history_add({**fn("add_numbers", n), "item_uid": f"u{n}", "result": result})
        found = task_states(store, [f"u{n}" for n in range(50)] + ["nope"])
        assert store.reads == 1
        assert found["u3"] == (
            "completed",
            {"exit_status": "completed", "return_value": 3, "task_uid": "u3", "success": True},
        )
        assert found["u4"][1] is not None and found["u4"][1]["success"] is False
        assert found["nope"] == ("not_found", None)
    finally:
        store.close()


def test_function_execute_is_refused_while_an_item_runs(server: QueueServer) -> None:
    long = {
        "item_type": "plan",
        "name": "count",
        "args": [["det"]],
        "kwargs": {"num": 50, "delay": 0.1},
    }
    assert server.call("/api/queue/item/add", {"item": long})["success"]
    assert server.call("/api/queue/start")["success"]
    server.wait(lambda s: s["running_item_uid"] is not None)
    reply = server.call("/api/function/execute", {"item": fn("add_numbers", 1)})
    assert not reply["success"] and "an item is running" in reply["msg"]
    assert server.call("/api/re/pause", {"option": "immediate"})["success"]
    server.wait(lambda s: s["manager_state"] == "paused")
    assert server.call("/api/re/abort")["success"]
    server.wait(lambda s: s["manager_state"] == "idle")


def test_a_profile_naming_a_missing_function_fails_to_load(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(TOOLS))
    with pytest.raises(ProfileError, match=r"has no 'add_numbrs'; did you mean 'add_numbers'"):
        load_profile(_profile(tmp_path / "bad.toml", ["add_numbrs"]))
    bad = tmp_path / "worse.toml"
    bad.write_text('[functions]\nallow = ["not a reference"]\n')
    with pytest.raises(ProfileError, match=r"'not a reference' is not a function reference"):
        load_profile(bad)
    gone = tmp_path / "gone.toml"
    gone.write_text('[functions]\nallow = ["no_such_module_here:f"]\n')
    with pytest.raises(ProfileError, match=r"module 'no_such_module_here' cannot be imported"):
        load_profile(gone)
    env = load_profile(_profile(tmp_path / "good.toml", ["add_numbers"]))
    assert env.functions["add_numbers"](1, 2) == 3


def test_bluesky_clients_function_execute_and_task_result(server: QueueServer) -> None:
    """bluesky-queueserver-api's REManagerAPI runs a function and waits for its result."""
    api = pytest.importorskip("bluesky_queueserver_api.http")
    from bluesky_queueserver_api import BFunc

    RM = api.REManagerAPI(http_server_uri=server.url)
    RM.set_authorization_key(api_key=server.key)
    try:
        reply = RM.function_execute(BFunc("add_numbers", 1, b=2))
        uid = reply["task_uid"]
        RM.wait_for_completed_task(uid, timeout=30)
        assert RM.task_status(uid)["status"] == "completed"
        result = RM.task_result(uid)["result"]
        assert result["success"] is True and result["return_value"] == 3
        with pytest.raises(Exception, match="run_in_background is not supported"):
            RM.function_execute(BFunc("add_numbers", 1), run_in_background=True)
    finally:
        RM.close()


def queue(server: QueueServer, *args: str) -> subprocess.CompletedProcess[str]:
    """``cielo queue --server URL ARGS...`` with the server's key."""
    return subprocess.run(
        [sys.executable, "-m", "cielo.cli", "queue", "--server", server.url, *args],
        env={**server.env, "CIELO_API_KEY": server.key},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cielo_queue_lists_adds_and_calls_functions(
    server: QueueServer, tmp_path: pathlib.Path
) -> None:
    listed = queue(server, "functions")
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^add_numbers\(a, b=1.0\) +Add two numbers.$", listed.stdout, re.M)
    assert "forbidden_reset" not in listed.stdout  # the group may not use it

    note = tmp_path / "cli-note.txt"
    added = queue(server, "add", "--function", f"write_note({str(note)!r}, text='via cli')")
    assert added.returncode == 0, added.stderr
    assert queue(server, "add", "--instruction", "queue_stop").returncode == 0
    assert queue(server, "add", "count([det], num=1)").returncode == 0
    listing = queue(server, "list").stdout
    assert "function write_note(" in listing and "text='via cli')" in listing
    assert "instruction queue_stop" in listing and "count(['det'], num=1)" in listing

    ran = queue(server, "start", "--wait")
    assert ran.returncode == 0, ran.stderr
    assert note.read_text() == "via cli"
    # the queue stopped at the instruction: the plan after it waits
    assert [i["name"] for i in server.call("/api/queue/get")["items"]] == ["count"]
    history = queue(server, "history").stdout
    assert "function write_note(" in history and "instruction queue_stop" in history

    called = queue(server, "call", "add_numbers(40, b=2)")
    assert called.returncode == 0, called.stderr
    assert json.loads(called.stdout) == 42
    whole = queue(server, "call", "add_numbers(1)", "--json")
    assert json.loads(whole.stdout)["exit_status"] == "completed"
    assert json.loads(whole.stdout)["return_value"] == 2.0


def test_cielo_queue_function_refusals(server: QueueServer) -> None:
    unknown = queue(server, "add", "--function", "add_numbrs(1)")
    assert unknown.returncode == 1
    assert "unknown function 'add_numbrs'; did you mean 'add_numbers'?" in unknown.stderr
    assert "(allowed here: add_numbers, explode, opaque, write_note)" in unknown.stderr
    forbidden = queue(server, "call", "forbidden_reset()")  # the group may not use it
    assert forbidden.returncode == 1 and "unknown function 'forbidden_reset'" in forbidden.stderr
    evaluated = queue(server, "call", "add_numbers(__import__('os').getpid())")
    assert evaluated.returncode == 1 and "calls inside the arguments are not allowed" in (
        evaluated.stderr
    )
    failed = queue(server, "call", "explode('from the cli')")
    assert failed.returncode == 1
    assert "explode('from the cli') failed: RuntimeError: exploded: from the cli" in failed.stderr
    assert "Traceback" in failed.stderr
    neither = queue(server, "add")
    assert neither.returncode == 2 and "one of the arguments" in neither.stderr
    bad = queue(server, "add", "--instruction", "queue_pause")
    assert bad.returncode == 1 and "unknown instruction 'queue_pause'" in bad.stderr
    assert server.call("/api/queue/get")["items"] == []
