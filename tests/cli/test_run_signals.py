"""Ctrl-C and SIGTERM in `cielo run`, with real signals to a real process (and a real pty).

The stop documents stored in the catalog say what happened; the exit status says it too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from cielo import open_catalog
from cielo.core import InstrumentLock

SLOW = "count([det], num=400, delay=0.05)"  # 20 s unless interrupted
CLI = [sys.executable, "-m", "cielo.cli"]


def wait_until_running(alive: Callable[[], bool]) -> None:
    """Until the run has started (the instrument lock is taken, then a few events)."""
    probe = InstrumentLock("sim", holder="probe")
    deadline = time.monotonic() + 60
    while probe.info() is None:
        assert alive(), "cielo run ended before its plan started"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.0)  # into the run: documents stored, a few points counted


def stored_stop(uid: str) -> dict:
    return open_catalog()[uid].stop


@pytest.mark.parametrize(
    ("signum", "code", "reason"),
    [(signal.SIGINT, 130, "Ctrl-C"), (signal.SIGTERM, 143, "SIGTERM")],
)
def test_a_signal_without_a_terminal_aborts_the_run(signum, code, reason):
    proc = subprocess.Popen(
        [*CLI, "run", "-q", SLOW],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_running(lambda: proc.poll() is None)
        started = time.monotonic()
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert time.monotonic() - started < 15  # not the 20 s the plan would take
    (uid,) = out.split()
    stop = stored_stop(uid)
    assert stop["exit_status"] == "abort" and reason in stop["reason"]
    assert 0 < stop["num_events"]["primary"] < 400
    assert "Traceback" not in err


def test_ctrl_c_on_a_terminal_pauses_and_asks(tmp_path):
    """Ctrl-C -> prompt -> status -> resume; Ctrl-C again -> prompt -> abort (exit 130)."""
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "cielo.cli", "run", "-q", SLOW],
        env=dict(os.environ),
        encoding="utf-8",
        timeout=60,
    )
    try:
        wait_until_running(child.isalive)
        child.sendintr()
        child.expect("The plan is paused")
        child.expect(r"s\[t\]atus\? ")
        child.sendline("t")
        child.expect(r"run (\S+) \(scan \d+\)")
        uid = child.match.group(1)
        child.expect(r"events: \d+ in primary")
        child.expect(r"s\[t\]atus\? ")
        child.sendline("r")
        time.sleep(1.0)
        child.sendintr()
        child.expect(r"s\[t\]atus\? ")
        child.sendline("a")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 130, child.before
    stop = stored_stop(uid)
    assert stop["exit_status"] == "abort" and "Ctrl-C" in stop["reason"]
    assert 0 < stop["num_events"]["primary"] < 400
