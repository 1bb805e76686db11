"""Outside oracle: cielo's simulated devices run on Bluesky's own RunEngine and plans.

Bluesky's RunEngine speaks the same device protocols (status objects, read/describe,
stream assets), so if cielo's devices are right it runs them unchanged.
"""

from __future__ import annotations

import pytest

bluesky = pytest.importorskip("bluesky")

from bluesky import RunEngine  # noqa: E402
from bluesky import plan_stubs as bps  # noqa: E402
from bluesky import plans as bp  # noqa: E402

from cielo.devices.sim import (  # noqa: E402
    SimAreaDetector,
    SimFlyer,
    SimMotor,
    SimPeakDetector,
    SimShutter,
    Slit,
)
from cielo.testing import DocumentCollector  # noqa: E402

pytestmark = pytest.mark.interop


@pytest.fixture
def bRE():
    RE = RunEngine({}, call_returns_result=True)
    yield RE
    RE._loop.call_soon_threadsafe(RE._loop.stop)


@pytest.fixture
def docs(bRE):
    collector = DocumentCollector(validate=True)
    bRE.subscribe(collector)
    return collector


def names(docs, name):
    return [d for n, d in docs if n == name]


def test_bluesky_scan_of_cielo_motor_and_detector(bRE, docs):
    motor = SimMotor(name="motor", velocity=50.0)
    det = SimPeakDetector([motor], name="det", center=0.0, sigma=1.0)
    bRE(bp.scan([det], motor, -2, 2, 5))
    events = names(docs, "event")
    assert [e["data"]["motor"] for e in events] == [-2.0, -1.0, 0.0, 1.0, 2.0]
    values = [e["data"]["det"] for e in events]
    assert values.index(max(values)) == 2
    (descriptor,) = names(docs, "descriptor")
    assert descriptor["hints"]["det"] == {"fields": ["det"]}
    assert names(docs, "stop")[0]["exit_status"] == "success"


def test_bluesky_count_of_cielo_camera(bRE, docs, tmp_path):
    camera = SimAreaDetector(name="camera", directory=str(tmp_path), width=16, height=8, seed=0)
    bRE(bp.count([camera], 3))
    assert len(names(docs, "stream_resource")) == 1
    datums = names(docs, "stream_datum")
    assert [d["seq_nums"] for d in datums] == [{"start": i, "stop": i + 1} for i in (1, 2, 3)]
    assert len(names(docs, "event")) == 3


def test_bluesky_moves_pseudo_axes_and_shutter(bRE, docs):
    top, bottom = SimMotor(name="top"), SimMotor(name="bottom")
    slit = Slit(name="slit", reals={"top": top, "bottom": bottom})
    shutter = SimShutter(name="shutter", delay=0.01)

    def plan():
        yield from bps.mv(shutter, "open")
        yield from bp.scan([top, bottom], slit.gap, 0, 2, 3)
        yield from bps.mv(shutter, "closed")

    bRE(plan())
    events = names(docs, "event")
    assert [(e["data"]["top"], e["data"]["bottom"]) for e in events] == [
        (0.0, 0.0),
        (0.5, -0.5),
        (1.0, -1.0),
    ]
    assert shutter.state.get() == "closed"


def test_bluesky_flies_cielo_flyer(bRE, docs):
    flyer = SimFlyer(name="flyer", num=5, period=0.001)

    def plan():
        yield from bps.open_run()
        yield from bps.kickoff(flyer, wait=True)
        yield from bps.declare_stream(flyer, name="flyer", collect=True)
        yield from bps.complete(flyer, wait=True)
        yield from bps.collect(flyer, name="flyer")
        yield from bps.close_run()

    bRE(plan())
    pages = names(docs, "event_page") + names(docs, "event")
    total = sum(len(p["seq_num"]) if isinstance(p["seq_num"], list) else 1 for p in pages)
    assert total == 5


def test_bluesky_monitor_and_suspender_on_cielo_beam_current(bRE, docs):
    import threading

    from bluesky import preprocessors as bpp
    from bluesky.suspenders import SuspendFloor as BlueskySuspendFloor

    from cielo.devices.sim import SimBeamCurrent

    beam = SimBeamCurrent(name="beam_current")
    motor = SimMotor(name="motor")
    det = SimPeakDetector([motor], name="det")
    bRE.install_suspender(BlueskySuspendFloor(beam, 100.0, resume_thresh=400.0))
    timer = threading.Timer(0.05, lambda: beam.drop(5.0, duration=0.2))
    timer.start()
    bRE(bpp.monitor_during_wrapper(bp.count([det], 8, delay=0.03), [beam]))
    timer.join()
    monitored = [
        e["data"]["beam_current"] for e in names(docs, "event") if "beam_current" in e["data"]
    ]
    assert 5.0 in monitored and monitored[-1] == 500.0
    assert names(docs, "stop")[0]["exit_status"] == "success"
    # the point interrupted by the suspension is taken again after resuming
    assert len([e for e in names(docs, "event") if "det" in e["data"]]) >= 8
