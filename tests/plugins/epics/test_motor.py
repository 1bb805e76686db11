"""``EpicsMotor`` against the demo IOC's motors: DMOV completion, limits, stop, progress."""

from __future__ import annotations

import threading
import time

import pytest

from cielo.core import LimitError, StatusTimeoutError
from cielo.core.protocols import Locatable, Movable, Readable, Stoppable
from cielo.devices import StoppedError, connect_all
from cielo.plugins.epics import EpicsMotor, EpicsSignal, EpicsSignalRO

pytestmark = pytest.mark.epics


@pytest.fixture
def m1(ioc):
    motor = EpicsMotor("CIELO:m1", separator=":", name="m1")
    connect_all([motor], timeout=5)
    motor.velocity.put(10.0)
    motor.move(0.0, timeout=5)
    yield motor
    motor.velocity.put(10.0)
    motor.limits = (-10.0, 10.0)


@pytest.fixture
def m2(ioc):
    motor = EpicsMotor("CIELO:m2", separator=":", name="m2")
    connect_all([motor], timeout=5)
    motor.velocity.put(5.0)
    motor.move(0.0, timeout=5)
    return motor


def test_move_reads_describes_and_locates(m1):
    assert isinstance(m1, Movable) and isinstance(m1, Readable)
    assert isinstance(m1, Locatable) and isinstance(m1, Stoppable)
    status = m1.set(1.5)
    status.wait(5)
    assert status.success
    reading = m1.read()
    assert reading["m1"]["value"] == pytest.approx(1.5)
    assert reading["m1_user_setpoint"]["value"] == pytest.approx(1.5)
    assert m1.describe()["m1"]["source"] == "ca://CIELO:m1:RBV"
    assert m1.describe()["m1"]["units"] == "mm"
    assert m1.hints == {"fields": ["m1"]}
    assert set(m1.read_configuration()) == {
        "m1_high_limit",
        "m1_low_limit",
        "m1_velocity",
        "m1_motor_egu",
    }
    assert m1.locate() == {"setpoint": pytest.approx(1.5), "readback": pytest.approx(1.5)}
    assert m1.egu == "mm" and m1.limits == (-10.0, 10.0)


def test_done_only_when_dmov_returns_to_one(m2):
    """m2's IOC completes the put at once; the motor must still wait for DMOV.

    A plain put-completion on VAL is done while DMOV is still 0; the motor's status
    is never done while DMOV reads 0, and is done once DMOV is back to 1.
    """
    naive_val = EpicsSignal("CIELO:m2:VAL", name="naive")
    dmov = EpicsSignalRO("CIELO:m2:DMOV", string=False, name="dmov")
    connect_all([naive_val, dmov], timeout=5)

    naive = naive_val.set(1.0)  # 1 mm at 5 mm/s: ~0.2 s
    naive.wait(2)
    deadline = time.monotonic() + 0.15
    while dmov.get() != 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert dmov.get() == 0, "the naive put should complete while the motor is still moving"
    deadline = time.monotonic() + 5
    while dmov.get() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)

    samples: list[tuple[int, bool]] = []
    status = m2.set(2.0)
    while time.monotonic() < deadline:
        done = status.done  # first the status, then DMOV: done-then-DMOV-0 is a bug
        samples.append((int(dmov.get()), done))
        if done:
            break
        time.sleep(0.005)
    status.wait(5)
    assert status.success
    assert any(d == 0 for d, _ in samples), "never saw the motor moving"
    assert all(not done for d, done in samples if d == 0)
    assert dmov.get() == 1
    assert m2.position == pytest.approx(2.0)


