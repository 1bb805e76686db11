"""Ctrl-C during RE(plan): a real SIGINT sent to this process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from cielo import Msg, RunEngine
from cielo.core import RunEngineInterrupted
from cielo.testing import make_run_engine


def sigint_after(*delays: float) -> threading.Thread:
    def send() -> None:
        for delay in delays:
            time.sleep(delay)
            os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def slow_steps(n: int, dwell: float, log: list[int]):
    yield Msg("open_run")
    for i in range(n):
        yield Msg("checkpoint")
        yield Msg("sleep", None, dwell)
        log.append(i)
    yield Msg("close_run")


@pytest.fixture
def RE():
    assert threading.current_thread() is threading.main_thread()
    with make_run_engine(handle_sigint=True, sigint_window=1.0) as engine:
        yield engine


def test_ctrl_c_once_pauses_at_next_checkpoint(RE, capsys):
    log: list[int] = []
    sender = sigint_after(0.1)
    with pytest.raises(RunEngineInterrupted):
        RE(slow_steps(5, 0.3, log))
    sender.join()
    assert 1 <= len(log) < 5  # the running step finished, then the checkpoint paused
    assert RE.state == "paused"
    assert "next checkpoint" in capsys.readouterr().err
    RE.resume()
    assert log == [0, 1, 2, 3, 4]  # nothing was redone: the pause came at a checkpoint


def test_ctrl_c_twice_pauses_now(RE):
    log: list[int] = []
    sender = sigint_after(0.1, 0.05)
    t0 = time.monotonic()
    with pytest.raises(RunEngineInterrupted):
        RE(slow_steps(3, 5.0, log))
    sender.join()
    assert time.monotonic() - t0 < 3  # did not wait for the 5 s step
    assert log == []
    RE.abort()
    assert RE.state == "idle"


def test_handler_restored_after_the_plan(RE):
    before = signal.getsignal(signal.SIGINT)
    RE([Msg("null")])
    assert signal.getsignal(signal.SIGINT) is before


def test_no_handler_in_a_worker_thread():
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with RunEngine(scan_id_file=None) as RE:
                RE([Msg("null")])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    t = threading.Thread(target=worker)
    t.start()
    t.join(10)
    assert errors == []


# A user's session in a separate process: RE(plan) in its main thread, Ctrl-C sent to it
# from outside as a terminal would, then the paused plan aborted from the prompt.
SESSION = """
import sys
from cielo import Msg, RunEngine
from cielo.core import RunEngineInterrupted

def slow():
    yield Msg("open_run")
    for _ in range(3):
        yield Msg("checkpoint")
        print("in plan", flush=True)
        yield Msg("sleep", None, 20)
    yield Msg("close_run")

stops = []
with RunEngine(scan_id_file=None, sigint_window=5.0) as RE:
    RE.subscribe(lambda name, doc: stops.append(doc), "stop")
    try:
        RE(slow())
    except RunEngineInterrupted:
        print("state", RE.state, flush=True)
        print("exit", RE.abort("operator gave up").exit_status, flush=True)
print("stop", stops[0]["exit_status"], stops[0]["reason"], flush=True)
print("where", type(get_ipython()).__name__ if "get_ipython" in globals() else "script")
"""


def run_session(command: list[str], **env: str) -> list[str]:
    """Start ``command``; once its plan runs, press Ctrl-C twice; return its output lines."""
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.strip() == "in plan", first + proc.stderr.read() if proc.stderr else ""
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    return [first.strip(), *out.splitlines()]


def test_ctrl_c_twice_in_a_plain_script(tmp_path):
    script = tmp_path / "session.py"
    script.write_text(SESSION)
    t0 = time.monotonic()
    lines = run_session([sys.executable, str(script)])
    assert time.monotonic() - t0 < 15  # the 20 s sleep was cut short
    assert lines == [
        "in plan",
        "state paused",
        "exit abort",
        "stop abort operator gave up",
        "where script",
    ]


def test_ctrl_c_twice_in_ipython(tmp_path):
    pytest.importorskip("IPython")
    script = tmp_path / "session.ipy"
    script.write_text(SESSION)
    command = [sys.executable, "-m", "IPython", "--quick", "--no-banner", str(script)]
    lines = run_session(command, IPYTHONDIR=str(tmp_path / "ipython"))
    assert lines[:4] == ["in plan", "state paused", "exit abort", "stop abort operator gave up"]
    assert lines[4] == "where TerminalInteractiveShell"


def test_keyboard_interrupt_without_a_handler_ends_the_plan_too():
    """With handle_sigint=False Ctrl-C raises KeyboardInterrupt in the caller; the plan must
    not run on behind an engine that says it is idle."""
    log: list[object] = []
    stops: list[dict] = []
    with RunEngine(scan_id_file=None, handle_sigint=False) as RE:
        RE.subscribe(lambda name, doc: stops.append(doc), "stop")
        sender = sigint_after(0.3)
        with pytest.raises(KeyboardInterrupt):
            RE(slow_steps(5, 0.2, log))
        sender.join()
        assert RE.state == "idle"
        assert stops and stops[0]["exit_status"] == "abort"
        assert "KeyboardInterrupt" in stops[0]["reason"]
        steps_then = list(log)
        time.sleep(0.5)
        assert log == steps_then and len(log) < 5  # nothing ran after RE() returned
        RE([Msg("null")])  # reusable
