"""Positioners (through the simulated motor): limits, timing, stop, progress, locate."""

from __future__ import annotations

import time

import pytest

from cielo.core import LimitError, Status
from cielo.core import protocols as P
from cielo.devices import MoveStatus, StoppedError
from cielo.devices.sim import SimMotor, move_duration


def test_instant_motor_moves_at_once():
    m = SimMotor(name="m")
    status = m.set(3.0)
    assert isinstance(status, MoveStatus) and isinstance(status, Status)
    assert status.done and status.success
    assert m.position == 3.0
    assert m.locate() == {"setpoint": 3.0, "readback": 3.0}
    assert m.read()["m"]["value"] == 3.0


def test_motor_naming_and_protocols():
    m = SimMotor(name="motor1", velocity=2.0)
    assert m.user_readback.name == "motor1"
    assert list(m.read()) == ["motor1", "motor1_user_setpoint"]
    assert list(m.read_configuration()) == ["motor1_velocity", "motor1_acceleration"]
    assert m.hints == {"fields": ["motor1"]}
    for proto in (
        P.Readable,
        P.Movable,
        P.Locatable,
        P.Stoppable,
        P.Configurable,
        P.Stageable,
        P.HasHints,
        P.Checkable,
        P.Subscribable,
    ):
        assert isinstance(m, proto), proto


def test_limits_checked_before_moving():
    m = SimMotor(name="motor1", limits=(-5, 5))
    with pytest.raises(LimitError) as info:
        m.set(7.5)
    message = str(info.value)
    assert "motor1" in message and "7.5" in message and "[-5.0, 5.0]" in message
    assert m.position == 0.0
    with pytest.raises(LimitError, match="not a number"):
        m.set("far")
    assert m.describe()["motor1"]["limits"] == {"control": {"low": -5.0, "high": 5.0}}
    m.limits = (-10, 10)
    m.set(7.5).wait(1)
    assert m.describe()["motor1"]["limits"] == {"control": {"low": -10.0, "high": 10.0}}
    with pytest.raises(ValueError, match="low > high"):
        m.limits = (3, 1)
    m.limits = None
    assert "limits" not in m.describe()["motor1"]
    m.set(1e6).wait(1)


def test_move_with_velocity_takes_real_time():
    m = SimMotor(name="m", velocity=10.0)
    t0 = time.monotonic()
    m.set(1.0).wait(2)
    elapsed = time.monotonic() - t0
    assert 0.09 <= elapsed < 0.3, elapsed
    assert m.position == 1.0


def test_acceleration_lengthens_move():
    assert move_duration(1.0, 10.0, None) == pytest.approx(0.1)
    assert move_duration(1.0, 10.0, 100.0) == pytest.approx(0.2)  # 0.1 + v/a
    assert move_duration(0.01, 10.0, 100.0) == pytest.approx(0.02)  # triangle
    assert move_duration(5.0, 0.0, 1.0) == 0.0
    m = SimMotor(name="m", velocity=10.0, acceleration=100.0)
    t0 = time.monotonic()
    m.move(1.0)
    assert 0.19 <= time.monotonic() - t0 < 0.4


def test_stop_mid_move_fails_status_and_leaves_motor_between():
    m = SimMotor(name="m", velocity=5.0)
    status = m.set(5.0)
    time.sleep(0.15)
    assert m.moving
    m.stop()
    with pytest.raises(StoppedError, match="m was stopped"):
        status.wait(1)
    assert 0.3 < m.position < 2.0
    position = m.position
    time.sleep(0.1)
    assert m.position == position  # it really stopped


class HaltReportsDone(SimMotor):
    """A motor whose halt reports the move done at once, as a motor record's done flag
    and put completion can arrive (on another thread) before ``stop()`` returns."""

    def set(self, value, **kwargs):  # type: ignore[no-untyped-def]
        self.last = super().set(value, **kwargs)
        return self.last

    def _stop_motion(self) -> None:
        super()._stop_motion()
        self.last.set_finished()


def test_a_stopped_move_fails_even_when_the_halt_reports_it_done_first():
    m = HaltReportsDone(name="m", velocity=5.0)
    status = m.set(5.0)
    time.sleep(0.1)
    m.stop()
    with pytest.raises(StoppedError, match="m was stopped"):
        status.wait(1)
    m.set(0.0).wait(5)  # the next move is not stopped by it
    assert m.position == pytest.approx(0.0)


def test_progress_reported_to_watchers():
    m = SimMotor(name="m", velocity=20.0, update_period=0.01)
    updates = []
    status = m.set(1.0)
    status.watch(lambda **kw: updates.append(kw))
    status.wait(2)
    assert len(updates) >= 3
    assert updates[-1]["current"] == 1.0 and updates[-1]["fraction"] == 1.0
    assert updates[-1]["target"] == 1.0 and updates[-1]["unit"] == "mm"
    fractions = [u["fraction"] for u in updates]
    assert fractions == sorted(fractions)
    remaining = [u["time_remaining"] for u in updates]
    assert remaining == sorted(remaining, reverse=True) and remaining[-1] == 0.0
    assert remaining[0] <= 0.05 and all(u["time_elapsed"] >= 0 for u in updates)


def test_new_move_supersedes_old():
    m = SimMotor(name="m", velocity=2.0)
    first = m.set(10.0)
    time.sleep(0.05)
    second = m.set(0.0)
    with pytest.raises(StoppedError, match="superseded"):
        first.wait(1)
    second.wait(2)
    assert m.position == 0.0


def test_readback_subscription_follows_move():
    # a 0.4 s move updated every 10 ms: intermediate readbacks even when the machine is
    # loaded (a 50 ms move could end before its updater thread woke more than once)
    m = SimMotor(name="m", velocity=2.5, update_period=0.01)
    seen = []

    def follow(*, value, **kw):
        seen.append(value)

    m.subscribe(follow)
    m.move(1.0)
    m.clear_sub(follow)
    assert seen[0] == 0.0 and seen[-1] == 1.0, seen
    inside = [v for v in seen if 0.0 < v < 1.0]
    assert len(inside) >= 3 and inside == sorted(inside), seen


def test_move_timeout():
    m = SimMotor(name="m", velocity=1.0)
    status = m.set(5.0, timeout=0.1)
    with pytest.raises(TimeoutError):
        status.wait(2)
    time.sleep(0.05)
    position = m.position
    time.sleep(0.1)
    assert 0 < position == m.position < 1.0  # the motor stopped when its move timed out


def test_moves_are_awaitable():
    import asyncio

    m1, m2 = SimMotor(name="m1", velocity=5.0), SimMotor(name="m2", velocity=5.0)

    async def main():
        t0 = time.monotonic()
        await asyncio.gather(m1.set(1.0), m2.set(1.0))  # concurrently: ~0.2 s, not 0.4 s
        return time.monotonic() - t0

    elapsed = asyncio.run(main())
    assert m1.position == m2.position == 1.0
    assert 0.19 <= elapsed < 0.35
