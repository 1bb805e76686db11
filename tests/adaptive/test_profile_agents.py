"""A profile's ``[agents] allow`` list: the only agents ``agent_scan``, ``cielo agent run``
and the queue server offer on it; without the table, every agent the plugins offer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cielo.cli import main
from cielo.core import PlanParameterError, ProfileError, load_profile, read_profile
from cielo.testing import DocumentCollector, make_run_engine

SCAN = {"target_field": "det", "agent_params": {"low": -3, "high": 3, "tolerance": 0.1}}


def restricted(tmp_path: Path, table: str = '[agents]\nallow = ["golden_section", "peak_fit"]\n'):
    """The sim profile with ``table`` added (storing nowhere)."""
    text = Path(read_profile("sim").path).read_text()
    text = text[: text.index("[catalog]")] + table
    path = tmp_path / "restricted.toml"
    path.write_text("catalog = false\n" + text)
    return path


def run_agent_scan(profile: Path, agent: str, docs: DocumentCollector) -> None:
    env = load_profile(str(profile))
    engine = make_run_engine(plugin_manager=env.pm)
    engine.subscribe(docs)
    devices = {"detectors": [env.devices["det"]], "motors": [env.devices["motor"]]}
    try:
        engine(env.plans["agent_scan"](**devices, agent=agent, **SCAN))
    finally:
        engine.close()


def test_without_the_table_every_installed_agent_is_offered():
    env = load_profile("sim")
    assert env.profile.agents is None
    assert set(env.agents) == set(env.registry.get("agents"))
    assert {"golden_section", "peak_fit", "gp", "uncertainty_map"} <= set(env.agents)


def test_the_allow_list_is_what_the_environment_offers(tmp_path: Path):
    env = load_profile(str(restricted(tmp_path)))
    assert env.profile.agents == ("golden_section", "peak_fit")
    assert list(env.agents) == ["golden_section", "peak_fit"]
    assert "gp" in env.registry.get("agents")  # installed, not offered


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[agents]\nalow = ["gp"]\n', r"\[agents\] unknown key 'alow'; did you mean 'allow'\?"),
        ('[agent]\nallow = ["gp"]\n', r"unknown table \[agent\]; did you mean 'agents'\?"),
        ("[agents]\n", r"\[agents\] has no allow; add allow = "),
        ('[agents]\nallow = "gp"\n', r"\[agents\] 'allow' must be a list of agent names"),
        (
            '[agents]\nallow = ["golden_sektion"]\n',
            r"restricted.toml: \[agents\] allow names unknown agent 'golden_sektion'; "
            r"did you mean 'golden_section'\? \(installed agents: golden_section, gp, ",
        ),
    ],
)
def test_mistakes_in_the_table_are_refused_at_load_naming_the_fix(tmp_path, table, message):
    with pytest.raises(ProfileError, match=message):
        load_profile(str(restricted(tmp_path, table)))


def test_agent_scan_runs_an_allowed_agent_and_refuses_another_before_any_run(tmp_path: Path):
    profile = restricted(tmp_path)
    docs = DocumentCollector(validate=True)
    run_agent_scan(profile, "golden_section", docs)
    assert docs.stop["exit_status"] == "success" and docs.start["agent"] == "golden_section"
    docs = DocumentCollector()
    with pytest.raises(PlanParameterError) as refused:
        run_agent_scan(profile, "gp", docs)
    assert str(refused.value) == (
        "agent 'gp' is not allowed by restricted.toml, whose [agents] allow = "
        "['golden_section', 'peak_fit']; to offer it, add 'gp' to that list (or remove the "
        "[agents] table to offer every installed agent)"
    )
    assert len(docs) == 0  # refused before the run opened: nothing moved


def test_cielo_agent_list_and_run_honour_the_table(tmp_path: Path, capsys):
    profile = restricted(tmp_path)
    assert main(["agent", "list", "--profile", str(profile)]) == 0
    listed = capsys.readouterr().out
    assert "golden_section" in listed and "peak_fit" in listed and "gp " not in listed
    code = main(["agent", "run", "gp", "--profile", str(profile), "--motors", "motor",
                 "--detectors", "det", "--target", "det", "--server", "http://127.0.0.1:9"])  # fmt: skip
    assert code == 1  # refused before it reaches for a server or a bus
    err = capsys.readouterr().err
    assert "agent 'gp' is not allowed by restricted.toml" in err
    assert "add 'gp' to that list" in err


@pytest.mark.timeout(300)
def test_the_queue_server_refuses_an_agent_the_profile_does_not_allow_and_runs_one_it_does(
    tmp_path: Path,
):
    pytest.importorskip("fastapi")
    from cielo.testing import QueueServer

    profile = restricted(tmp_path)
    item = {"item_type": "plan", "name": "agent_scan",
            "kwargs": {"detectors": ["det"], "motors": ["motor"], "agent": "gp", **SCAN}}  # fmt: skip
    with QueueServer(tmp_path, str(profile)) as server:
        plans = server.call("/api/plans/allowed")["plans_allowed"]
        agent = plans["agent_scan"]["schema"]["properties"]["agent"]
        assert agent["enum"] == ["golden_section", "peak_fit"]  # the web form offers these
        refused = server.call("/api/queue/item/add", {"item": item})
        assert refused["success"] is False
        assert refused["msg"] == (
            "plan 'agent_scan': parameter agent: 'gp' is not one of the agents offered here "
            "(golden_section, peak_fit); to offer another, add it to [agents] allow in "
            "restricted.toml"
        )
        item["kwargs"]["agent"] = "golden_section"
        assert server.call("/api/queue/item/add", {"item": item})["success"]
        assert server.call("/api/queue/start")["success"]  # the queue runs it, by name
        server.wait(lambda s: s["items_in_history"] == 1 and s["manager_state"] == "idle", 120)
        (done,) = server.call("/api/history/get")["items"]
        assert done["result"]["exit_status"] == "completed", done["result"]
        added = subprocess.run(
            [sys.executable, "-m", "cielo.cli", "queue", "--server", server.url, "add",
             "agent_scan([det], [motor], 'golden_sektion', 'det')"],
            env={**server.env, "CIELO_API_KEY": server.key}, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert added.returncode != 0
        assert "did you mean 'golden_section'?" in added.stderr
