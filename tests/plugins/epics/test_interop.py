"""cielo's EPICS devices under Bluesky's RunEngine and plans (bluesky as the oracle)."""

from __future__ import annotations

import time

import pytest

from cielo.devices import connect_all
from cielo.plugins.epics import EpicsMotor, EpicsScaler, EpicsSignalRO

pytestmark = [
    pytest.mark.epics,
    pytest.mark.interop,
    # ophyd, imported by bluesky, would point pyepics at epicscorelibs' libca; too late here
    pytest.mark.filterwarnings("ignore:epicscorelibs.path.pyepics must be imported"),
]
bluesky = pytest.importorskip("bluesky")


def test_bluesky_scan_of_cielo_epics_devices(ioc, validate):
    import bluesky.plans as bp
    from bluesky import RunEngine

    motor = EpicsMotor("CIELO:m1", separator=":", name="motor")
    det = EpicsSignalRO("CIELO:det", name="det")
    scaler = EpicsScaler(
        "CIELO:scaler1", separator=":", channels={"det": 2}, preset_time=0.02, name="sc"
    )
    connect_all([motor, det, scaler], timeout=5)
    motor.velocity.put(20.0)
    docs: list[tuple[str, dict]] = []

    def keep(name, doc):
        validate(name, doc)
        docs.append((name, doc))

    RE = RunEngine({})
    RE(bp.scan([det, scaler], motor, -0.5, 0.5, 6), keep)
    events = [d for n, d in docs if n == "event"]
    assert len(events) == 6
    assert [round(e["data"]["motor"], 3) for e in events] == [-0.5, -0.3, -0.1, 0.1, 0.3, 0.5]
    assert all(e["data"]["sc_det"] > 0 for e in events)
    descriptor = next(d for n, d in docs if n == "descriptor")
    assert descriptor["data_keys"]["motor"]["source"] == "ca://CIELO:m1:RBV"
    assert docs[-1][1]["exit_status"] == "success"
    motor.move(0.0, timeout=5)
    motor.velocity.put(10.0)


def test_millisecond_moves_never_wait_for_the_grace_period(ioc):
    """DMOV 0 of a 1 ms move may be merged away by Channel Access; no move may hang on it."""
    motor = EpicsMotor("CIELO:m1", separator=":", name="motor")
    connect_all([motor], timeout=5)
    motor.velocity.put(10.0)
    motor.move(0.0, timeout=5)
    slowest = 0.0
    for i in range(1, 31):
        t0 = time.monotonic()
        motor.move(0.01 * i, timeout=5)
        slowest = max(slowest, time.monotonic() - t0)
    assert motor.position == pytest.approx(0.30, abs=1e-3)
    assert slowest < 0.4, f"a 1 ms move took {slowest:.3f} s"
    motor.move(0.0, timeout=5)
