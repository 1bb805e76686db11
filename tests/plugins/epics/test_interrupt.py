"""Interrupting a scan stops real EPICS motors: the demo IOC's motor and caproto's motor record.

Each motor moves at 1 mm/s towards 5 when the plan is interrupted; its readback is then
sampled twice, 0.5 s apart. A stopped motor stays within one velocity x poll interval of
where it was (the demo motor steps every 10 ms, the fake motor record every 0.1 s); one
still moving would be ~0.5 mm on. Every way of interrupting is tried on both.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from cielo import Msg
from cielo.core import RunEngineInterrupted, SuspendBoolHigh
from cielo.devices import SoftSignal, connect_all
from cielo.plans import run_wrapper
from cielo.plugins.epics import EpicsMotor, EpicsSignalRO
from cielo.plugins.scans import scan
from cielo.testing import DocumentCollector

pytestmark = pytest.mark.epics

VELOCITY = 1.0
#: (prefix, separator, poll interval of the simulated motor in seconds)
MOTORS = {"demo": ("CIELO:m1", ":", 0.01), "motor_record": ("CMR:mtr1", ".", 0.1)}
ENDINGS = ["pause_then_abort", "pause_now", "stop", "halt", "suspension", "failure"]


def settle(motor: EpicsMotor, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while motor.motor_done_move.get() != 1 and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.fixture(params=sorted(MOTORS))
def slow_motor(request, ioc) -> Any:
    prefix, separator, poll = MOTORS[request.param]
    if request.param == "motor_record":
        request.getfixturevalue("motor_record_ioc")
    motor = EpicsMotor(prefix, separator=separator, name="mot")
    connect_all([motor], timeout=5)
    settle(motor)
    motor.velocity.put(10.0)
    motor.move(0.0, timeout=5)
    settle(motor)
    motor.velocity.put(VELOCITY)
    yield motor, poll
    settle(motor, 1.0)
    if motor.motor_done_move.get() != 1:
        motor.stop()
        settle(motor)
    motor.velocity.put(10.0)
    motor.move(0.0, timeout=5)
    settle(motor)


def wait_until_moving(motor: EpicsMotor, timeout: float = 10.0) -> None:
    """Until the readback has left 0 on its way to 5. A fixed delay is not enough on a
    loaded machine: the fake motor record clears a STOP that comes before its next tick
    has started the move, so an interruption must come once the motor is moving."""
    deadline = time.monotonic() + timeout
    while motor.position < 0.1 and time.monotonic() < deadline:
        time.sleep(0.01)


def drift(motor: EpicsMotor, seconds: float = 0.5) -> float:
    before = motor.position
    time.sleep(seconds)
    return abs(motor.position - before)


@pytest.mark.parametrize("ending", ENDINGS)
def test_interrupting_a_scan_stops_the_motor(RE, slow_motor, ending):
    motor, poll = slow_motor
    still = VELOCITY * poll + 1e-6
    det = EpicsSignalRO("CIELO:det", name="det")
    connect_all([det], timeout=5)
    docs = DocumentCollector(validate=True)
    RE.subscribe(docs)
    drifts: list[float] = []
    plan = scan([det], motor, 0, 5, num=2)
    if ending == "suspension":
        interlock = SoftSignal(False, name="interlock")
        RE.install_suspender(SuspendBoolHigh(interlock))

        def trip_then_clear() -> None:
            wait_until_moving(motor)
            interlock.put(True)
            time.sleep(0.3)
            drifts.append(drift(motor))
            motor.velocity.put(10.0)
            interlock.put(False)

        thread = threading.Thread(target=trip_then_clear)
        thread.start()
        RE(plan)
        thread.join()
        assert drifts[0] <= still
        assert motor.position == pytest.approx(5.0, abs=1e-3)
        assert docs.stop["exit_status"] == "success"
        return
    if ending == "failure":

        def failing() -> Any:
            yield Msg("set", motor, 5.0, group="background")
            yield Msg("sleep", None, 0.6)
            raise RuntimeError("the sample fell off")

        plan = run_wrapper(failing())
    else:
        request = {"pause_then_abort": "request_pause", "pause_now": "request_pause"}
        args = (True,) if ending == "pause_then_abort" else ()
        interrupt = getattr(RE, request.get(ending, ending))

        def interrupt_when_moving() -> None:
            wait_until_moving(motor)
            interrupt(*args)

        threading.Thread(target=interrupt_when_moving, daemon=True).start()
    with pytest.raises((RunEngineInterrupted, RuntimeError)):
        RE(plan)
    # The STOP is written without waiting: on a loaded machine the IOC may make a tick
    # more before it reads it (CI saw 1.4 ticks). So: the IOC says the motor is done
    # (well before a motor left moving would reach 3), part way, and then it stays put.
    settle(motor, 2.0)
    assert motor.motor_done_move.get() == 1
    assert 0.05 < motor.position < 3  # stopped part way
    assert drift(motor) <= still
    if ending == "pause_then_abort":
        RE.abort()
    elif ending == "pause_now":
        motor.velocity.put(10.0)
        RE.resume()  # the move cut short is issued again
        assert motor.position == pytest.approx(5.0, abs=1e-3)
    expected = {"stop": "success", "pause_now": "success", "failure": "fail"}
    assert docs.stop["exit_status"] == expected.get(ending, "abort")
