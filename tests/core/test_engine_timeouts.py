"""A move or trigger that never completes fails the plan after the device timeout, and one
Ctrl-C (a deferred pause) interrupts a wait blocked on a device at once."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest

from cielo import Msg
from cielo.core import RunEngineInterrupted, Status, StatusTimeoutError
from cielo.plans import run_wrapper
from cielo.testing import make_run_engine


class Stuck:
    """A movable whose first ``hangs`` moves never finish; it records stop() calls."""

    parent = None

    def __init__(self, name: str = "stuck", hangs: int = 10**6) -> None:
        self.name = name
        self.hangs = hangs
        self.sets = 0
        self.stops = 0

    def set(self, value: float) -> Status:
        self.sets += 1
        status = Status(self)
        if self.sets > self.hangs:
            status.set_finished()
        return status

    def stop(self, *, success: bool = False) -> None:
        self.stops += 1


def move(dev: Any) -> Any:
    def inner() -> Any:
        yield Msg("checkpoint")
        yield Msg("set", dev, 1.0, group="g")
        yield Msg("wait", None, group="g")

    return run_wrapper(inner())


def test_a_move_that_never_finishes_fails_after_the_device_timeout():
    dev = Stuck()
    stops: list[dict] = []
    with make_run_engine(device_timeout=0.5) as RE:
        RE.subscribe(lambda name, doc: stops.append(doc), "stop")
        t0 = time.monotonic()
        with pytest.raises(
            StatusTimeoutError, match=r"'stuck'.set\(\) did not finish within 0.5 s"
        ):
            RE(move(dev))
        assert time.monotonic() - t0 < 5
        assert RE.state == "idle"
    assert dev.stops == 1  # the stuck device was told to stop
    assert stops[0]["exit_status"] == "fail"
    assert "'stuck'.set() did not finish within 0.5 s" in stops[0]["reason"]


def test_per_device_timeouts_replace_the_default():
    slow = Stuck("slow")
    with make_run_engine(device_timeout=0.2, device_timeouts={"slow": 0.6}) as RE:
        t0 = time.monotonic()
        with pytest.raises(StatusTimeoutError, match="within 0.6 s"):
            RE(move(slow))
        assert time.monotonic() - t0 >= 0.55


def test_an_explicit_wait_timeout_still_wins():
    with make_run_engine(device_timeout=0.1) as RE:

        def plan() -> Any:
            yield Msg("set", Stuck(), 1.0, group="g")
            yield Msg("wait", None, group="g", timeout=0.4, move_on=True)
            return "moved on"

        t0 = time.monotonic()
        assert RE(plan()).plan_result == "moved on"
        assert time.monotonic() - t0 >= 0.35


class SlowFlyer:
    name = "flyer"
    parent = None

    def kickoff(self) -> Status:
        status = Status(self)
        status.set_finished()
        return status

    def complete(self) -> Status:
        status = Status(self)
        threading.Timer(0.6, status.set_finished).start()
        return status


def test_a_flyers_complete_is_not_bounded_by_the_default():
    with make_run_engine(device_timeout=0.2) as RE:
        flyer = SlowFlyer()
        RE(
            [
                Msg("open_run"),  # a kickoff belongs to a run
                Msg("kickoff", flyer, group="k"),
                Msg("wait", None, group="k"),
                Msg("complete", flyer, group="c"),
                Msg("wait", None, group="c"),
                Msg("close_run"),
            ]
        )


def test_a_deferred_pause_interrupts_a_wait_on_a_stuck_device_and_resume_reissues_it():
    dev = Stuck(hangs=1)  # the first move hangs, the one re-issued on resume finishes
    with make_run_engine(device_timeout=None) as RE:
        threading.Timer(0.3, RE.request_pause, args=(True,)).start()
        t0 = time.monotonic()
        with pytest.raises(RunEngineInterrupted):
            RE(move(dev))
        assert time.monotonic() - t0 < 3
        assert RE.state == "paused" and dev.stops == 1
        result = RE.resume()
    assert result.exit_status == "success"
    assert dev.sets == 2


def test_one_ctrl_c_pauses_a_plan_blocked_on_a_device():
    dev = Stuck()
    with make_run_engine(handle_sigint=True, device_timeout=None) as RE:
        threading.Timer(0.3, os.kill, args=(os.getpid(), signal.SIGINT)).start()
        t0 = time.monotonic()
        with pytest.raises(RunEngineInterrupted):
            RE(move(dev))
        assert time.monotonic() - t0 < 3
        assert RE.state == "paused" and dev.stops == 1
        result = RE.abort()
    assert result.exit_status == "abort"


def test_a_profile_sets_the_engine_timeouts(tmp_path):
    from cielo import RunEngine, load_profile

    path = tmp_path / "beamline.toml"
    path.write_text(
        "[engine]\ndevice_timeout = 30\nstop_timeout = 2\n"
        "[engine.device_timeouts]\nmono = 1800\nflyer = false\n"
    )
    env = load_profile(path)
    with RunEngine(plugin_manager=env.pm, scan_id_file=None, handle_sigint=False) as RE:
        assert RE.device_timeout == 30.0 and RE.stop_timeout == 2.0
        assert RE.device_timeouts == {"mono": 1800.0, "flyer": None}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("device_timeout = -1", "device_timeout must be a number of seconds > 0 or false"),
        ('stop_timeout = "10"', "stop_timeout must be a number of seconds > 0, got '10'"),
        ("device_timeouts = 5", "device_timeouts must be a table of device = seconds"),
        ("timeout = 5", "timeout"),
    ],
)
def test_a_profile_with_a_bad_engine_option_is_refused(tmp_path, text, message):
    from cielo import load_profile
    from cielo.core import ProfileError

    path = tmp_path / "bad.toml"
    path.write_text(f"[engine]\n{text}\n")
    with pytest.raises(ProfileError, match=message):
        load_profile(path)
