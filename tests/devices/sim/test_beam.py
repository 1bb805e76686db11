"""The simulated beam current, changed from outside."""

from __future__ import annotations

import time

from cielo.core import protocols as P
from cielo.devices.sim import SimBeamCurrent


def test_drop_restore_notify_subscribers():
    beam = SimBeamCurrent(name="beam_current", nominal=400.0)
    seen = []
    beam.subscribe(lambda *, value, old_value, **kw: seen.append((value, old_value)))
    beam.drop()
    beam.restore()
    assert seen == [(400.0, None), (0.0, 400.0), (400.0, 0.0)]
    assert beam.describe()["beam_current"]["units"] == "mA"
    assert isinstance(beam, P.Subscribable) and isinstance(beam, P.Readable)
    assert not isinstance(beam, P.Movable)


def _becomes(beam: SimBeamCurrent, value: float, within: float = 10.0) -> float:
    """Seconds until ``beam`` reads ``value`` (polled: a loaded machine runs timers late)."""
    start = time.monotonic()
    while beam.get() != value:
        assert time.monotonic() - start < within, f"beam never read {value}: {beam.get()}"
        time.sleep(0.005)
    return time.monotonic() - start


def test_timed_drop_and_program():
    beam = SimBeamCurrent(name="beam", nominal=500.0)
    start = time.monotonic()
    beam.drop(10.0, duration=0.05)
    assert beam.get() == 10.0
    _becomes(beam, 500.0)
    assert time.monotonic() - start >= 0.05  # not back before the drop's end
    start = time.monotonic()
    beam.program([(0.02, 100.0), (1.0, 500.0)])
    _becomes(beam, 100.0)
    assert time.monotonic() - start >= 0.02
    _becomes(beam, 500.0)
    assert time.monotonic() - start >= 1.0  # each step at its time, never early


def test_restore_cancels_program():
    beam = SimBeamCurrent(name="beam")
    beam.program([(0.05, 1.0)])
    beam.restore()
    time.sleep(0.1)
    assert beam.get() == 500.0
