"""`cielo shell` in a real IPython on a pseudo-terminal: magics, a scan, Ctrl-C, resume, exit."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import cielo

pexpect = pytest.importorskip("pexpect")

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def prompt(n: int) -> str:
    """IPython's ``In [n]: `` prompt, with the colour codes a terminal gets between."""
    codes = r"(?:\x1b\[[0-9;]*m)*"
    return rf"In \[{codes}{n}{codes}\]: "


class Shell:
    def __init__(self, profile: str = "sim") -> None:
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "cielo.cli", "shell", "--profile", profile],
            encoding="utf-8",
            timeout=60,
            dimensions=(60, 160),
        )
        self.n = 1
        self.child.expect(prompt(1))
        self.banner = ANSI.sub("", self.child.before)

    def run(self, line: str) -> str:
        """Send ``line``, wait for the next prompt, return what was printed (no colours)."""
        self.child.sendline(line)
        self.n += 1
        self.child.expect(prompt(self.n))
        return ANSI.sub("", self.child.before)


def test_magics_scan_interrupt_resume_exit(private_dirs: Path):
    shell = Shell()
    assert "profile 'sim'" in shell.banner and "%wa" in shell.banner
    shell.run("%mov motor 1")
    shell.run("%movr motor1 -0.5")
    where = shell.run("%wa")
    rows = {line.split()[1]: line.split()[3] for line in where.splitlines() if "│ motor" in line}
    assert rows == {"motor": "1", "motor1": "-0.5", "motor2": "0"}, where
    counted = shell.run("%ct")
    assert re.search(r"│ det\s+│\s+0\.606531 │", counted), counted  # det at motor=1, sigma 1
    assert "camera_total" not in counted and "they write files: camera" in counted
    scanned = shell.run("RE(scan([det], motor, -1, 1, 5))")
    assert "exit_status='success'" in scanned and "peak stats of det vs motor" in scanned

    # a slow scan (0.4 s per point), interrupted once: the plan pauses, one line says so
    shell.run("motor.velocity.put(0.5)")
    shell.child.sendline("RE(scan([det], motor, -1, 1, 11))")
    shell.n += 1
    shell.child.expect(r"\|\s+2 \|")  # the second point is in the table
    shell.child.sendintr()
    shell.child.expect(prompt(shell.n))
    interrupted = ANSI.sub("", shell.child.before)
    assert "Traceback" not in interrupted and "File " not in interrupted, interrupted
    (report,) = [ln for ln in interrupted.splitlines() if "Interrupted" in ln]
    assert report.startswith("RunEngineInterrupted: the plan is paused; RE.resume()")
    assert "RE.abort()" in report
    resumed = shell.run("RE.resume()")
    assert "exit_status='success'" in resumed, resumed
    assert re.search(r"\|\s+11 \|", resumed)

    failed = shell.run("%mov nosuch 1")
    assert "Traceback" not in failed and "no device named 'nosuch'" in failed
    shell.child.sendline("exit")
    shell.child.expect(pexpect.EOF)
    shell.child.close()
    assert shell.child.exitstatus == 0
    # the runs are in the catalog, and the instrument lock was released at exit
    with cielo.session("sim") as ns:
        last = ns.cat[-1].metadata
        assert last["start"]["num_points"] == 11 and last["stop"]["exit_status"] == "success"


def test_a_second_shell_is_refused_while_one_runs(private_dirs: Path):
    with cielo.session("sim", holder="the first shell"):
        child = pexpect.spawn(
            sys.executable, ["-m", "cielo.cli", "shell"], encoding="utf-8", timeout=60
        )
        child.expect(pexpect.EOF)
        child.close()
    assert child.exitstatus == 2
    assert "the first shell" in child.before
