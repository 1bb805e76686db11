"""The simulated shutter."""

from __future__ import annotations

import time

import pytest

from cielo.core import protocols as P
from cielo.devices.sim import SimShutter


def test_open_close_with_delay():
    shutter = SimShutter(name="shutter", delay=0.05)
    assert shutter.read()["shutter"]["value"] == "closed"
    t0 = time.monotonic()
    status = shutter.set("open")
    assert not status.done and not shutter.is_open
    status.wait(1)
    assert time.monotonic() - t0 >= 0.045
    assert shutter.is_open and shutter.locate() == {"setpoint": "open", "readback": "open"}
    shutter.close().wait(1)
    assert shutter.read()["shutter"]["value"] == "closed"
    shutter.set(1).wait(1)
    assert shutter.is_open


def test_describe_and_protocols():
    shutter = SimShutter(name="sh", delay=0)
    key = shutter.describe()["sh"]
    assert key["dtype"] == "string" and key["choices"] == ["open", "closed"]
    assert shutter.read().keys() == shutter.describe().keys()
    for proto in (P.Readable, P.Movable, P.Locatable, P.HasHints):
        assert isinstance(shutter, proto)


def test_bad_value_named():
    shutter = SimShutter(name="sh", delay=0)
    with pytest.raises(ValueError, match="'ajar'.*'open' or 'closed'"):
        shutter.set("ajar")
