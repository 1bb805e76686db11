"""``cielo run``: a plan given as text runs on the RunEngine with the profile's subscribers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cielo import load_profile
from cielo.cli import main, run_plan_text

ex = pytest.importorskip("cielo_example_beamline", reason="pip install -e examples/beamline_plugin")

XAFS = (
    "xafs_scan([i0], mono, 7112, bounds=[-20, 0, 20], steps=[10, 5], times=[0.1, 0.1], repeats=2)"
)


def profile_copy(tmp_path: Path) -> Path:
    path = tmp_path / "ex1.toml"
    text = ex.PROFILE.read_text()
    path.write_text(text.replace('"ex1-logbook.txt"', f'"{tmp_path / "logbook.txt"}"'))
    return path


UID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_run_prints_the_uids_and_feeds_the_profiles_subscribers(tmp_path: Path, capsys):
    assert main(["run", "--profile", str(profile_copy(tmp_path)), XAFS]) == 0
    out = capsys.readouterr().out  # each run's table and summary, then its uid on a line
    uids = [line for line in out.splitlines() if UID.fullmatch(line)]
    assert len(uids) == 2
    lines = (tmp_path / "logbook.txt").read_text().splitlines()
    assert [line.split()[0] for line in lines] == uids
    assert all(line.endswith("xafs_scan success 7") for line in lines)


def test_quiet_subscribes_no_callbacks(tmp_path: Path, capsys):
    assert main(["run", "-q", "--profile", str(profile_copy(tmp_path)), XAFS]) == 0
    assert len(capsys.readouterr().out.split()) == 2
    assert not (tmp_path / "logbook.txt").exists()


def test_documents_are_valid_and_carry_profile_metadata(tmp_path: Path, validate):
    env = load_profile(profile_copy(tmp_path))
    docs: list[tuple[str, dict]] = []
    uids = run_plan_text(env, XAFS, quiet=True, subscribers=[lambda n, d: docs.append((n, d))])
    for name, doc in docs:
        validate(name, doc)
    starts = [d for n, d in docs if n == "start"]
    assert [s["uid"] for s in starts] == list(uids)
    assert all(s["beamline"] == "EX-1" and s["facility"] == "Example Light Source" for s in starts)
    assert starts[0]["versions"]["example_beamline"] == "0.1.0"
    events = [d for n, d in docs if n == "event"]
    assert [e["data"]["mono"] for e in events[:7]] == [7092, 7102, 7112, 7117, 7122, 7127, 7132]


def test_limits_are_checked_before_motion_with_plan_checks_message(tmp_path: Path, capsys):
    """A move outside the limits is refused before anything moves or a run opens (exit 2)."""
    path = str(profile_copy(tmp_path))
    text = "xafs_scan([i0], mono, 40000, bounds=[-20, 0], steps=[10], times=[0.1])"
    assert main(["plan", "check", "--profile", path, text]) == 1
    checked = capsys.readouterr().err
    assert "39980" in checked and "outside the limits" in checked
    assert main(["run", "--profile", path, text]) == 2
    captured = capsys.readouterr()
    assert captured.err == checked and captured.out == ""
    assert not (tmp_path / "logbook.txt").exists()  # no run was opened


SIM_DEVICES = {
    "motor",
    "motor1",
    "motor2",
    "det",
    "det2",
    "camera",
    "beam_current",
    "shutter",
    "flyer",
}


def test_default_sim_profile_runs_a_scan_from_text(capsys, validate):
    assert main(["run", "-q", "scan([det], motor, -1, 1, 5)"]) == 0
    (uid,) = capsys.readouterr().out.split()
    env = load_profile("sim")
    assert SIM_DEVICES <= set(env.devices)
    docs: list[tuple[str, dict]] = []
    uids = run_plan_text(
        env,
        "scan([det], motor, -1, 1, 5)",
        quiet=True,
        subscribers=[lambda n, d: docs.append((n, d))],
    )
    assert len(uids) == 1 and uids[0] != uid
    for name, doc in docs:
        validate(name, doc)
    events = [d for n, d in docs if n == "event"]
    assert [e["data"]["motor"] for e in events] == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert max(events, key=lambda e: e["data"]["det"])["data"]["motor"] == 0.0  # peak at 0
    assert docs[0][1]["beamline_id"] == "sim"  # the profile's [metadata]


def test_a_plan_parameter_error_names_the_parameter(capsys):
    assert main(["run", "-q", "scan([motor], det, -1, 1, 5)"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cielo: error: plan 'scan'") and "det" in err


def test_profile_supplemental_baseline_is_read_around_every_run(tmp_path: Path, validate):
    path = tmp_path / "with_baseline.toml"
    path.write_text(
        '[devices.motor]\ntype = "sim.motor"\n[devices.motor1]\ntype = "sim.motor"\n'
        '[devices.det]\ntype = "sim.peak_detector"\nmotors = ["motor"]\n'
        '[supplemental]\nbaseline = ["motor1"]\n'
    )
    docs: list[tuple[str, dict]] = []
    env = load_profile(path)
    run_plan_text(
        env, "count([det], num=2)", quiet=True, subscribers=[lambda n, d: docs.append((n, d))]
    )
    for name, doc in docs:
        validate(name, doc)
    streams = {d["uid"]: d["name"] for n, d in docs if n == "descriptor"}
    baseline = [d for n, d in docs if n == "event" and streams[d["descriptor"]] == "baseline"]
    assert sorted(streams.values()) == ["baseline", "primary"]
    assert len(baseline) == 2 and all("motor1" in e["data"] for e in baseline)


def test_profile_callbacks_print_in_profile_order(tmp_path: Path, capsys):
    """The live table, then the peak summary: the [callbacks.*] share one delivery thread."""
    path = tmp_path / "table_then_stats.toml"
    path.write_text(
        '[devices.motor]\ntype = "sim.motor"\n'
        '[devices.det]\ntype = "sim.peak_detector"\nmotors = ["motor"]\n'
        "[callbacks.best_effort]\nplots = false\n"
        "[callbacks.peak_stats]\nreport = true\n"
    )
    for _ in range(3):  # the order must hold every time, not by luck of the threads
        assert main(["run", "--profile", str(path), "scan([det], motor, -1, 1, 5)"]) == 0
        lines = capsys.readouterr().out.splitlines()
        borders = [i for i, line in enumerate(lines) if line.startswith("+---")]
        (summary,) = [i for i, line in enumerate(lines) if line.startswith("peak stats of det")]
        (footer,) = [i for i, line in enumerate(lines) if line.startswith("success: scan")]
        assert len(borders) == 3 and len([ln for ln in lines if ln.startswith("|")]) == 7
        assert borders[-1] < footer < summary
        # -1..1 covers only the top of the sim det's peak (sigma 1): no centre or width
        assert "max=1 at 0; not bracketed" in lines[summary]


def test_a_quiet_run_is_still_stored_in_the_catalog(capsys):
    from cielo import open_catalog

    assert main(["run", "--quiet", "count([det], num=3)"]) == 0
    out = capsys.readouterr().out
    (uid,) = out.split()  # no table, only the uid
    run = open_catalog()[uid]  # the sim profile's catalog (under the test's XDG_DATA_HOME)
    assert run.stop["exit_status"] == "success"
    assert len(run["primary"].read()) == 3


def test_a_second_run_on_the_same_instrument_is_refused(tmp_path: Path, capsys):
    """Two `cielo run` on one instrument: the second is refused naming the first (real processes)."""
    import subprocess
    import sys
    import time

    from cielo.core import InstrumentLock

    first = subprocess.Popen(
        [sys.executable, "-m", "cielo.cli", "run", "-q", "count([det], num=200, delay=0.05)"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        probe = InstrumentLock("sim", holder="probe")
        deadline = time.monotonic() + 60
        while (info := probe.info()) is None:
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.05)
        assert info.pid == first.pid
        assert main(["run", "-q", "count([det])"]) == 2
        err = capsys.readouterr().err
        assert "instrument 'sim' is in use by cielo run 'count([det], num=200" in err
        assert f"pid {first.pid}" in err
    finally:
        first.terminate()
        first.communicate(timeout=60)


def test_run_says_where_each_run_was_stored(tmp_path: Path, capsys):
    """A profile without [catalog] stores in the user's default catalog; catalog = false nowhere."""
    from cielo import open_catalog

    devices = '[devices.motor]\ntype = "sim.motor"\n'
    plain, nowhere = tmp_path / "plain.toml", tmp_path / "nowhere.toml"
    plain.write_text(devices)
    nowhere.write_text("catalog = false\n" + devices)
    assert main(["run", "-q", "--profile", str(plain), "count([motor], num=2)"]) == 0
    captured = capsys.readouterr()
    (uid,) = captured.out.split()
    assert "cielo: 1 run stored in sqlite:///" in captured.err
    assert "(the default catalog)" in captured.err
    assert open_catalog()[uid].stop["exit_status"] == "success"
    assert main(["run", "-q", "--profile", str(nowhere), "count([motor])"]) == 0
    err = capsys.readouterr().err
    assert "cielo: 1 run not stored in a catalog (nowhere.toml: catalog = false)" in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("count([det], md={{}: 1})", "dict keys must be strings or numbers"),
        ("count([det], md={1j: 2})", "dict keys must be strings or numbers"),
        ("count([det], num=" + "-" * 5000 + "1)", "nested too deeply"),
        ("count(" + "[" * 5000 + "]" * 5000 + ")", "(10007 characters): too many nested"),
        ("count([det], md={'k': '\udcff'})", "bytes that are not UTF-8"),  # argv's surrogateescape
        (
            "adaptive_scan([det], 'det', motor, -1, 1, 1e-300, 1e-300, 0.1, True)",
            "adaptive_scan: need 0 < min_step < max_step, got min_step=1e-300, max_step=1e-300",
        ),
    ],
)
def test_bad_plan_text_is_one_clean_line_and_exit_2(text, message, capsys):
    assert main(["run", "-q", text]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err
    assert "Traceback" not in captured.err and len(captured.err) < 2000


def test_invalid_utf8_in_argv_is_refused_by_the_real_command():
    import os
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "cielo.cli", "run", "-q", b"count([det], md={'k': '\xff'})"],
        capture_output=True,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )
    assert proc.returncode == 2 and b"not UTF-8" in proc.stderr and b"Traceback" not in proc.stderr
