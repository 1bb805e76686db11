"""Bluesky's plans with ophyd's and ophyd-async's simulated devices, run on cielo's RunEngine.

bluesky, ophyd and ophyd-async are outside oracles here: their plans and devices run
unchanged, and every document cielo emits validates with event-model's schemas.
"""

from __future__ import annotations

import pytest

bluesky = pytest.importorskip("bluesky")
pytest.importorskip("ophyd")

import bluesky.plan_stubs as bps  # noqa: E402
import bluesky.plans as bp  # noqa: E402
import bluesky.preprocessors as bpp  # noqa: E402
from ophyd.sim import det, det1, det2, det4, motor, motor1, motor2  # noqa: E402

from cielo.core import RunEngineInterrupted  # noqa: E402
from cielo.testing import make_run_engine  # noqa: E402

pytestmark = pytest.mark.interop

# RE (cielo.testing) and docs (tests/conftest.py) are the shared fixtures.


def names(docs):
    return [n for n, _ in docs]


def test_count(RE, docs, validate):
    uids = RE(bp.count([det1, det2], num=5), sample="Si")
    for n, d in docs:
        validate(n, d)
    assert names(docs) == ["start", "descriptor"] + ["event"] * 5 + ["stop"]
    start = docs[0][1]
    assert tuple(uids) == (start["uid"],)
    assert start["plan_name"] == "count" and start["detectors"] == ["det1", "det2"]
    assert start["sample"] == "Si"
    assert set(docs[1][1]["data_keys"]) == {"det1", "det2"}
    assert docs[-1][1]["num_events"] == {"primary": 5}


def test_scan_reads_motor_and_detector(RE, docs, validate):
    RE(bp.scan([det], motor, -2, 2, 5))
    for n, d in docs:
        validate(n, d)
    events = [d for n, d in docs if n == "event"]
    assert [e["data"]["motor"] for e in events] == [-2.0, -1.0, 0.0, 1.0, 2.0]
    assert events[2]["data"]["det"] == pytest.approx(1.0)  # peak at motor=0
    assert docs[0][1]["motors"] == ["motor"]


def test_grid_scan(RE, docs, validate):
    RE(bp.grid_scan([det4], motor1, -1, 1, 3, motor2, -1, 1, 2, snake_axes=True))
    for n, d in docs:
        validate(n, d)
    events = [d for n, d in docs if n == "event"]
    assert len(events) == 6
    assert {(e["data"]["motor1"], e["data"]["motor2"]) for e in events} == {
        (x, y) for x in (-1.0, 0.0, 1.0) for y in (-1.0, 1.0)
    }
    assert docs[0][1]["shape"] == [3, 2]


def test_finalize_wrapper_runs_cleanup_after_failure(RE, docs, validate):
    cleaned: list[str] = []

    def failing():
        yield from bps.open_run()
        yield from bps.mv(motor, 1)
        raise ValueError("sample fell off")

    def cleanup():
        cleaned.append("moved back")
        yield from bps.mv(motor, 0)

    with pytest.raises(ValueError, match="sample fell off"):
        RE(bpp.finalize_wrapper(failing(), cleanup()))
    assert cleaned == ["moved back"]
    assert motor.position == 0
    stop = [d for n, d in docs if n == "stop"][0]
    validate("stop", stop)
    assert stop["exit_status"] == "fail" and "sample fell off" in stop["reason"]


def test_baseline_and_relative_scan(RE, docs, validate):
    plan = bpp.baseline_wrapper(bp.rel_scan([det], motor, -1, 1, 3), [motor1])
    RE(plan)
    for n, d in docs:
        validate(n, d)
    streams = sorted({d["name"] for n, d in docs if n == "descriptor"})
    assert streams == ["baseline", "primary"]
    assert docs[-1][1]["num_events"] == {"baseline": 2, "primary": 3}


