"""EPICS signals against a real IOC: get, put with completion, alarms, describe, monitors."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from cielo.core import DeviceError
from cielo.core.protocols import Movable, Readable, Subscribable
from cielo.plugins.epics import CaBackend, EpicsSignal, EpicsSignalRO

pytestmark = pytest.mark.epics
P = "CIELO:"


def connected(*signals):
    for sig in signals:
        sig.wait_for_connection(5)
    return signals if len(signals) > 1 else signals[0]


def test_get_put_roundtrip_and_readback_pair(ioc):
    ao = connected(EpicsSignal(P + "ao", name="ao"))
    ao.put(1.25)
    assert ao.get() == 1.25
    pair = connected(EpicsSignal(P + "ai", P + "ao", name="volts"))
    status = pair.set(-2.5)
    status.wait(5)
    assert status.success
    assert pair.locate() == {"setpoint": -2.5, "readback": -2.5}
    assert pair.source == f"ca://{P}ai (write {P}ao)"


def test_put_completion_waits_for_the_ioc(ioc):
    """A put to the motor's VAL completes only when the IOC's move has ended."""
    rbv = connected(EpicsSignalRO(P + "m1:RBV", name="rbv"))
    val = connected(EpicsSignal(P + "m1:VAL", name="val"))
    connected(EpicsSignal(P + "m1:VELO", name="velo")).put(10.0)
    val.put(0.0)
    start = rbv.get()
    t0 = time.monotonic()
    status = val.set(start + 1.5)  # 1.5 mm at 10 mm/s: ~0.15 s
    assert not status.done
    status.wait(5)
    elapsed = time.monotonic() - t0
    assert elapsed >= 0.12, f"put completed after {elapsed:.3f} s, before the move could end"
    assert rbv.get() == pytest.approx(start + 1.5)
    val.put(0.0)


def test_reading_has_timestamp_and_alarm_severity(ioc):
    ao, ai = connected(EpicsSignal(P + "ao", name="ao"), EpicsSignalRO(P + "ai", name="ai"))
    severities = {}
    for value in (0.0, 8.5, 9.5, -9.5):
        ao.put(value)
        deadline = time.monotonic() + 2
        while ai.get() != value and time.monotonic() < deadline:
            time.sleep(0.01)
        reading = ai.read()["ai"]
        assert reading["value"] == value
        assert abs(reading["timestamp"] - time.time()) < 5
        severities[value] = reading["alarm_severity"]
    assert severities == {0.0: 0, 8.5: 1, 9.5: 2, -9.5: 2}  # NO_ALARM, MINOR, MAJOR
    ao.put(0.0)


def test_describe_from_control_info(ioc):
    ai, bo, wf, text, calc = connected(
        EpicsSignalRO(P + "ai", name="ai"),
        EpicsSignal(P + "bo", name="bo"),
        EpicsSignal(P + "wf", name="wf"),
        EpicsSignal(P + "str", name="text"),
        EpicsSignalRO(P + "calc", name="calc"),
    )
    key = ai.describe()["ai"]
    assert key["source"] == f"ca://{P}ai"
    assert (key["dtype"], key["shape"], key["units"], key["precision"]) == ("number", [], "V", 2)
    assert key["limits"]["control"] == {"low": -10.0, "high": 10.0}
    assert key["limits"]["warning"] == {"low": -8.0, "high": 8.0}
    assert key["limits"]["alarm"] == {"low": -9.0, "high": 9.0}
    enum = bo.describe()["bo"]
    assert (enum["dtype"], enum["choices"]) == ("string", ["Off", "On"])
    array = wf.describe()["wf"]
    assert (array["dtype"], array["shape"], array["dtype_numpy"]) == ("array", [32], "<f8")
    assert text.describe()["text"]["dtype"] == "string"
    assert calc.describe()["calc"]["units"] == "counts"


def test_enum_array_and_string_values(ioc):
    bo, bi, wf, text = connected(
        EpicsSignal(P + "bo", name="bo"),
        EpicsSignalRO(P + "bi", name="bi"),
        EpicsSignal(P + "wf", name="wf"),
        EpicsSignal(P + "str", name="text"),
    )
    bo.put("On")
    time.sleep(0.05)
    assert bo.get() == "On" and bi.get() == "On"
    raw = connected(EpicsSignalRO(P + "bi", string=False, name="raw"))
    assert raw.get() == 1
    bo.put("Off")
    new = np.linspace(0.0, 1.0, 32)
    wf.put(new)
    np.testing.assert_allclose(wf.get(), new)
    text.put("cielo")
    assert text.get() == "cielo"


def test_calc_record_scans_periodically(ioc):
    calc = connected(EpicsSignalRO(P + "calc", name="calc"))
    first = calc.get()
    time.sleep(0.35)
    assert calc.get() >= first + 2  # scanned every 0.1 s


def test_monitor_subscribe_and_clear_sub(ioc):
    ao, ai = connected(EpicsSignal(P + "ao", name="ao"), EpicsSignalRO(P + "ai", name="ai"))
    ao.put(0.0)
    seen: list[tuple[float, int | None]] = []
    arrived = threading.Condition()

    def callback(value, old_value, timestamp, obj, **kw):
        with arrived:
            seen.append((value, kw.get("alarm_severity")))
            arrived.notify_all()

    ai.subscribe(callback)  # called at once with the current value
    for value in (1.0, 2.0, 3.0):
        ao.put(value)
        with arrived:  # CA may merge monitors that queue up: wait for each
            assert arrived.wait_for(lambda v=value: seen[-1][0] == v, timeout=2)
    assert [v for v, _ in seen] == [0.0, 1.0, 2.0, 3.0]
    assert all(sev == 0 for _, sev in seen)
    ai.clear_sub(callback)
    ao.put(4.0)
    time.sleep(0.2)
    assert [v for v, _ in seen][-1] == 3.0
    ao.put(0.0)


def test_connection_state_and_protocols(ioc):
    sig = EpicsSignal(P + "ao", name="ao")
    assert not sig.connected
    sig.wait_for_connection(5)
    assert sig.connected
    assert isinstance(sig, Readable) and isinstance(sig, Movable)
    assert isinstance(sig, Subscribable)
    assert isinstance(sig.backend, CaBackend)
    assert isinstance(EpicsSignalRO(P + "ai", name="ai"), Readable)


def test_read_only_signal_refuses_writes(ioc):
    ro = connected(EpicsSignalRO(P + "ai", name="ai"))
    with pytest.raises(DeviceError, match=f"{P}ai is read-only"):
        ro.backend.put(1.0)


def test_unconnected_pv_read_names_the_pv(epics_iocs, monkeypatch):
    monkeypatch.setattr("cielo.plugins.epics._backend.AUTO_CONNECT_TIMEOUT", 0.5)
    sig = EpicsSignalRO("NOSUCH:pv", name="ghost")
    with pytest.raises(DeviceError, match="NOSUCH:pv is not connected"):
        sig.read()


def test_two_iocs_are_isolated_and_both_reachable(epics_iocs):
    one = connected(EpicsSignal("CIELO:str", name="one"))
    two = connected(EpicsSignal("CIELO2:str", name="two"))
    one.put("first")
    two.put("second")
    assert (one.get(), two.get()) == ("first", "second")
    one.put("hello")
    two.put("hello")


def test_fast_record_delivers_many_monitor_updates(ioc):
    fast = connected(EpicsSignalRO(P + "fast", name="fast"))
    period = connected(EpicsSignal(P + "fast:PERIOD", name="period"))
    values: list[float] = []

    def on_value(value, **kw):
        values.append(value)

    fast.subscribe(on_value, run=False)
    try:
        period.put(0.001)
        time.sleep(0.5)
    finally:
        period.put(0.0)
        fast.clear_sub(on_value)
    time.sleep(0.05)
    assert len(values) > 100  # ~1 kHz for 0.5 s, on a loaded machine
    assert values == sorted(values)  # in order
