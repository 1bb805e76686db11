"""``EpicsDevice``: a device declared from a prefix and a table of suffixes."""

from __future__ import annotations

import pytest

from cielo.devices import Kind, connect_all
from cielo.plugins.epics import EpicsDevice, EpicsSignal, EpicsSignalRO

pytestmark = pytest.mark.epics

SIGNALS = {
    "switch": {"suffix": "bi", "write_suffix": "bo", "kind": "hinted"},
    "label": {"suffix": "str", "writable": True, "kind": "config"},
    "volts": "ai",
    "other": {"pv": "CIELO2:ai", "kind": "omitted"},
}


def test_declared_from_a_table(epics_iocs):
    box = EpicsDevice("CIELO:", SIGNALS, name="box")
    connect_all([box], timeout=5)
    assert isinstance(box.switch, EpicsSignal) and isinstance(box.volts, EpicsSignalRO)
    assert box.switch.pvname == "CIELO:bi" and box.switch.setpoint_pvname == "CIELO:bo"
    assert box.other.pvname == "CIELO2:ai" and box.other.kind == Kind.omitted
    box.switch.set("On").wait(5)
    assert set(box.read()) == {"box_switch", "box_volts"}
    assert box.read()["box_switch"]["value"] == "On"
    assert set(box.read_configuration()) == {"box_label"}
    assert box.hints == {"fields": ["box_switch"]}
    assert box.describe()["box_volts"]["units"] == "V"
    box.switch.set("Off").wait(5)
    assert list(box.signals) == list(SIGNALS)


@pytest.mark.parametrize(
    ("signals", "message"),
    [
        ({}, "give at least one signal"),
        ({"x": {"suffix": "a", "pv": "B"}}, "exactly one of 'suffix' and 'pv'"),
        ({"x": {"suffx": "a"}}, r"unknown key\(s\) \['suffx'\]"),
        ({"read": "a"}, "not a Device attribute"),
        ({"x": {"suffix": "a", "kind": "loud"}}, "unknown kind 'loud'"),
        ({"x": 3}, "give a suffix string or a table, not 3"),
    ],
)
def test_bad_tables_are_refused_with_the_reason(signals, message):
    with pytest.raises(ValueError, match=message):
        EpicsDevice("P:", signals, name="bad")
