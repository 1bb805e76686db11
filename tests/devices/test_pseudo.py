"""Pseudo positioners: a slit's gap and centre from two blades."""

from __future__ import annotations

import time

import pytest

from cielo.core import LimitError
from cielo.core import protocols as P
from cielo.devices import Cpt, Kind
from cielo.devices.sim import SimMotor, Slit


class BladeSlit(Slit):
    top = Cpt(SimMotor, limits=(-5, 5), kind=Kind.normal)
    bottom = Cpt(SimMotor, limits=(-5, 5), kind=Kind.normal)


def test_declared_reals_move_through_forward():
    slit = BladeSlit(name="slit")
    assert slit.position == (0.0, 0.0)
    slit.set((2.0, 1.0)).wait(1)
    assert slit.top.position == 2.0 and slit.bottom.position == 0.0
    assert slit.gap.position == pytest.approx(2.0)
    assert slit.center.position == pytest.approx(1.0)
    slit.gap.set(4.0).wait(1)  # centre stays
    assert (slit.top.position, slit.bottom.position) == (3.0, -1.0)
    assert slit.locate() == {"setpoint": (4.0, 1.0), "readback": (4.0, 1.0)}
    slit.set({"center": 0.0}).wait(1)
    assert slit.position == (4.0, 0.0)


def test_names_reads_and_hints():
    slit = BladeSlit(name="slit")
    assert slit.gap.name == "slit_gap" and slit.gap.user_readback.name == "slit_gap"
    reading = slit.read()
    assert {"slit_top", "slit_bottom", "slit_gap", "slit_center"} <= reading.keys()
    assert reading.keys() == slit.describe().keys()
    assert slit.hints["fields"] == ["slit_top", "slit_bottom", "slit_gap", "slit_center"]
    for proto in (P.Readable, P.Movable, P.Locatable, P.Stoppable):
        assert isinstance(slit, proto)
        assert isinstance(slit.gap, proto)


def test_pseudo_readback_follows_reals():
    slit = BladeSlit(name="slit")
    seen = []
    slit.gap.subscribe(lambda *, value, **kw: seen.append(value))
    slit.top.set(1.0).wait(1)
    slit.bottom.set(-1.0).wait(1)
    assert seen == [0.0, 1.0, 2.0]


def test_real_limits_refuse_before_moving():
    slit = BladeSlit(name="slit")
    with pytest.raises(LimitError) as info:
        slit.gap.set(12.0)  # top would go to 6 > 5
    assert "slit" in str(info.value) and "top=6.0" in str(info.value)
    assert slit.top.position == 0.0 and slit.bottom.position == 0.0
    assert not slit.gap.moving


def test_pseudo_limits_and_external_reals():
    m1, m2 = SimMotor(name="m1"), SimMotor(name="m2")
    slit = Slit(name="s", reals={"top": m1, "bottom": m2}, limits={"gap": (0.0, 3.0)})
    assert m1.name == "m1"  # existing devices are not renamed
    with pytest.raises(LimitError, match="s_gap"):
        slit.gap.set(5.0)
    slit.gap.set(2.0).wait(1)
    assert (m1.position, m2.position) == (1.0, -1.0)


def test_pseudo_move_takes_time_and_stops():
    m1, m2 = SimMotor(name="m1", velocity=5.0), SimMotor(name="m2", velocity=5.0)
    slit = Slit(name="s", reals={"top": m1, "bottom": m2})
    status = slit.gap.set(4.0)
    time.sleep(0.1)
    assert not status.done
    slit.gap.stop()
    with pytest.raises(Exception, match="stopped"):
        status.wait(1)
    assert 0 < slit.gap.position < 4.0
