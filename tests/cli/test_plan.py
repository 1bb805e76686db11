"""``cielo plan summarize|check`` (cielo/cli/_plan.py): text parsed as ``cielo run`` does."""

from __future__ import annotations

import json

import pytest

from cielo.cli import main


@pytest.fixture(autouse=True)
def _state(tmp_path, monkeypatch):
    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path))


def test_summarize_grid_scan(capsys):
    text = "grid_scan([det2], motor1, -1, 1, 5, motor2, -1, 1, 5, snake_axes=True)"
    assert main(["plan", "summarize", "--profile", "sim", text]) == 0
    out = capsys.readouterr().out
    assert "primary: 25" in out
    assert "motor1: 5 moves from -1 to 1" in out
    assert "estimated duration" in out


def test_summarize_json(capsys):
    assert main(["plan", "summarize", "--json", "count([det], 3, 0.5)"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["num_points"] == 3 and data["runs"][0]["plan_name"] == "count"
    assert data["duration"] == pytest.approx(1.0, abs=0.05)


def test_check_passes_and_refuses(capsys, tmp_path):
    assert main(["plan", "check", "scan([det], motor, -1, 1, num=3)"]) == 0
    assert "all 3 moves are within the limits" in capsys.readouterr().out
    profile = tmp_path / "limited.toml"
    profile.write_text(
        '[devices.motor]\ntype = "sim.motor"\nlimits = [-1, 1]\n'
        '[devices.det]\ntype = "sim.peak_detector"\nmotors = ["motor"]\n'
    )
    text = "scan([det], motor, -2, 2, num=5)"
    assert main(["plan", "check", "--profile", str(profile), text]) == 1
    out = capsys.readouterr()
    assert "2 of 5 moves are outside the limits" in out.out + out.err


def test_bad_text_is_refused_before_anything_runs(capsys):
    assert main(["plan", "summarize", "scan([motor], det, -1, 1, num=3)"]) == 1
    err = capsys.readouterr().err
    assert "'args[0]'" in err and "'det'" in err
    assert main(["plan", "check", "scan([det], motor.parent, -1, 1, num=3)"]) == 1
    assert "refused" in capsys.readouterr().err


def test_plan_without_subcommand_prints_help(capsys):
    assert main(["plan"]) == 2
    assert "summarize" in capsys.readouterr().out


def test_a_huge_grid_is_refused_quickly_by_plan_check_and_run(capsys, monkeypatch):
    """10^6 x 10^6 points: refused by size before the trajectory is built (was MemoryError)."""
    import time

    text = "grid_scan([det2], motor1, -1, 1, 1000000, motor2, -1, 1, 1000000)"
    started = time.process_time()
    assert main(["plan", "check", text]) == 1
    assert main(["run", "-q", text]) == 2
    assert time.process_time() - started < 20  # CPU seconds, both commands together
    err = capsys.readouterr().err
    assert err.count("1,000,000,000,000 points (1000000 x 1000000)") == 2
    assert "more than the limit of 10,000,000" in err
    monkeypatch.setenv("CIELO_MAX_POINTS", "10")
    assert main(["plan", "check", "grid_scan([det2], motor1, -1, 1, 3, motor2, -1, 1, 4)"]) == 1
    assert "12 points (3 x 4), more than the limit of 10" in capsys.readouterr().err


def test_max_points_from_the_profile(tmp_path, capsys, monkeypatch):
    """[engine] max_points limits trajectories like CIELO_MAX_POINTS (which wins), named."""
    profile = tmp_path / "small.toml"
    profile.write_text(
        "[engine]\nmax_points = 10\n"
        '[devices.motor1]\ntype = "sim.motor"\n[devices.motor2]\ntype = "sim.motor"\n'
        '[devices.det]\ntype = "sim.peak_detector"\nmotors = ["motor1"]\n'
    )
    text = "grid_scan([det], motor1, -1, 1, 3, motor2, -1, 1, 4)"
    assert main(["plan", "check", "--profile", str(profile), text]) == 1
    assert main(["run", "-q", "--profile", str(profile), text]) == 2
    err = capsys.readouterr().err
    assert err.count("more than the limit of 10; use fewer points or split the scan (or raise "
                     "[engine] max_points in small.toml)") == 2  # fmt: skip
    assert main(["plan", "check", "--profile", str(profile), "scan([det], motor1, 0, 1, 10)"]) == 0
    monkeypatch.setenv("CIELO_MAX_POINTS", "100")
    assert main(["plan", "check", "--profile", str(profile), text]) == 0
    profile.write_text("[engine]\nmax_points = 0\n")
    assert main(["plan", "check", "--profile", str(profile), "count([det])"]) == 1
    assert "small.toml: [engine] max_points must be a whole number of points >= 1, got 0" in (
        capsys.readouterr().err
    )


def test_a_dry_run_stopped_early_says_what_it_did_not_check(tmp_path, capsys, monkeypatch):
    """plan check and run say when the dry run was capped, instead of a plain 'ok'."""
    from cielo.plans import _text

    monkeypatch.setattr(_text, "DRY_RUN_MESSAGES", 40)
    text = "scan([det], motor, -1, 1, 20)"
    assert main(["plan", "check", text]) == 0
    out = capsys.readouterr().out
    assert out.startswith("partly checked:") and "stopped after 40 messages" in out
    assert "moves after them were not checked" in out and "ok:" not in out
    assert main(["run", "-q", text]) == 0  # it runs, and says how far it was checked
    err = capsys.readouterr().err
    assert "cielo: warning: the dry run stopped after 40 messages" in err
    profile = tmp_path / "limited.toml"
    profile.write_text(
        '[devices.motor]\ntype = "sim.motor"\nlimits = [-1, 0.5]\n'
        '[devices.det]\ntype = "sim.peak_detector"\nmotors = ["motor"]\n'
    )
    assert main(["plan", "check", "--profile", str(profile), "scan([det], motor, 2, -1, 20)"]) == 1
    err = capsys.readouterr().err
    assert "outside the limits" in err and "stopped after 40 messages" in err
