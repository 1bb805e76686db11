"""``cielo agent run|monitor`` as real processes between a real Redis bus and a real
queue server (``cielo serve``) whose worker publishes every document to that bus."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("redis")
pytest.importorskip("fastapi")

from cielo.adaptive import FLAG_PLAN, run_flags
from cielo.bus import RedisStream
from cielo.core import read_profile
from cielo.storage import open_catalog
from cielo.testing import QueueServer


def beamline_profile(tmp_path: Path, redis_port: int) -> Path:
    """The sim profile with the peak at 0.8, publishing to a fresh stream on ``redis_port``."""
    text = Path(read_profile("sim").path).read_text()
    text = text.replace("center = 0.0\nsigma = 1.0", "center = 0.8\nsigma = 0.6", 1)
    stream = f"agents-{uuid.uuid4().hex[:8]}"
    text += f'\n[publish]\nuri = "redis://127.0.0.1:{redis_port}/{stream}"\n'
    path = tmp_path / "beamline.toml"
    path.write_text(text)
    return path


def cielo_agent(server: QueueServer, profile: Path, *args: str, timeout: float = 300) -> Any:
    env = {**server.env, "CIELO_API_KEY": server.key}
    command = [sys.executable, "-m", "cielo.cli", "agent", *args, "--profile", str(profile),
               "--server", server.url]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip


def finish(process: Any, timeout: float = 300) -> tuple[int, dict[str, Any], str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, json.loads(out), err


@pytest.mark.timeout(600)
def test_the_agent_service_steers_the_queue_from_the_bus(redis_server, tmp_path: Path):
    profile = beamline_profile(tmp_path, redis_server.port)
    with QueueServer(tmp_path, str(profile)) as server:
        # a past run in the catalog, which the agent is told first (across runs)
        item = {"item_type": "plan", "name": "scan", "args": [["det"], "motor", -3, 3, 5]}
        assert server.call("/api/queue/item/add", {"item": item})["success"]
        assert server.call("/api/queue/start")["success"]
        server.wait(lambda s: s["items_in_history"] == 1 and s["manager_state"] == "idle", 120)

        agent = cielo_agent(
            server, profile, "run", "golden_section", "--motors", "motor", "--detectors", "det",
            "--target", "det", "--params", '{"low": -3, "high": 3, "tolerance": 0.06}',
            "--bounds", "motor=-3:3", "--seed-runs", "1", "--max-items", "40",
            "--idle-exit", "60", "--autostart",
        )  # fmt: skip
        code, report, err = finish(agent)
        assert code == 0, err
        assert report["state"] == "done", report
        assert report["best_x"] == pytest.approx(0.8, abs=0.06)  # 1 % of the range
        assert report["told"] == 5 + report["submitted"]  # the seeded scan, then its own
        history = server.call("/api/history/get")["items"]
        ours = [h for h in history if h["name"] == "list_scan"]
        assert len(ours) == report["submitted"] <= 14
        assert all(h["kwargs"]["md"]["agent"] == "golden_section" for h in ours)
        assert all(h["result"]["exit_status"] == "completed" for h in ours), ours[-1]["result"]
    catalog = open_catalog(server.env["CIELO_CATALOG"])
    assert sum(run.start.get("agent") == "golden_section" for run in catalog.values()) == len(ours)


@pytest.mark.timeout(600)
def test_the_monitor_stops_and_pauses_the_queue_and_flags_the_run(
    redis_server, tmp_path: Path, validate
):
    profile = beamline_profile(tmp_path, redis_server.port)
    with QueueServer(tmp_path, str(profile)) as server:
        monitor = cielo_agent(server, profile, "monitor", "beam_current", "--high", "400",
                              "--idle-exit", "8")  # fmt: skip
        assert "following redis://" in monitor.stderr.readline()  # it watches from now on
        slow = {"item_type": "plan", "name": "count", "args": [["beam_current", "det"]],
                "kwargs": {"num": 40, "delay": 0.25}}  # fmt: skip
        after = {"item_type": "plan", "name": "count", "args": [["det"]]}
        for item in (slow, after):
            assert server.call("/api/queue/item/add", {"item": item})["success"]
        server.wait(lambda s: s["worker_environment_exists"], 60)
        assert server.call("/api/queue/start")["success"]
        status = server.wait(lambda s: s["manager_state"] == "paused", 120)
        assert status["items_in_queue"] == 1  # the next item did not start
        code, report, err = finish(monitor)
        assert code == 0, err
        reason = "beam_current = 500.0 is outside [-inf, 400.0]"
        assert report["trips"] == [reason]
        server.call("/api/re/stop")
        status = server.wait(lambda s: s["manager_state"] == "idle", 120)
        assert status["items_in_queue"] == 1  # the stopped queue stays stopped
    catalog = open_catalog(server.env["CIELO_CATALOG"])
    (run,) = catalog.search(plan_name="count").values()
    assert report["flagged"] == [run.start["uid"]]
    assert f"flagged run {run.start['uid']}: {reason}" in err
    (flag,) = run_flags(catalog, run.start["uid"])
    assert flag["flag"] == reason and flag["flag_field"] == "beam_current"
    assert flag["flag_value"] == 500.0 and flag["flag_window"] == [None, 400.0]
    (flag_run,) = catalog.search(plan_name=FLAG_PLAN).values()
    for name, doc in flag_run.documents():
        validate(name, doc)  # event-model's schemas
    listed = subprocess.run(
        [sys.executable, "-m", "cielo.cli", "agent", "flags", run.start["uid"][:8], "--profile",
         str(profile)], env=server.env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert run.start["uid"][:8] in listed.stdout and reason in listed.stdout


@pytest.mark.timeout(300)
def test_in_review_mode_the_agent_proposes_instead_of_queueing(redis_server, tmp_path: Path):
    profile = beamline_profile(tmp_path, redis_server.port)
    with QueueServer(tmp_path, str(profile)) as server:
        agent = cielo_agent(
            server, profile, "run", "peak_fit", "--motors", "motor", "--detectors", "det",
            "--target", "det", "--params", '{"low": -3, "high": 3}', "--batch", "7",
            "--propose", "--idle-exit", "3",
        )  # fmt: skip
        code, report, err = finish(agent)
        assert code == 0, err
        assert report["submitted"] == 1 and report["state"] == "running"
        (proposal,) = server.call("/api/proposals/get")["items"]
        assert proposal["name"] == "list_scan" and len(proposal["args"][2]) == 7
        assert server.status()["items_in_queue"] == 0  # it waits for a reviewer


@pytest.mark.timeout(600)
def test_a_stopped_service_picks_up_from_the_catalog_across_restarts(redis_server, tmp_path: Path):
    profile = beamline_profile(tmp_path, redis_server.port)
    args = ["run", "golden_section", "--motors", "motor", "--detectors", "det", "--target",
            "det", "--params", '{"low": -3, "high": 3, "tolerance": 0.06}', "--autostart",
            "--idle-exit", "60"]  # fmt: skip
    with QueueServer(tmp_path, str(profile)) as server:
        code, first, err = finish(cielo_agent(server, profile, *args, "--max-items", "3"))
        assert code == 0, err
        assert first["state"] == "budget" and first["submitted"] == 3 and first["told"] == 3
        server.wait(lambda s: s["manager_state"] == "idle", 60)
        # a new process knows nothing: it is told the catalog's runs and goes on from there
        code, second, err = finish(cielo_agent(server, profile, *args, "--seed-runs", "3"))
        assert code == 0, err
        assert second["state"] == "done" and second["told"] == 3 + second["submitted"]
        assert second["best_x"] == pytest.approx(0.8, abs=0.06)
        history = server.call("/api/history/get")["items"]
    positions = [x for h in history for x in h["args"][2]]
    assert len(positions) == len(set(positions)) == 3 + second["submitted"]  # none measured twice


@pytest.mark.timeout(300)
def test_a_point_outside_the_motors_limits_is_never_queued(redis_server, tmp_path: Path):
    profile = beamline_profile(tmp_path, redis_server.port)
    text = profile.read_text().replace('[devices.motor]\ntype = "sim.motor"\n',
                                       '[devices.motor]\ntype = "sim.motor"\nlimits = [-2, 2]\n')  # fmt: skip
    profile.write_text(text)
    with QueueServer(tmp_path, str(profile)) as server:
        agent = cielo_agent(
            server, profile, "run", "peak_fit", "--motors", "motor", "--detectors", "det",
            "--target", "det", "--params", '{"low": -3, "high": 3}', "--idle-exit", "3",
        )  # fmt: skip
        code, report, err = finish(agent)
        assert code == 1  # it failed, and says so
        assert report["state"] == "failed" and report["submitted"] == 0
        assert "motor = -3.0, outside its bounds [-2.0, 2.0]" in report["errors"][0]
        assert "outside its bounds" in err
        assert server.status()["items_in_queue"] == 0


@pytest.mark.timeout(600)
def test_a_service_killed_mid_run_goes_on_exactly_after_a_restart(redis_server, tmp_path: Path):
    """SIGKILL while a run of the agent's plan is half read (its entries delivered, not
    acknowledged); the restarted service gets that run again whole from the consumer
    group, restores the agent (its random generator included) from --state, and ends
    with every point told once and every plan submitted once."""
    import os
    import signal
    import time

    import redis

    from cielo.adaptive import GPAgent

    profile = beamline_profile(tmp_path, redis_server.port)
    text = profile.read_text().replace("sigma = 0.6\n", "sigma = 0.6\ncount_time = 0.3\n", 1)
    profile.write_text(text)  # each point takes 0.3 s: a run of 3 points lasts about 1 s
    stream = text.split(f"{redis_server.port}/")[1].split('"')[0]
    params = {"bounds": [[-3, 3]], "n_initial": 6, "tolerance": 1e-12}  # ends on the budget
    args = ["run", "gp", "--motors", "motor", "--detectors", "det", "--target", "det",
            "--params", json.dumps(params), "--batch", "3", "--max-items", "6", "--autostart",
            "--group", "restart", "--state", str(tmp_path / "gp.json"), "--idle-exit", "60"]  # fmt: skip
    bus = redis.Redis(port=redis_server.port)
    with QueueServer(tmp_path, str(profile)) as server:
        first = cielo_agent(server, profile, *args)

        def third_run_half_read() -> bool:
            running = server.call("/api/queue/get").get("running_item") or {}
            md = (running.get("kwargs") or {}).get("md") or {}
            pending = bus.xpending(stream, "restart")["pending"] if bus.exists(stream) else 0
            return md.get("agent_item") == 3 and pending > 0

        deadline = time.monotonic() + 240
        while not third_run_half_read():
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the agent's third run never started"
            time.sleep(0.02)
        os.kill(first.pid, signal.SIGKILL)
        first.communicate(timeout=30)
        server.wait(lambda s: s["manager_state"] == "idle" and s["items_in_queue"] == 0, 120)
        assert len(server.call("/api/history/get")["items"]) == 3  # run 3 ended unheard

        code, report, err = finish(cielo_agent(server, profile, *args))
        assert code == 0, err
        assert report["restored"] and report["state"] == "budget", report
        assert "restored from" in err
        history = server.call("/api/history/get")["items"]
    mds = [h["kwargs"]["md"] for h in history]
    assert [md["agent_item"] for md in mds] == [1, 2, 3, 4, 5, 6]  # each plan once
    assert len({md["agent_item_uid"] for md in mds}) == 6
    assert all(h["result"]["exit_status"] == "completed" for h in history)
    assert report["told"] == 18 and report["submitted"] == 6  # each point told once

    # the agent asked for exactly what one that never stopped would have asked for
    catalog = open_catalog(server.env["CIELO_CATALOG"])
    runs = {run.start["agent_item"]: run for run in catalog.values() if "agent_item" in run.start}
    agent = GPAgent(**params)
    for n, item in enumerate(history, start=1):
        asked, _ = agent.ask(3)
        assert asked == pytest.approx(item["args"][2], abs=1e-9), f"item {n}"
        table = runs[n]["primary"].columns(["motor", "det"])
        for x, y in zip(table["motor"], table["det"], strict=True):
            agent.tell(float(x), float(y))


@pytest.mark.timeout(600)
def test_a_run_whose_worker_was_lost_is_told_and_the_agent_goes_on(redis_server, tmp_path: Path):
    """The queue's worker is killed during the agent's plan: the server closes that run in
    the catalog and sends its stop to the bus; the service tells it from the bus (every
    point that reached the bus, also those the worker had not stored yet) and queues its
    next plan instead of waiting for ever. (A stop that never comes is told from the
    catalog after --recover-after: test_service.py.)"""
    import os
    import signal
    import time

    profile = beamline_profile(tmp_path, redis_server.port)
    text = profile.read_text().replace("sigma = 0.6\n", "sigma = 0.6\ncount_time = 1.0\n", 1)
    profile.write_text(text)
    args = ["run", "gp", "--motors", "motor", "--detectors", "det", "--target", "det",
            "--params", '{"bounds": [[-3, 3]], "n_initial": 6, "tolerance": 1e-12}',
            "--batch", "3", "--max-items", "3", "--autostart", "--recover-after", "60",
            "--idle-exit", "120"]  # fmt: skip
    with QueueServer(tmp_path, str(profile)) as server:
        agent = cielo_agent(server, profile, *args)

        def agent_item(n: int) -> bool:
            running = server.call("/api/queue/get").get("running_item") or {}
            return ((running.get("kwargs") or {}).get("md") or {}).get("agent_item") == n

        deadline = time.monotonic() + 240
        while not agent_item(2):
            assert agent.poll() is None, agent.communicate()
            assert time.monotonic() < deadline, "the agent's second run never started"
            time.sleep(0.02)
        time.sleep(1.0)  # a point into the run of 3 points of 1 s each
        os.kill(server.status()["worker_pid"], signal.SIGKILL)
        server.wait(lambda s: s["items_in_queue"] == 1 and not s["worker_pid"], 120)
        (queued,) = server.call("/api/queue/get")["items"]
        assert queued["kwargs"]["md"]["agent_item"] == 3  # asked for after the lost run
        server.open_environment()
        assert server.call("/api/queue/start")["success"]
        code, report, err = finish(agent)
        assert code == 0, err
        history = server.call("/api/history/get")["items"]
    assert [h["result"]["exit_status"] for h in history] == ["completed", "failed", "completed"]
    catalog = open_catalog(server.env["CIELO_CATALOG"])
    runs = [run for run in catalog.values() if "agent_item" in run.start]
    stored = sum(run.stop["num_events"].get("primary", 0) for run in runs)
    stream = RedisStream(read_profile(str(profile)).publish["uri"])
    on_bus = sum(len(e.doc["seq_num"]) if e.name == "event_page" else 1
                 for run in runs for e in stream.replay(run.uid)
                 if e.name in ("event", "event_page"))  # fmt: skip
    assert report["state"] == "budget" and report["submitted"] == 3
    assert report["told"] == on_bus >= stored  # every point on the bus told once
    assert "told from the catalog" not in err  # the lost run's stop came on the bus
