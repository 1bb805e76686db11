"""Devices: declaration, naming, kinds, read/describe/configuration/hints, staging."""

from __future__ import annotations

import pytest

from cielo.core import DeviceError
from cielo.core import protocols as P
from cielo.devices import Cpt, DerivedSignal, Device, Kind, SoftSignal, SoftSignalR


class Sensor(Device):
    value = Cpt(SoftSignalR, 1.0, kind=Kind.hinted, parent_name=True)
    raw = Cpt(SoftSignalR, 10, kind=Kind.normal)
    gain = Cpt(SoftSignal, 2.0, kind=Kind.config)
    debug = Cpt(SoftSignal, 0, kind=Kind.omitted)


class Stage(Device):
    x = Cpt(Sensor, kind=Kind.normal)
    y = Cpt(Sensor, kind=Kind.config)
    width = Cpt(DerivedSignal, lambda a, b: a - b, "x.value", "y.value", kind=Kind.hinted)


def test_names_propagate_and_parent_name():
    s = Sensor(name="s1")
    assert s.value.name == "s1"
    assert s.raw.name == "s1_raw"
    assert s.gain.dotted_name == "gain"
    st = Stage(name="st")
    assert st.x.value.name == "st_x"
    assert st.x.raw.name == "st_x_raw"
    assert st.x.value.dotted_name == "x.value"
    assert st.x.parent is st and st.x.value.root is st
    st.name = "renamed"
    assert st.x.raw.name == "renamed_x_raw"


def test_kinds_decide_read_and_configuration():
    s = Sensor(name="s")
    assert list(s.read()) == ["s", "s_raw"]
    assert list(s.read_configuration()) == ["s_gain"]
    assert s.hints == {"fields": ["s"]}
    assert s.read().keys() == s.describe().keys()
    assert s.read_configuration().keys() == s.describe_configuration().keys()


def test_nested_kinds():
    st = Stage(name="st")
    assert list(st.read()) == ["st_x", "st_x_raw", "st_width"]
    # every child device contributes configuration; a config-kind device adds its readings
    assert list(st.read_configuration()) == ["st_x_gain", "st_y_gain", "st_y", "st_y_raw"]
    assert st.hints == {"fields": ["st_x", "st_width"]}
    assert st.describe().keys() == st.read().keys()
    assert st.describe_configuration().keys() == st.read_configuration().keys()
    st.x.value.update(5.0)
    st.y.value.update(2.0)
    assert st.width.get() == 3.0


def test_init_style_children():
    class Pair(Device):
        def __init__(self, name: str = "") -> None:
            self.left = SoftSignal(0.0, kind=Kind.hinted)
            self.right = SoftSignal(1.0, kind=Kind.config)
            self._private = SoftSignal(9.0)
            super().__init__(name=name)

    pair = Pair(name="pair")
    assert list(pair.children) == ["left", "right"]
    assert pair.read() == {"pair_left": pair.left.read()["pair_left"]}
    assert list(pair.read_configuration()) == ["pair_right"]


def test_device_satisfies_protocols():
    s = Sensor(name="s")
    for proto in (P.Readable, P.Configurable, P.HasHints, P.Stageable, P.Triggerable, P.HasParent):
        assert isinstance(s, proto), proto
    assert s.trigger().success
    assert s.stage().success and s.unstage().success
    assert [sig.name for sig in s.walk_signals()] == ["s", "s_raw", "s_gain", "s_debug"]
    assert s.connected


def test_adopting_anothers_child_is_refused():
    s = Sensor(name="s")

    class Holder(Device):
        def __init__(self, other, name: str = "") -> None:
            super().__init__(name=name)
            self._gain = other.gain  # a reference: fine
            self.gain = other.gain  # a child: refused

    with pytest.raises(DeviceError, match="already belongs to 's'.*self._gain"):
        Holder(s, name="h")
    assert s.gain.name == "s_gain"


def test_stage_sigs_applied_and_restored():
    st = Stage(name="st")
    st.x.stage_sigs = {"gain": 5.0}
    st.stage_sigs = {"y.gain": 7.0, "st_x_debug": 1}
    assert st.stage().success
    assert (st.x.gain.get(), st.y.gain.get(), st.x.debug.get()) == (5.0, 7.0, 1)
    st.stage()  # again: the saved values stay the originals
    st.unstage()
    assert (st.x.gain.get(), st.y.gain.get(), st.x.debug.get()) == (2.0, 2.0, 0)
    st.stage_sigs = {"x.value": 1.0}  # read-only
    with pytest.raises(DeviceError, match="'x.value' is not a writable signal"):
        st.stage()


def test_a_stage_that_fails_part_way_leaves_what_it_wrote_for_unstage():
    st = Stage(name="st")
    st.stage_sigs = {"y.gain": 7.0, "x.value": 1.0}  # the second is read-only
    with pytest.raises(DeviceError, match="'x.value' is not a writable signal"):
        st.stage()
    assert st.y.gain.get() == 7.0
    st.unstage()
    assert st.y.gain.get() == 2.0
    assert not st.blocking_stage  # sim signals: the RunEngine stages it on its loop


def test_configure_returns_old_and_new():
    s = Sensor(name="s")
    old, new = s.configure({"gain": 11.0})
    assert old["s_gain"]["value"] == 2.0 and new["s_gain"]["value"] == 11.0
    s.configure({"s_gain": 12.0})  # the signal's full name works too
    assert s.gain.get() == 12.0
    with pytest.raises(DeviceError, match="'nope'.*writable: gain, debug"):
        s.configure({"nope": 1})
