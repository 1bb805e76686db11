"""Checking plans before they run (cielo/plans/_text.py): ``checked`` for Python users."""

from __future__ import annotations

from pathlib import Path

import pytest

from cielo.cli import main
from cielo.core import LimitError, PlanParameterError, load_profile
from cielo.plans import checked

LIMITED = (
    '[devices.motor]\ntype = "sim.motor"\nlimits = [-1, 1]\n'
    '[devices.det]\ntype = "sim.peak_detector"\nmotors = ["motor"]\n'
)


@pytest.fixture
def limited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path))
    path = tmp_path / "limited.toml"
    path.write_text(LIMITED)
    return path


def test_checked_refuses_a_limit_violation_before_anything_moves(limited, RE, docs, capsys):
    assert main(["plan", "check", "--profile", str(limited), "scan([det], motor, -2, 2, 5)"]) == 1
    from_cli = capsys.readouterr().err
    env = load_profile(limited)
    det, motor = env.devices["det"], env.devices["motor"]
    motor.set(0.5).wait(5)
    with pytest.raises(LimitError) as refused:
        RE(checked(env.plans["scan"], [det], motor, -2, 2, 5))
    assert "2 of 5 moves are outside the limits" in str(refused.value)
    assert str(refused.value) in from_cli  # the message `cielo plan check` gives
    assert motor.position == pytest.approx(0.5)  # nothing moved
    assert docs.of("start") == [] and RE.md.get("scan_id", 0) == 0  # no run, no scan id
    RE(checked(env.plans["scan"], [det], motor, -1, 1, 5))  # within the limits: it runs
    assert docs.column("motor") == pytest.approx([-1, -0.5, 0, 0.5, 1])


def test_checked_takes_the_function_not_a_generator(env):
    with pytest.raises(PlanParameterError, match="not checked"):
        checked(env.plans["count"]([env.devices["det"]]))  # type: ignore[arg-type]


def test_checked_warns_when_the_dry_run_stopped_early(env, monkeypatch):
    from cielo.plans import _text

    monkeypatch.setattr(_text, "DRY_RUN_MESSAGES", 40)
    det, motor = env.devices["det"], env.devices["motor"]
    with pytest.warns(UserWarning, match="checked.scan.: the dry run stopped after 40 messages"):
        checked(env.plans["scan"], [det], motor, -1, 1, 20)
