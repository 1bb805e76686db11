"""Reading many PVs in one batch of Channel Access gets."""

from __future__ import annotations

import numpy as np
import pytest

from cielo.devices import SoftSignal, connect_all
from cielo.plugins.epics import EpicsSignal, EpicsSignalRO, read_many

pytestmark = pytest.mark.epics


def test_read_many_matches_single_reads(ioc):
    signals = [EpicsSignalRO(f"CIELO:pv:{i}", name=f"pv{i}") for i in range(100)]
    switch = EpicsSignal("CIELO:bo", name="switch")
    wave = EpicsSignal("CIELO:wf", name="wave")  # an array: got apart from the scalars
    soft = SoftSignal(7, name="soft")
    connect_all([*signals, switch, wave], timeout=5)
    switch.put("On")
    wave.put(np.arange(32.0))
    batch = read_many([*signals, switch, wave, soft])
    assert list(batch) == [f"pv{i}" for i in range(100)] + ["switch", "wave", "soft"]
    np.testing.assert_array_equal(batch["wave"]["value"], np.arange(32.0))
    assert batch["wave"]["timestamp"] == wave.read()["wave"]["timestamp"]
    for i, sig in enumerate(signals):
        assert batch[sig.name]["value"] == float(i)
        single = sig.read()[sig.name]
        assert batch[sig.name]["timestamp"] == single["timestamp"]
        assert batch[sig.name]["alarm_severity"] == single["alarm_severity"] == 0
    assert batch["switch"]["value"] == "On" == switch.get()
    assert batch["soft"]["value"] == 7
    switch.put("Off")
    wave.put(np.zeros(32))


def test_read_many_names_a_missing_pv(ioc, monkeypatch):
    monkeypatch.setattr("cielo.plugins.epics._backend.AUTO_CONNECT_TIMEOUT", 0.5)
    with pytest.raises(Exception, match="NOPE:x is not connected"):
        read_many([EpicsSignalRO("CIELO:ai", name="ok"), EpicsSignalRO("NOPE:x", name="x")])


def test_read_many_from_a_fresh_thread_reads_fresh_values(ioc):
    """A fresh thread (the RunEngine's, a plan's) has no Channel Access context attached.
    A batch sent from it must still read the IOC: not return the value an earlier batch
    of another thread left in pyepics' cache, nor make pyepics warn 'get_complete
    without initial get() call' on the user's terminal."""
    import threading
    import warnings

    first = EpicsSignalRO("CIELO:calc", name="first")
    ao = EpicsSignal("CIELO:ao", name="ao")
    connect_all([first, ao], timeout=5)
    ao.put(1.5)
    assert read_many([first, ao])["ao"]["value"] == 1.5
    ao.put(2.5)
    result: dict = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        thread = threading.Thread(target=lambda: result.update(read_many([first, ao])))
        thread.start()
        thread.join(10)
    ao.put(0.0)
    assert result["ao"]["value"] == 2.5  # not the 1.5 of the earlier batch
    assert [str(w.message) for w in caught] == []
