"""Ctrl-C during RE(plan): a real SIGINT sent to this process."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from cielo import Msg, RunEngine
from cielo.core import RunEngineInterrupted


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
    with RunEngine(scan_id_file=None, sigint_window=1.0) as engine:
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
