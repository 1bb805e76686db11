"""The simulated temperature controller."""

from __future__ import annotations

import math
import time

import pytest

from cielo.core import LimitError
from cielo.core import protocols as P
from cielo.devices import StoppedError
from cielo.devices.sim import SimTemperature


def test_instant_by_default():
    t = SimTemperature(name="temp")
    t.set(300.0).wait(1)
    assert t.position == 300.0 and t.read()["temp"]["value"] == 300.0
    assert t.describe()["temp"]["units"] == "K"
    for proto in (P.Readable, P.Movable, P.Locatable, P.Stoppable, P.Configurable):
        assert isinstance(t, proto)


def test_settles_exponentially_within_tolerance():
    t = SimTemperature(name="temp", initial=300.0, tau=0.05, tolerance=0.5, update_period=0.005)
    t0 = time.monotonic()
    status = t.set(310.0)
    status.wait(2)
    elapsed = time.monotonic() - t0
    expected = 0.05 * math.log(10.0 / 0.5)  # ~0.15 s
    assert expected * 0.9 <= elapsed < expected + 0.3
    assert abs(t.position - 310.0) <= 0.5 and t.position < 310.0


def test_limits_and_stop():
    t = SimTemperature(name="temp", tau=1.0, limits=(250, 350))
    with pytest.raises(LimitError, match="temp"):
        t.set(400.0)
    status = t.set(340.0)
    time.sleep(0.05)
    t.stop()
    with pytest.raises(StoppedError):
        status.wait(1)
    assert 295.0 < t.position < 340.0
