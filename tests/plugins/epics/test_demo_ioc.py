"""The demo IOC as a command (``cielo ioc sim``) and the README's two-command try-out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cielo.cli import main
from cielo.plugins.epics.demo_ioc import READY_MARK, pv_names

from .conftest import free_port

CIELO = str(Path(sys.executable).with_name("cielo"))


def test_list_prints_every_pv(capsys):
    assert main(["ioc", "sim", "--list", "--prefix", "XY:"]) == 0
    out = capsys.readouterr().out.split()
    assert out == pv_names("XY:")
    assert {"XY:m1:VAL", "XY:m1:DMOV", "XY:scaler1:CNT", "XY:calc", "XY:wf"} <= set(out)


def test_bad_port_is_refused(capsys):
    assert main(["ioc", "sim", "--port", "70000"]) == 2
    assert "--port 70000 is not a TCP/UDP port" in capsys.readouterr().err


def test_a_port_already_served_is_refused():
    """A second ``cielo ioc sim`` on a port in use is refused (EPICS would start it on
    another TCP port: two IOCs serving the same PVs)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        args = ["ioc", "sim", "--port", str(port), "--interface", "127.0.0.1"]
        proc = subprocess.Popen(
            [CIELO, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            _out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:  # it started an IOC: stop it by its PID
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(5)
    assert proc.returncode == 2
    assert f"port {port} is already served" in err and "--port N" in err


@pytest.mark.epics
def test_cielo_ioc_sim_runs_in_the_foreground_until_interrupted(tmp_path, epics_iocs):
    port = free_port()
    log = tmp_path / "ioc.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                CIELO,
                "ioc",
                "sim",
                "--port",
                str(port),
                "--prefix",
                "CLI:",
                "--interface",
                "127.0.0.1",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=epics_iocs.env,
        )
    try:
        deadline = time.monotonic() + 30
        while READY_MARK not in log.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.05)
        assert f"{READY_MARK} prefix=CLI: port={port}" in log.read_text()
        probe = subprocess.run(
            [sys.executable, "-c", "import epics; print(epics.caget('CLI:ai', timeout=5))"],
            env=epics_iocs.env | {"EPICS_CA_ADDR_LIST": f"127.0.0.1:{port}"},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert probe.stdout.strip() == "0.0", probe.stderr
        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


@pytest.mark.epics
def test_two_command_try_out(ioc, epics_iocs):
    """``cielo ioc sim &`` (here: the session IOC), then a scan with the epics profile."""
    result = subprocess.run(
        [CIELO, "run", "--profile", "epics", "scan([det], motor, -1, 1, num=5)"],
        env=epics_iocs.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "motor" in result.stdout and "det" in result.stdout
    assert "success" in result.stdout and "5 events" in result.stdout


@pytest.mark.epics
def test_try_out_without_the_ioc_says_which_pv_is_missing(epics_iocs):
    env = epics_iocs.env | {"EPICS_CA_ADDR_LIST": f"127.0.0.1:{free_port()}"}
    result = subprocess.run(
        [CIELO, "run", "--profile", "epics", "scan([det], motor, -1, 1, num=5)"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2  # refused before a run opened
    assert "EPICS_CA_ADDR_LIST" in result.stderr
    # then the refusal: the PVs of the devices the plan names
    refusal = result.stderr[result.stderr.index("cielo: error: ") :]
    assert refusal.startswith("cielo: error: 10 of 10 signals did not connect within")
    assert "ca://CIELO:det: timed out" in refusal and "ca://CIELO:m1:RBV" in refusal
    assert "CIELO:m2" not in refusal  # motor2 is not in the plan
    # first, once the profile is loaded: every missing PV, as a tree by device
    assert "signals did not connect within" in result.stderr
    for pv in (
        "m1:RBV",
        "m1:DMOV",
        "m2:VAL",
        "det",
        "ai (write CIELO:ao)",
        "scaler1:S2",
        "bi (write CIELO:bo)",
    ):
        assert f"ca://CIELO:{pv}" in result.stderr, pv
    assert "\n  motor\n    user_readback  ca://CIELO:m1:RBV: timed out" in result.stderr