def test_dmov_transition_seen_by_a_subscriber(m1):
    """The status finishes after the DMOV 0 -> 1 transition, not before.

    DMOV's 0 may reach the subscriber before ``set()`` has returned its status (the
    IOC answers within a millisecond; a loaded machine may not run this thread in that
    time): a transition seen then counts as "status not done" (it did not exist yet).
    """
    transitions: list[tuple[int, bool]] = []
    status_box: list = []
    moving = threading.Event()
    seen_one = threading.Event()

    def on_dmov(value, **_):
        if not moving.is_set():
            return
        transitions.append((int(value), bool(status_box) and status_box[0].done))
        if value == 1 and any(v == 0 for v, _ in transitions):
            seen_one.set()

    m1.motor_done_move.subscribe(on_dmov, run=False)
    try:
        moving.set()
        status_box.append(m1.set(1.0))
        status_box[0].wait(5)
        assert seen_one.wait(2)
    finally:
        m1.motor_done_move.clear_sub(on_dmov)
    first_zero = next(i for i, (v, _) in enumerate(transitions) if v == 0)
    assert transitions[first_zero] == (0, False)
    assert transitions[-1][0] == 1


def test_soft_limits_refuse_before_moving(m1):
    before = m1.position
    with pytest.raises(LimitError) as info:
        m1.set(25.0)
    message = str(info.value)
    assert "m1" in message and "25" in message and "[-10, 10]" in message
    assert "CIELO:m1" in message
    time.sleep(0.05)
    assert m1.position == before and m1.motor_done_move.get() == 1
    m1.limits = (-1.0, 1.0)  # written to HLM/LLM on the IOC
    assert EpicsSignalRO("CIELO:m1:HLM", name="hlm").get() == 1.0
    with pytest.raises(LimitError, match=r"\[-1, 1\]"):
        m1.set(1.5)
    m1.set(0.5).wait(5)
    with pytest.raises(LimitError, match="not a number"):
        m1.set("far")


def test_stop_mid_move(m1):
    m1.velocity.put(4.0)
    status = m1.set(8.0)  # 2 s at 4 mm/s
    time.sleep(0.3)
    assert not status.done and m1.moving
    m1.stop()
    with pytest.raises(StoppedError, match="m1 was stopped"):
        status.wait(2)
    deadline = time.monotonic() + 2
    while m1.motor_done_move.get() != 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    stopped_at = m1.position
    assert 0.2 < stopped_at < 6.0
    time.sleep(0.2)
    assert m1.position == stopped_at  # it really stopped
    m1.set(0.0).wait(5)  # and moves again


def test_progress_is_reported(m1):
    m1.velocity.put(10.0)
    updates: list[dict] = []
    status = m1.set(2.0)
    status.watch(lambda **kw: updates.append(kw))
    status.wait(5)
    assert len(updates) >= 3
    assert updates[-1]["target"] == 2.0 and updates[-1]["unit"] == "mm"
    fractions = [u["fraction"] for u in updates]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)


def test_timeout_fails_and_stops_the_move(m1):
    m1.velocity.put(2.0)
    status = m1.set(5.0, timeout=0.3)  # needs 2.5 s
    with pytest.raises(StatusTimeoutError):
        status.wait(3)
    time.sleep(0.3)
    assert m1.motor_done_move.get() == 1
    assert m1.position < 2.0


def test_move_to_the_current_position_completes(m1):
    status = m1.set(m1.position)
    status.wait(3)
    assert status.success


@pytest.mark.parametrize("prefix", ["CIELO:m1", "CIELO:m2"])
def test_a_new_move_supersedes_the_running_one(ioc, prefix):
    """set() while moving: the first move fails as superseded, the second ends at its
    target and the motor stays there (m2's IOC starts a new move while the old one runs)."""
    motor = EpicsMotor(prefix, separator=":", name="m")
    connect_all([motor], timeout=5)
    motor.velocity.put(4.0)
    motor.move(0.0, timeout=5)
    try:
        first = motor.set(8.0)  # 2 s at 4 mm/s
        time.sleep(0.3)
        second = motor.set(0.0)
        with pytest.raises(StoppedError, match="superseded"):
            first.wait(5)
        second.wait(10)
        assert second.success
        assert motor.position == pytest.approx(0.0, abs=1e-3)
        time.sleep(0.3)
        assert motor.position == pytest.approx(0.0, abs=1e-3)  # nothing moves it on
        assert motor.motor_done_move.get() == 1
    finally:
        motor.velocity.put(10.0)
        motor.move(0.0, timeout=10)
