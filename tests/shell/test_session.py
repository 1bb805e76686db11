"""cielo.session(profile): the shell's namespace from Python, with the lock and the catalog."""

from __future__ import annotations

import subprocess
import sys

import pytest

import cielo
from cielo.core import InstrumentBusy


def test_the_namespace_runs_plans_with_the_profiles_feedback_and_stores_them(capsys):
    with cielo.session("sim") as ns:
        assert {"RE", "cat", "env", "scan", "count", "motor", "det"} <= set(ns)
        assert ns.motor is ns["motor"] is ns.env.devices["motor"]
        (uid,) = ns.RE(ns.scan([ns.det], ns.motor, -3, 3, 13))
        out = capsys.readouterr().out.splitlines()
        # the profile's table, then its peak-stats line after the table (one feedback group)
        borders = [i for i, line in enumerate(out) if line.startswith("+---")]
        (stats,) = [i for i, line in enumerate(out) if line.startswith("peak stats of det")]
        assert len(borders) == 3 and borders[-1] < stats
        assert "cen=0 " in out[stats]
        assert ns.cat[uid].metadata["stop"]["exit_status"] == "success"
        assert ns.cat[-1].metadata["start"]["beamline_id"] == "sim"  # the profile's metadata


def test_the_session_holds_the_instrument_lock_until_closed():
    ns = cielo.session("sim", holder="test session")
    try:
        with pytest.raises(InstrumentBusy, match="test session"):
            cielo.session("sim")
    finally:
        ns.close()
    cielo.session("sim").close()  # released: a second session may start


def test_import_cielo_stays_cheap():
    code = (
        "import sys, cielo\n"
        "heavy = [m for m in ('cielo.shell', 'IPython', 'rich') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert callable(cielo.session) and 'cielo.shell' in sys.modules\n"
        "assert 'IPython' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_attribute_errors_name_the_devices():
    with cielo.session("sim", lock=False) as ns, pytest.raises(AttributeError, match="motor1"):
        ns.mootor  # noqa: B018


def test_shell_help_names_the_magics(capsys):
    from cielo.cli import main

    with pytest.raises(SystemExit):
        main(["shell", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "the magics %mov, %movr, %wa and %ct" in out and "cielo.session('PROFILE')" in out
