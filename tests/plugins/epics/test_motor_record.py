"""``epics.motor`` on a motor record with real field names: caproto's fake motor record.

caproto's ``fake_motor_record`` example serves ``CMR:mtr1``..``mtr3`` as motor records
(``.VAL``, ``.RBV``, ``.DMOV``, ``.STOP``, ``.HLM``, ``.LLM``, ``.EGU``, ``.VELO``, ...),
so these tests use ``EpicsMotor``'s default separator ``"."``. Its put to ``.VAL``
completes at once, before the motor has moved: only ``DMOV`` says when a move is done.
The simulator moves in ticks of 0.1 s; ``mtr1`` has precision 3 and limits 0..10.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from cielo import RunEngine, load_profile
from cielo.core import LimitError, Status
from cielo.devices import StoppedError, connect_all
from cielo.plugins.epics import EpicsMotor, EpicsSignal, EpicsSignalRO
from cielo.plugins.scans import scan

pytestmark = pytest.mark.epics

MOTOR = "CMR:mtr1"


def wait_for(predicate: Any, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


def go_home(motor: EpicsMotor) -> None:
    """Move to 0 fast, unless already there.

    A move to where the motor is completes at once here, and the simulator then toggles
    DMOV on its next tick: a move started right after could take that toggle for its own.
    """
    if abs(motor.position) > 1e-3:
        motor.velocity.put(10.0)
        motor.move(0.0, timeout=5)


@pytest.fixture
def mtr1(motor_record_ioc):
    """``CMR:mtr1`` at 0 with velocity 4 and units ``mm``; its VELO is restored after."""
    egu = EpicsSignal(MOTOR + ".EGU", name="egu")
    connect_all([egu], timeout=5)
    egu.put("mm")
    motor = EpicsMotor(MOTOR, name="mtr1")
    connect_all([motor], timeout=5)
    wait_for(lambda: motor.motor_done_move.get() == 1)
    go_home(motor)
    motor.velocity.put(4.0)
    yield motor
    if not wait_for(lambda: motor.motor_done_move.get() == 1):
        motor.stop()
    motor.limits = (0.0, 10.0)
    go_home(motor)


def test_loads_from_a_profile_with_the_default_separator(motor_record_ioc, tmp_path):
    profile = tmp_path / "motor_record.toml"
    profile.write_text(
        f'[devices.mr]\ntype = "epics.motor"\nprefix = "{MOTOR}"\n'
        '\n[devices.mr_det]\ntype = "epics.signal"\n'
        f'pv = "{MOTOR}.RBV"\nread_only = true\n'
    )
    env = load_profile(profile)
    motor = env.devices["mr"]
    assert isinstance(motor, EpicsMotor)
    assert motor.user_readback.pvname == "CMR:mtr1.RBV"
    assert motor.user_setpoint.pvname == "CMR:mtr1.VAL"
    assert motor.motor_done_move.pvname == "CMR:mtr1.DMOV"
    connect_all([motor], timeout=5)  # every field the device uses exists on the record
    assert motor.read()["mr"]["value"] == pytest.approx(motor.position)
    assert motor.describe()["mr"]["source"] == "ca://CMR:mtr1.RBV"
    # the readback itself: caproto's fake record leaves DRBV behind after a stopped move
    assert env.devices["mr_det"].get() == pytest.approx(motor.position)


def test_connects_directly_and_describes_the_record(mtr1):
    keys = mtr1.describe()
    readback = keys["mtr1"]
    assert readback["source"] == "ca://CMR:mtr1.RBV"
    assert readback["dtype"] == "number"
    assert readback["units"] == "mm"  # the record's EGU field
    assert readback["precision"] == 3  # the record's PREC
    assert readback["limits"]["control"] == {"low": 0.0, "high": 10.0}  # LLM..HLM
    assert keys["mtr1_user_setpoint"]["units"] == "mm"
    assert keys["mtr1_user_setpoint"]["source"] == "ca://CMR:mtr1.VAL"
    assert mtr1.egu == "mm" and mtr1.precision == 3
    assert mtr1.limits == (0.0, 10.0)
    config = mtr1.read_configuration()
    assert config["mtr1_motor_egu"]["value"] == "mm"
    assert config["mtr1_velocity"]["value"] == pytest.approx(4.0)
    assert config["mtr1_high_limit"]["value"] == 10.0
    assert config["mtr1_low_limit"]["value"] == 0.0
    assert set(mtr1.describe_configuration()) == set(config)
    assert mtr1.hints == {"fields": ["mtr1"]}


def test_not_done_while_dmov_is_zero_although_the_put_completed(mtr1, monkeypatch):
    """The record completes the put to VAL at once; the move must still wait for DMOV."""
    puts: list[Status] = []
    write = mtr1.user_setpoint.set

    def set_and_keep(value: Any, **kwargs: Any) -> Status:
        put = write(value, **kwargs)
        puts.append(put)
        return put

    monkeypatch.setattr(mtr1.user_setpoint, "set", set_and_keep)
    dmov = EpicsSignalRO(MOTOR + ".DMOV", string=False, name="dmov")
    connect_all([dmov], timeout=5)

    samples: list[tuple[bool, int, bool]] = []  # (put done, DMOV, move status done)
    started = time.monotonic()
    status = mtr1.set(2.0)  # 2 mm at 4 mm/s: ~0.5 s
    assert len(puts) == 1
    while time.monotonic() - started < 5:
        done = status.done  # the status first, then DMOV: done-then-DMOV-0 is a bug
        samples.append((puts[0].done, int(dmov.get()), done))
        if done:
            break
        time.sleep(0.005)
    status.wait(5)
    elapsed = time.monotonic() - started

    assert status.success
    moving = [s for s in samples if s[1] == 0]
    assert moving, "never saw DMOV at 0"
    assert any(put_done for put_done, _, _ in moving), "the put did not complete mid-move"
    assert not any(done for _, _, done in moving), "done while DMOV read 0"
    assert dmov.get() == 1
    assert mtr1.position == pytest.approx(2.0, abs=1e-3)
    assert mtr1.read()["mtr1"]["value"] == pytest.approx(2.0, abs=1e-3)
    assert elapsed > 0.3  # it waited for the motion, not for the put


def test_refuses_targets_outside_hlm_llm_before_moving(mtr1):
    before = mtr1.position
    with pytest.raises(LimitError) as info:
        mtr1.set(12.5)
    message = str(info.value)
    assert "mtr1" in message and "12.5" in message
    assert "[0, 10]" in message and "mm" in message and "CMR:mtr1" in message
    with pytest.raises(LimitError, match=r"-1\.0 .*\[0, 10\]"):
        mtr1.set(-1.0)
    time.sleep(0.25)  # two of the simulator's ticks: a move would have begun
    assert mtr1.user_setpoint.get() == pytest.approx(before)
    assert mtr1.motor_done_move.get() == 1 and mtr1.position == before
    mtr1.limits = (0.0, 1.0)  # writes HLM/LLM on the IOC
    assert EpicsSignalRO(MOTOR + ".HLM", name="hlm").get() == 1.0
    with pytest.raises(LimitError, match=r"\[0, 1\]"):
        mtr1.set(1.5)


def test_stops_mid_move(mtr1):
    status = mtr1.set(8.0)  # 2 s at 4 mm/s
    assert wait_for(lambda: mtr1.motor_done_move.get() == 0, 1.0)
    time.sleep(0.3)
    assert not status.done and mtr1.moving
    mtr1.stop()
    with pytest.raises(StoppedError, match="mtr1 was stopped"):
        status.wait(2)
    assert wait_for(lambda: mtr1.motor_done_move.get() == 1, 2.0)
    stopped_at = mtr1.position
    assert 0.3 < stopped_at < 6.0
    time.sleep(0.3)
    assert mtr1.position == stopped_at  # it really stopped
    assert mtr1.user_setpoint.get() == pytest.approx(stopped_at)  # the record reset VAL
    mtr1.move(1.0, timeout=5)  # and moves again
    assert mtr1.position == pytest.approx(1.0, abs=1e-3)


def test_scan_on_the_run_engine(mtr1, ioc, validate):
    mtr1.velocity.put(10.0)
    det = EpicsSignalRO("CIELO:det", name="det")  # a detector PV on the demo IOC
    dial = EpicsSignalRO(MOTOR + ".DRBV", name="dial")  # the record's dial readback
    connect_all([det, dial], timeout=5)
    docs: list[tuple[str, dict]] = []

    def keep(name: str, doc: dict) -> None:
        validate(name, doc)
        docs.append((name, doc))

    with RunEngine(scan_id_file=None) as RE:
        RE.subscribe(keep)
        RE(scan([det, dial], mtr1, 1.0, 5.0, num=5))
        RE.flush(5)
    names = [n for n, _ in docs]
    assert names[0] == "start" and names[-1] == "stop" and names.count("event") == 5
    descriptor = next(d for n, d in docs if n == "descriptor")
    key = descriptor["data_keys"]["mtr1"]
    assert key["source"] == "ca://CMR:mtr1.RBV" and key["units"] == "mm"
    assert key["precision"] == 3
    assert descriptor["configuration"]["mtr1"]["data"]["mtr1_motor_egu"] == "mm"
    events = [d for n, d in docs if n == "event"]
    positions = [e["data"]["mtr1"] for e in events]
    assert positions == pytest.approx([1.0, 2.0, 3.0, 4.0, 5.0], abs=1e-3)
    # read after DMOV went back to 1: the dial readback had arrived too
    assert [e["data"]["dial"] for e in events] == pytest.approx(positions, abs=1e-3)
    assert all(e["data"]["det"] >= 0 for e in events)
    stop = docs[-1][1]
    assert stop["exit_status"] == "success" and stop["num_events"] == {"primary": 5}


def test_progress_reports_the_record_units(mtr1):
    mtr1.velocity.put(10.0)
    updates: list[dict] = []
    status = mtr1.set(3.0)  # 0.3 s: three of the simulator's ticks
    status.watch(lambda **kw: updates.append(kw))
    status.wait(5)
    assert len(updates) >= 2
    assert {u["unit"] for u in updates} == {"mm"} and updates[-1]["precision"] == 3
    assert updates[-1]["target"] == 3.0 and updates[-1]["name"] == "mtr1"
    fractions = [u["fraction"] for u in updates]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
