"""Hardware stops when the plan stops; the record says how the plan ended.

A simulated motor moves at 1 mm/s with a readback every 20 ms. After each kind of
interruption its position is sampled twice, 0.5 s apart: a motor the engine stopped
stays within one velocity x poll interval (0.02 mm); one still moving would be ~0.5 mm on.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pytest

from cielo import Msg
from cielo.core import RunEngineInterrupted, Status
from cielo.devices import SoftSignal
from cielo.devices.sim import SimMotor, SimPeakDetector
from cielo.plans import run_wrapper
from cielo.plugins.scans import count, scan
from cielo.testing import make_run_engine

VELOCITY = 1.0
POLL = 0.02
STILL = VELOCITY * POLL + 1e-9


def later(seconds: float, func: Any, *args: Any) -> threading.Timer:
    timer = threading.Timer(seconds, func, args=args)
    timer.start()
    return timer


@pytest.fixture
def motor():
    return SimMotor(name="motor", velocity=VELOCITY, update_period=POLL)


@pytest.fixture
def det(motor):
    return SimPeakDetector([motor], name="det")


def drift(device: Any, seconds: float = 0.5) -> float:
    """How far ``device`` moves within ``seconds`` from now."""
    before = device.position
    time.sleep(seconds)
    return abs(device.position - before)


def scan_to_5(det: Any, motor: Any) -> Any:
    """Two points, 0 and 5: the move to 5 takes 5 s."""
    return scan([det], motor, 0, 5, num=2)


def test_deferred_pause_during_a_move_pauses_at_once_then_abort(RE, docs, det, motor):
    later(0.5, RE.request_pause, True)
    t0 = time.monotonic()
    with pytest.raises(RunEngineInterrupted):
        RE(scan_to_5(det, motor))
    assert time.monotonic() - t0 < 3  # not after the 5 s move
    assert RE.state == "paused"
    assert 0.2 < motor.position < 2
    assert drift(motor) <= STILL
    RE.abort("operator")
    assert docs.stop["exit_status"] == "abort" and docs.stop["reason"] == "operator"
    assert RE.state == "idle"


def test_pause_now_stops_and_resume_reissues_the_move(RE, docs, det, motor):
    later(0.5, RE.request_pause)
    with pytest.raises(RunEngineInterrupted):
        RE(scan_to_5(det, motor))
    assert drift(motor) <= STILL
    motor.velocity.put(20.0)  # finish quickly
    result = RE.resume()
    assert result.exit_status == "success"
    assert motor.position == pytest.approx(5.0)
    assert [e["data"]["motor"] for e in docs.events()] == pytest.approx([0.0, 5.0])
    assert docs.stop["exit_status"] == "success"


@pytest.mark.parametrize(
    ("request_", "exit_status", "reason"),
    [("stop", "success", "stopped"), ("halt", "abort", "halted"), ("abort", "abort", "aborted")],
)
def test_stop_halt_abort_while_moving(RE, docs, det, motor, request_, exit_status, reason):
    later(0.5, getattr(RE, request_))
    with pytest.raises(RunEngineInterrupted):
        RE(scan_to_5(det, motor))
    assert 0.2 < motor.position < 2
    assert drift(motor) <= STILL
    assert docs.stop["exit_status"] == exit_status and docs.stop["reason"] == reason
    assert RE.state == "idle"


def test_a_tripped_suspender_stops_the_motor_and_the_plan_redoes_the_move(RE, docs, det, motor):
    from cielo.core import SuspendBoolHigh

    interlock = SoftSignal(False, name="interlock")
    RE.install_suspender(SuspendBoolHigh(interlock))
    drifts: list[float] = []

    def trip_then_clear() -> None:
        time.sleep(0.5)
        interlock.put(True)
        time.sleep(0.2)
        drifts.append(drift(motor))
        motor.velocity.put(20.0)
        interlock.put(False)

    thread = threading.Thread(target=trip_then_clear)
    thread.start()
    RE(scan_to_5(det, motor))
    thread.join()
    assert drifts[0] <= STILL
    assert motor.position == pytest.approx(5.0)
    assert docs.stop["exit_status"] == "success"


def test_a_failing_plan_stops_what_it_moved(RE, docs, motor):
    def plan():
        yield Msg("set", motor, 5.0, group="background")
        yield Msg("sleep", None, 0.3)
        raise RuntimeError("the sample fell off")

    with pytest.raises(RuntimeError, match="fell off"):
        RE(run_wrapper(plan()))
    assert drift(motor) <= STILL
    assert docs.stop["exit_status"] == "fail"
    assert "the sample fell off" in docs.stop["reason"]


def test_deferred_pause_at_a_checkpoint_stops_devices_moved_before_it(RE, motor):
    states: list[str] = []
    RE.add_state_hook(lambda new, old: states.append(str(new)))

    def plan():
        yield Msg("open_run")
        yield Msg("set", motor, 5.0, group="background")  # not waited for
        yield Msg("checkpoint")
        yield Msg("sleep", None, 0.4)
        yield Msg("checkpoint")
        yield Msg("close_run")

    later(0.1, RE.request_pause, True)
    with pytest.raises(RunEngineInterrupted):
        RE(plan())
    assert drift(motor) <= STILL
    assert states == ["running", "pausing", "paused"]
    RE.abort()
    assert states[3:] == ["stopping", "idle"]


def test_the_state_is_pausing_until_the_checkpoint(RE):
    seen: list[str] = []

    def plan():
        yield Msg("sleep", None, 0.3)
        seen.append(str(RE.state))
        yield Msg("checkpoint")

    later(0.05, RE.request_pause, True)
    with pytest.raises(RunEngineInterrupted):
        RE(plan())
    assert seen == ["pausing"] and RE.state == "paused"
    RE.resume()
    assert RE.state == "idle"


class StopRaises:
    """Movable whose stop() raises."""

    name = "clumsy"
    parent = None

    def set(self, value: float) -> Status:
        status = Status(self)
        status.set_finished()
        return status

    def stop(self, *, success: bool = False) -> None:
        raise OSError("controller offline")


class StopHangs(StopRaises):
    """Movable whose asynchronous stop() never finishes."""

    name = "sticky"

    async def stop(self) -> None:  # type: ignore[override]
        await asyncio.sleep(3600)


def move_both(other: Any, motor: Any) -> Any:
    """Move ``other`` (first), then ``motor`` for 5 s."""
    yield Msg("open_run")
    yield Msg("set", other, 1.0)
    yield Msg("set", motor, 5.0, group="m")
    yield Msg("wait", None, group="m")
    yield Msg("close_run")


def test_a_stop_that_raises_is_named_and_the_others_still_stop(RE, docs, motor, caplog):
    later(0.4, RE.abort)
    with caplog.at_level(logging.ERROR, logger="cielo.engine"), pytest.raises(RunEngineInterrupted):
        RE(move_both(StopRaises(), motor))
    assert drift(motor) <= STILL
    assert "'clumsy'.stop() raised OSError: controller offline" in caplog.text
    assert docs.stop["exit_status"] == "abort"


def test_a_stop_that_never_finishes_is_waited_for_a_bounded_time(motor, caplog):
    with make_run_engine(stop_timeout=0.2) as RE:
        later(0.3, RE.halt)
        t0 = time.monotonic()
        with (
            caplog.at_level(logging.ERROR, logger="cielo.engine"),
            pytest.raises(RunEngineInterrupted),
        ):
            RE(move_both(StopHangs(), motor))
        assert time.monotonic() - t0 < 3
    assert drift(motor) <= STILL
    assert "'sticky'.stop() did not finish within 0.2 s" in caplog.text


class AsyncDevice:
    """An ophyd-async style device: stage, pause and resume are coroutines."""

    name = "async_dev"
    parent = None

    def __init__(self) -> None:
        self.calls: list[tuple[str, asyncio.AbstractEventLoop]] = []

    async def _record(self, what: str) -> None:
        await asyncio.sleep(0)
        self.calls.append((what, asyncio.get_running_loop()))

    def stage(self) -> Any:
        return self._record("stage")

    def unstage(self) -> Any:
        return self._record("unstage")

    def pause(self) -> Any:
        return self._record("pause")

    def resume(self) -> Any:
        return self._record("resume")


def test_async_pause_and_resume_are_awaited_on_the_engine_loop(RE):
    dev = AsyncDevice()

    def plan():
        yield Msg("stage", dev)
        yield Msg("checkpoint")
        yield Msg("sleep", None, 0.5)
        yield Msg("unstage", dev)

    later(0.1, RE.request_pause)
    with pytest.raises(RunEngineInterrupted):
        RE(plan())
    RE.resume()
    assert [what for what, _ in dev.calls] == ["stage", "pause", "resume", "unstage"]
    assert all(loop is RE.loop for _, loop in dev.calls)


class BrokenDetector(SimPeakDetector):
    def trigger(self) -> Any:
        if self.triggers >= 2:
            raise OSError("detector lost")
        self.triggers += 1
        return super().trigger()


@pytest.mark.parametrize(
    ("ending", "exit_status", "reason"),
    [
        ("pause_then_abort", "abort", "aborted"),
        ("stop", "success", "stopped"),
        ("halt", "abort", "halted"),
        ("failure", "fail", "detector lost"),
    ],
)
def test_bundled_plans_store_how_they_ended(RE, docs, motor, ending, exit_status, reason):
    det = BrokenDetector([motor], name="det", count_time=0.1)
    det.triggers = 0 if ending == "failure" else -1000
    if ending == "pause_then_abort":
        later(0.3, RE.request_pause)
    elif ending != "failure":
        later(0.3, getattr(RE, ending))
    with pytest.raises((RunEngineInterrupted, OSError)):
        RE(count([det], num=20))
    if ending == "pause_then_abort":
        RE.abort()
    stop = docs.stop
    assert stop["exit_status"] == exit_status
    assert reason in stop["reason"]
    assert 0 < stop["num_events"]["primary"] < 20
