"""``EpicsScaler`` against the demo IOC's scaler."""

from __future__ import annotations

import time

import pytest

from cielo.core.protocols import Readable, Triggerable
from cielo.devices import connect_all
from cielo.plugins.epics import EpicsMotor, EpicsScaler

pytestmark = pytest.mark.epics


@pytest.fixture
def scaler(ioc):
    sc = EpicsScaler(
        "CIELO:scaler1",
        separator=":",
        channels={"det": 2, "clock": 1},
        preset_time=0.2,
        name="sc",
    )
    connect_all([sc], timeout=5)
    sc.stage()
    yield sc
    sc.unstage()


def test_trigger_counts_for_the_preset_time(scaler):
    assert isinstance(scaler, Triggerable) and isinstance(scaler, Readable)
    t0 = time.monotonic()
    status = scaler.trigger()
    assert not status.done
    status.wait(5)
    elapsed = time.monotonic() - t0
    assert 0.18 <= elapsed < 1.5
    reading = scaler.read()
    assert reading["sc_elapsed"]["value"] == pytest.approx(0.2)
    assert reading["sc_clock"]["value"] == 2_000_000  # 10 MHz for 0.2 s
    assert reading["sc_det"]["value"] > 0
    assert scaler.count.get() == 0
    assert scaler.hints == {"fields": ["sc_det"]}
    assert scaler.read_configuration()["sc_preset_time"]["value"] == pytest.approx(0.2)
    assert scaler.describe()["sc_det"]["dtype"] == "integer"
    assert set(scaler.channels) == {"det", "clock"}


def test_counts_follow_the_motor_peak(scaler):
    motor = EpicsMotor("CIELO:m1", separator=":", name="m1")
    connect_all([motor], timeout=5)
    counts = {}
    for position in (0.5, 4.0):
        motor.move(position, timeout=5)
        scaler.trigger().wait(5)
        counts[position] = scaler.read()["sc_det"]["value"]
    motor.move(0.0, timeout=5)
    assert counts[0.5] > 5 * counts[4.0]  # the peak is at 0.5


def test_bad_channel_names_are_refused():
    with pytest.raises(ValueError, match="'1st' must be a Python identifier"):
        EpicsScaler("X:sc", channels={"1st": 1})
    with pytest.raises(ValueError, match="channel 'a': 0 is not a channel number"):
        EpicsScaler("X:sc", channels={"a": 0})