def test_bluesky_pause_stub_and_resume(RE, docs):
    def plan():
        yield from bps.open_run()
        yield from bps.checkpoint()
        yield from bps.pause()
        yield from bps.trigger_and_read([det])
        yield from bps.close_run()

    with pytest.raises(RunEngineInterrupted):
        RE(plan())
    RE.resume()
    assert names(docs)[-1] == "stop" and names(docs).count("event") == 1


def test_ophyd_async_devices(RE, docs, validate, tmp_path):
    oa_core = pytest.importorskip("ophyd_async.core")
    oa_sim = pytest.importorskip("ophyd_async.sim")
    pattern = oa_sim.PatternGenerator()
    stage = oa_sim.SimMotor(name="x")
    point = oa_sim.SimPointDetector(pattern, name="point")
    blob = oa_sim.SimBlobDetector(
        oa_core.StaticPathProvider(oa_core.UUIDFilenameProvider(), tmp_path), pattern, name="blob"
    )
    for device in (stage, point, blob):
        RE.run_coroutine(device.connect(), timeout=10)
    RE(bp.scan([point, blob], stage, 0, 1, 3))
    for n, d in docs:
        validate(n, d)
    kinds = names(docs)
    assert kinds.count("event") == 3
    assert "stream_resource" in kinds and "stream_datum" in kinds
    assert kinds.index("stream_datum") < kinds.index("event")
    assert docs[-1][1]["exit_status"] == "success"


def test_replies_reach_a_top_level_bluesky_plan_object(RE):
    motor.set(1.5).wait()
    assert RE(bps.rd(motor)).plan_result == 1.5  # bps.rd is a bluesky.utils.Plan object
    with pytest.raises(
        TypeError, match="'locate' needs an object with locate.*SynAxis.*plan 'locate'"
    ):
        RE(bps.locate(motor))  # ophyd's SynAxis is not Locatable
    motor.set(0).wait()


def test_bluesky_suspender_on_cielo(RE, docs):
    import threading
    import time

    from bluesky.suspenders import SuspendFloor
    from ophyd import Signal

    beam = Signal(name="ring_current", value=500.0)
    RE.install_suspender(SuspendFloor(beam, 100, resume_thresh=400, sleep=0.1))
    threading.Timer(0.1, beam.put, args=(10.0,)).start()
    threading.Timer(0.4, beam.put, args=(450.0,)).start()
    t0 = time.monotonic()
    RE(bp.count([det], 5, delay=0.05))
    assert time.monotonic() - t0 > 0.45
    # suspended during the delay after a point, the point is re-taken from its checkpoint
    # with the same seq_num (as on Bluesky's engine): five distinct points
    seq_nums = [d["seq_num"] for n, d in docs if n == "event"]
    assert set(seq_nums) == {1, 2, 3, 4, 5} and len(seq_nums) >= 5
    assert docs[-1][1]["num_events"] == {"primary": 5}
    beam.put(10.0)  # tripped before the next plan: it waits until released
    threading.Timer(0.2, beam.put, args=(450.0,)).start()
    t0 = time.monotonic()
    RE(bp.count([det], 1))
    assert time.monotonic() - t0 > 0.25


def test_ophyd_async_init_devices_connects_on_the_engine_loop(validate):
    oa_core = pytest.importorskip("ophyd_async.core")
    oa_sim = pytest.importorskip("ophyd_async.sim")
    from bluesky.run_engine import get_bluesky_event_loop

    docs: list[tuple[str, dict]] = []
    with make_run_engine() as RE:
        RE.share_loop_with_bluesky()
        RE.subscribe(lambda n, d: docs.append((n, d)))
        with oa_core.init_devices():
            oa_x = oa_sim.SimMotor()
            oa_point = oa_sim.SimPointDetector(oa_sim.PatternGenerator())
        RE(bp.scan([oa_point], oa_x, 0, 1, 2))
    assert oa_x.name == "oa_x"
    assert get_bluesky_event_loop() is None  # handed back when the engine closed
    for n, d in docs:
        validate(n, d)
    assert names(docs).count("event") == 2
