"""Reading many PVs in one batch of Channel Access gets."""

from __future__ import annotations

import pytest

from cielo.devices import SoftSignal, connect_all
from cielo.plugins.epics import EpicsSignal, EpicsSignalRO, read_many

pytestmark = pytest.mark.epics


def test_read_many_matches_single_reads(ioc):
    signals = [EpicsSignalRO(f"CIELO:pv:{i}", name=f"pv{i}") for i in range(100)]
    switch = EpicsSignal("CIELO:bo", name="switch")
    soft = SoftSignal(7, name="soft")
    connect_all([*signals, switch], timeout=5)
    switch.put("On")
    batch = read_many([*signals, switch, soft])
    assert list(batch) == [f"pv{i}" for i in range(100)] + ["switch", "soft"]
    for i, sig in enumerate(signals):
        assert batch[sig.name]["value"] == float(i)
        single = sig.read()[sig.name]
        assert batch[sig.name]["timestamp"] == single["timestamp"]
        assert batch[sig.name]["alarm_severity"] == single["alarm_severity"] == 0
    assert batch["switch"]["value"] == "On" == switch.get()
    assert batch["soft"]["value"] == 7
    switch.put("Off")


def test_read_many_names_a_missing_pv(ioc, monkeypatch):
    monkeypatch.setattr("cielo.plugins.epics._backend.AUTO_CONNECT_TIMEOUT", 0.5)
    with pytest.raises(Exception, match="NOPE:x is not connected"):
        read_many([EpicsSignalRO("CIELO:ai", name="ok"), EpicsSignalRO("NOPE:x", name="x")])
