"""Tests a facility plugin package should have: it loads strictly, its profile loads,
its plan runs on the RunEngine and emits valid documents, its callback works.

Run from the package directory: ``pytest tests`` (needs ``event-model`` for validation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cielo_example_beamline
import pytest

from cielo import RunEngine, load_profile
from cielo.core import make_plugin_manager

event_model = pytest.importorskip("event_model")


def validate(name: str, doc: dict[str, Any]) -> None:
    event_model.schema_validators[event_model.DocumentNames[name]].validate(doc)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)  # the profile's logbook path is relative
    pm = make_plugin_manager(strict=True)  # any plugin problem fails the test
    return load_profile(cielo_example_beamline.PROFILE, plugin_manager=pm)


def test_plugin_contributes_what_it_promises(env):
    providers = env.registry
    assert providers.provider("device_types", "example_beamline.mono") == "example_beamline"
    assert providers.provider("plans", "xafs_scan") == "example_beamline"
    assert providers.provider("callbacks", "run_logbook") == "example_beamline"
    assert env.devices["i0"].mono is env.devices["mono"]


def test_xafs_scan_runs_and_is_logged(env, tmp_path: Path):
    documents: list[tuple[str, dict[str, Any]]] = []
    plan = env.plans["xafs_scan"]
    with (
        env.make_subscribers() as subscribers,
        RunEngine(plugin_manager=env.pm, scan_id_file=None) as RE,
    ):
        for callback in subscribers.values():
            RE.subscribe(callback)
        RE.subscribe(lambda name, doc: documents.append((name, doc)))
        (uid,) = RE(
            plan([env.devices["i0"]], env.devices["mono"], 7112, [-20, 0, 20], [10, 5], [0.1, 0.1])
        )
    for name, doc in documents:
        validate(name, doc)
    start = documents[0][1]
    assert start["uid"] == uid and start["beamline"] == "EX-1" and start["e0"] == 7112
    events = [doc for name, doc in documents if name == "event"]
    assert len(events) == 7
    assert (tmp_path / "ex1-logbook.txt").read_text().split()[0] == uid
