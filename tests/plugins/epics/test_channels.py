"""The channel layer: shared channels, monitors by policy, fail-fast reads, write errors."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from cielo.core import DeviceError
from cielo.devices import NotConnectedError, connect_all
from cielo.plugins.epics import DisconnectedError, EpicsSignal, EpicsSignalRO

from .conftest import PREFIX as P

pytestmark = pytest.mark.epics


def _eventually(check, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_pv_whose_ioc_never_answered_fails_at_once(epics_iocs):
    """After a connection attempt timed out, reads fail naming the PV without waiting
    again (a dead IOC must not hold the RunEngine 5 s per read)."""
    ghost = EpicsSignalRO("NOPE:never", name="ghost")
    with pytest.raises(NotConnectedError):
        connect_all([ghost], timeout=0.5)
    for _ in range(3):
        t0 = time.monotonic()
        with pytest.raises(DisconnectedError, match="NOPE:never is not connected"):
            ghost.read()
        assert time.monotonic() - t0 < 0.5


def test_use_monitor_reads_a_fresh_monitor_and_large_arrays_are_got(ioc, monkeypatch):
    ao = EpicsSignal(P + "ao", name="ao")
    cached = EpicsSignalRO(P + "ao", name="cached", use_monitor=True)
    plain = EpicsSignalRO(P + "ao", name="plain")
    connect_all([ao, cached, plain], timeout=5)
    # the monitor of a use_monitor signal is made on connection; its value is used
    assert _eventually(lambda: cached.backend.cached_reading() is not None)
    assert plain.backend.cached_reading() is None  # a plain signal always gets
    ao.put(2.5)
    assert _eventually(lambda: cached.read()["cached"]["value"] == 2.5)
    assert cached.read()["cached"] == plain.read()["plain"]  # same update, same stamp
    ao.put(0.0)
    # arrays of AUTOMONITOR_MAXLENGTH elements or more are never streamed for it
    import epics

    monkeypatch.setattr(epics.ca, "AUTOMONITOR_MAXLENGTH", 16)
    wf = EpicsSignal(P + "wf", name="wf")
    big = EpicsSignalRO(P + "wf", name="big", use_monitor=True)
    connect_all([wf, big], timeout=5)
    time.sleep(0.3)
    assert big.backend.cached_reading() is None
    new = np.linspace(-1.0, 1.0, 32)
    wf.put(new)
    np.testing.assert_allclose(big.get(), new)  # a get, right after the put
    wf.put(np.zeros(32))


def test_signals_on_one_pv_share_a_channel_but_not_their_subscriptions(ioc):
    ao = EpicsSignal(P + "ao", name="ao")
    one = EpicsSignalRO(P + "ai", name="one")
    two = EpicsSignalRO(P + "ai", name="two")
    connect_all([ao, one, two], timeout=5)
    ao.put(0.0)
    seen: dict[str, list[float]] = {"one": [], "two": []}
    arrived = threading.Condition()

    def watcher(key: str):
        def callback(value, **_):
            with arrived:
                seen[key].append(value)
                arrived.notify_all()

        return callback

    one.subscribe(watcher("one"))
    two.subscribe(watcher("two"))
    ao.put(1.0)
    with arrived:
        assert arrived.wait_for(lambda: seen["one"][-1:] == seen["two"][-1:] == [1.0], 5)
    two.destroy()  # the other signal on the PV keeps its channel and its monitor
    ao.put(2.0)
    with arrived:
        assert arrived.wait_for(lambda: seen["one"][-1] == 2.0, 5)
    assert seen["two"][-1] == 1.0
    assert one.read()["one"]["value"] == 2.0
    assert seen["one"].count(0.0) == 1  # the subscription's first value, once
    ao.put(0.0)


def test_writes_that_do_not_fit_name_the_pv_and_the_value(ioc):
    switch = EpicsSignal(P + "bo", name="switch")
    text = EpicsSignal(P + "str", name="text")
    volts = EpicsSignal(P + "ao", name="volts")
    connect_all([switch, text, volts], timeout=5)
    with pytest.raises(
        DeviceError, match=r"CIELO:bo: cannot write 'Maybe': not one of its states \['Off', 'On'\]"
    ):
        switch.set("Maybe")
    with pytest.raises(DeviceError, match="CIELO:str: cannot write 'x{45}': 45 characters"):
        text.set("x" * 45)
    with pytest.raises(DeviceError, match="CIELO:ao: cannot write 'high'"):
        volts.set("high")
    assert switch.get() in ("Off", "On")
