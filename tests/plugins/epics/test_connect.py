"""Connection failures listed as one tree; a disconnected IOC named in every error."""

from __future__ import annotations

import time

import pytest

from cielo.core import DeviceError
from cielo.devices import NotConnectedError, connect_all
from cielo.plugins.epics import (
    DisconnectedError,
    EpicsDevice,
    EpicsMotor,
    EpicsSignal,
    EpicsSignalRO,
)

from .conftest import PREFIX

pytestmark = pytest.mark.epics


def test_connect_all_lists_every_missing_pv_as_a_tree(ioc):
    good = EpicsMotor("CIELO:m1", separator=":", name="good")
    ghost = EpicsMotor("NOPE:m9", separator=":", name="ghost")
    half = EpicsDevice("CIELO:", {"ok": "ai", "lost": "no_such_record"}, name="half")
    lone = EpicsSignalRO("NOPE:lone", name="lone")
    t0 = time.monotonic()
    with pytest.raises(NotConnectedError) as info:
        connect_all([good, ghost, half, lone], timeout=1.0)
    assert time.monotonic() - t0 < 3.0  # concurrently, not one timeout after another
    message = str(info.value)
    fields = ("RBV", "VAL", "DMOV", "MOVN", "STOP", "HLM", "LLM", "VELO", "EGU")
    for field in fields:
        assert f"ca://NOPE:m9:{field}" in message
    assert "ca://CIELO:no_such_record" in message and "ca://NOPE:lone" in message
    assert "CIELO:m1" not in message and "CIELO:ai" not in message
    assert message.startswith(f"{len(fields) + 2} of ")
    failures = info.value.failures
    assert set(failures) == {"ghost", "half", "lone"}
    assert set(failures["ghost"]) == {
        "user_readback",
        "user_setpoint",
        "motor_done_move",
        "motor_is_moving",
        "motor_stop",
        "high_limit",
        "low_limit",
        "velocity",
        "motor_egu",
    }
    assert list(failures["half"]) == ["lost"]
    lines = message.splitlines()
    assert lines[1] == "  ghost" and lines[2].startswith("    user_readback  ca://NOPE:m9:RBV")
    assert good.connected and not ghost.connected


def test_killed_ioc_fails_reads_and_moves_naming_the_pv(victim_ioc):
    p = victim_ioc.prefix
    ai = EpicsSignalRO(p + "ai", name="ai")
    ao = EpicsSignal(p + "ao", name="ao")
    motor = EpicsMotor(p + "m1", separator=":", name="vm")
    connect_all([ai, ao, motor], timeout=5)
    assert ai.read()["ai"]["value"] == 0.0
    motor.velocity.put(1.0)
    move = motor.set(5.0)  # 5 s: still moving when the IOC dies
    time.sleep(0.1)
    victim_ioc.kill()
    with pytest.raises(DisconnectedError, match=f"{p}m1:"):
        move.wait(5)
    deadline = time.monotonic() + 5
    while ai.connected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not ai.connected and not motor.connected
    with pytest.raises(DisconnectedError, match=rf"{p}ai is disconnected \(did the IOC stop\?\)"):
        ai.read()
    with pytest.raises(DeviceError, match=f"{p}ao"):
        ao.set(1.0)


def test_signals_reconnect_when_the_ioc_comes_back(victim_ioc, epics_iocs):
    from .conftest import start_ioc

    p = victim_ioc.prefix
    ai = EpicsSignalRO(p + "ai", name="ai")
    connect_all([ai], timeout=5)
    victim_ioc.kill()
    deadline = time.monotonic() + 5
    while ai.connected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not ai.connected
    again = start_ioc(p, victim_ioc.port, epics_iocs.logdir, epics_iocs.env)
    try:
        again.wait_ready()
        deadline = time.monotonic() + 15
        while not ai.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ai.connected, "the signal did not reconnect to the restarted IOC"
        assert ai.read()["ai"]["value"] == 0.0
    finally:
        again.stop()


def test_clearing_pyepics_cache_then_collecting_signals_does_not_crash(epics_iocs, tmp_path):
    # pyepics says PVs not made by get_pv must be disconnected before ca.clear_cache(),
    # or libca may crash when they are garbage-collected later. A fresh process does
    # exactly that (as a test session's end does) and must exit cleanly.
    import subprocess
    import sys
    import textwrap

    script = tmp_path / "clear_then_collect.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import gc
            from cielo.devices import connect_all
            from cielo.plugins.epics import EpicsSignal
            import epics

            signals = [EpicsSignal("{PREFIX}ao", name=f"s{{i}}") for i in range(3)]
            connect_all(signals, timeout=10)
            signals[0].read()
            epics.ca.clear_cache()
            del signals
            gc.collect()
            print("clean")
            """
        )
    )
    proc = subprocess.run(
        [sys.executable, str(script)],
        env=epics_iocs.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith("clean")
