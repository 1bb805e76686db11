"""connect_all: concurrent connection, one error listing every failed signal as a tree."""

from __future__ import annotations

import threading
import time

import pytest

from cielo.core import ConnectionTimeoutError, Status
from cielo.devices import (
    Cpt,
    Device,
    Kind,
    NotConnectedError,
    Signal,
    SignalBackend,
    SoftSignal,
    connect_all,
    infer_datakey,
)


class DelayedBackend(SignalBackend[float]):
    """A transport that connects after ``delay`` seconds (never when ``delay`` is None)."""

    def __init__(self, address: str, delay: float | None) -> None:
        self.address = address
        self.delay = delay
        self._connected = False

    @property
    def source(self):
        return f"test://{self.address}"

    @property
    def connected(self):
        return self._connected

    def connect(self, timeout):
        status = Status(self, timeout=timeout)
        if self.delay is not None:

            def _up():
                self._connected = True
                status.set_finished()

            timer = threading.Timer(self.delay, _up)
            timer.daemon = True
            timer.start()
        return status

    def get_reading(self):
        return {"value": 1.0, "timestamp": time.time()}

    def get_datakey(self, source):
        return infer_datakey(1.0, source)

    def set_callback(self, callback):
        pass


class Remote(Signal[float]):
    def __init__(self, address: str, delay: float | None = 0.2, **kwargs) -> None:
        super().__init__(DelayedBackend(address, delay), **kwargs)


class Box(Device):
    fast = Cpt(Remote, suffix="FAST", delay=0.2, kind=Kind.hinted)
    dead = Cpt(Remote, suffix="DEAD", delay=None)
    local = Cpt(SoftSignal, 1.0)


class Rack(Device):
    box = Cpt(Box, suffix="B1:")
    other = Cpt(Remote, suffix="OTHER", delay=None)


def test_suffix_builds_source_from_prefix():
    rack = Rack("XF:", name="rack")
    assert rack.box.fast.source == "test://XF:B1:FAST"
    assert rack.other.source == "test://XF:OTHER"


def test_connect_all_is_concurrent():
    boxes = [Remote(f"PV{i}", delay=0.3, name=f"s{i}") for i in range(10)]
    t0 = time.monotonic()
    connect_all(boxes, timeout=2.0)
    elapsed = time.monotonic() - t0
    assert all(b.connected for b in boxes)
    assert elapsed < 1.0, elapsed  # ten 0.3 s connections in parallel, not 3 s


def test_connect_all_lists_every_failure_as_a_tree():
    rack = Rack("XF:", name="rack")
    lone = Remote("LONE", delay=None, name="lone")
    good = Remote("GOOD", delay=0.05, name="good")
    with pytest.raises(NotConnectedError) as info:
        connect_all([rack, lone, good], timeout=0.5)
    err = info.value
    assert isinstance(err, ConnectionTimeoutError)
    assert err.failures == {
        "rack": {
            "box.dead": "test://XF:B1:DEAD: timed out",
            "other": "test://XF:OTHER: timed out",
        },
        "lone": {"lone": "test://LONE: timed out"},
    }
    text = str(err)
    assert text.startswith("3 of 6 signals did not connect within 0.5 s:")
    for needle in ("  rack\n", "    box.dead  test://XF:B1:DEAD", "  lone\n"):
        assert needle in text
    assert good.connected


def test_device_wait_for_connection_raises_tree():
    box = Box("P:", name="box")
    with pytest.raises(NotConnectedError, match="box.dead|dead"):
        box.wait_for_connection(timeout=0.4)
    assert box.fast.connected and not box.dead.connected


def test_mock_connect_replaces_transport():
    rack = Rack("XF:", name="rack")
    seen = []
    rack.other.subscribe(lambda *, value, **kw: seen.append(value), run=False)
    connect_all([rack], timeout=0.1, mock=True)  # the dead PVs no longer matter
    assert rack.connected
    assert rack.box.dead.source == "mock+test://XF:B1:DEAD"
    assert rack.box.local.source == "mock+soft://rack_box_local"
    rack.other.backend.set_value(4.0)
    assert rack.other.get() == 4.0 and seen == [4.0]
    rack.box.local.put(3.0)
    assert rack.box.local.backend.puts == [3.0]
    assert rack.read()["rack_box_fast"]["value"] == 0.0
