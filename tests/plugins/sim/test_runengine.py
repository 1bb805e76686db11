"""The sim beamline on cielo's RunEngine: scans, an HDF5 camera, a flyer, a suspender.

Plans are written as plain Bluesky messages so only the device model and the engine
are under test; every document is validated against event-model's schemas.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import h5py
import pytest

import cielo
from cielo import Msg
from cielo.core import SuspendFloor


@pytest.fixture
def env(sim_env, tmp_path):
    """A fresh sim beamline (cielo.testing's ``sim_env``), the camera writing to tmp_path."""
    sim_env.devices["camera"].directory = tmp_path / "frames"
    return sim_env


def step_scan(detectors, motor, points):
    for obj in (motor, *detectors):
        yield Msg("stage", obj)
    yield Msg("open_run", plan_name="step_scan", motors=[motor.name])
    for x in points:
        yield Msg("checkpoint")
        yield Msg("set", motor, x, group="move")
        yield Msg("wait", None, group="move")
        for det in detectors:
            yield Msg("trigger", det, group="count")
        yield Msg("wait", None, group="count")
        yield Msg("create", None, name="primary")
        for obj in (motor, *detectors):
            yield Msg("read", obj)
        yield Msg("save")
    yield Msg("close_run")
    for obj in (motor, *detectors):
        yield Msg("unstage", obj)


def by_name(docs, name):
    return [doc for n, doc in docs if n == name]


def test_scan_motor_and_det(env, RE, docs):
    motor, det = env.devices["motor"], env.devices["det"]
    points = [-2.0, -1.0, 0.0, 1.0, 2.0]
    uids = RE(step_scan([det], motor, points))
    assert len(uids) == 1
    (descriptor,) = by_name(docs, "descriptor")
    assert {"motor", "motor_user_setpoint", "det"} <= descriptor["data_keys"].keys()
    assert descriptor["data_keys"]["motor"]["units"] == "mm"
    assert "det_amplitude" in descriptor["configuration"]["det"]["data"]
    assert descriptor["hints"]["det"] == {"fields": ["det"]}
    events = by_name(docs, "event")
    assert [e["data"]["motor"] for e in events] == points
    values = [e["data"]["det"] for e in events]
    assert values.index(max(values)) == 2 and values[0] == pytest.approx(values[4])
    assert by_name(docs, "stop")[0]["exit_status"] == "success"


def test_scan_with_velocity_takes_real_time(RE, docs):
    env = cielo.load_profile("sim")
    motor, det = env.devices["motor1"], env.devices["det2"]
    motor.velocity.put(20.0)  # 0.5 mm steps at 20 mm/s: 25 ms each
    t0 = time.monotonic()
    RE(step_scan([det], motor, [0.0, 0.5, 1.0, 1.5, 2.0]))
    assert time.monotonic() - t0 >= 0.1
    assert len(by_name(docs, "event")) == 5


def test_count_camera_writes_hdf5(env, RE, docs):
    camera = env.devices["camera"]

    def count(n):
        yield Msg("stage", camera)
        yield Msg("open_run", plan_name="count")
        for _ in range(n):
            yield Msg("trigger", camera, group="t")
            yield Msg("wait", None, group="t")
            yield Msg("create", None, name="primary")
            yield Msg("read", camera)
            yield Msg("save")
        yield Msg("close_run")
        yield Msg("unstage", camera)

    RE(count(3))
    (start,) = by_name(docs, "start")
    (descriptor,) = by_name(docs, "descriptor")
    assert descriptor["data_keys"]["camera"]["external"] == "STREAM:"
    (resource,) = by_name(docs, "stream_resource")
    assert resource["run_start"] == start["uid"]
    datums = by_name(docs, "stream_datum")
    assert [d["seq_nums"] for d in datums] == [
        {"start": 1, "stop": 2},
        {"start": 2, "stop": 3},
        {"start": 3, "stop": 4},
    ]
    assert all(d["descriptor"] == descriptor["uid"] for d in datums)
    events = by_name(docs, "event")
    with h5py.File(Path(urlparse(resource["uri"]).path), "r") as f:
        frames = f[resource["parameters"]["dataset"]][()]
    assert frames.shape == (3, 48, 64)
    assert [e["data"]["camera_total"] for e in events] == [float(fr.sum()) for fr in frames]


def test_fly_the_flyer(env, RE, docs):
    flyer = env.devices["flyer"]

    def fly():
        yield Msg("open_run", plan_name="fly")
        yield Msg("kickoff", flyer, group="k")
        yield Msg("wait", None, group="k")
        yield Msg("declare_stream", None, flyer, name="flyer", collect=True)
        yield Msg("complete", flyer, group="c")
        yield Msg("wait", None, group="c")
        yield Msg("collect", flyer, name="flyer")
        yield Msg("close_run")

    RE(fly())
    (descriptor,) = by_name(docs, "descriptor")
    assert descriptor["name"] == "flyer"
    pages = by_name(docs, "event_page") + by_name(docs, "event")
    n = sum(len(p["seq_num"]) if isinstance(p["seq_num"], list) else 1 for p in pages)
    assert n == 20
    assert by_name(docs, "stop")[0]["num_events"] == {"flyer": 20}


def test_beam_drop_suspends_and_resumes(env, RE, docs):
    beam, det, motor = env.devices["beam_current"], env.devices["det"], env.devices["motor"]
    RE.install_suspender(SuspendFloor(beam, 100.0, resume_thresh=400.0))
    timer = threading.Timer(0.05, lambda: beam.drop(10.0, duration=0.3))
    timer.start()

    def slow_scan():
        for x in range(6):
            yield Msg("sleep", None, 0.02)
            yield from step_scan_point(det, motor, float(x))

    def step_scan_point(det, motor, x):
        yield Msg("checkpoint")
        yield Msg("set", motor, x, group="m")
        yield Msg("wait", None, group="m")
        yield Msg("trigger", det, group="d")
        yield Msg("wait", None, group="d")
        yield Msg("create", None, name="primary")
        yield Msg("read", motor)
        yield Msg("read", det)
        yield Msg("save")

    def plan():
        yield Msg("open_run", plan_name="suspended")
        yield from slow_scan()
        yield Msg("close_run")

    t0 = time.monotonic()
    RE(plan())
    timer.join()
    assert time.monotonic() - t0 >= 0.3  # waited for the beam to come back
    assert by_name(docs, "stop")[0]["exit_status"] == "success"
    assert len(by_name(docs, "event")) >= 6


def test_configure_mid_run_changes_configuration(env, RE, docs):
    det, motor = env.devices["det"], env.devices["motor"]

    def plan():
        yield Msg("open_run")
        for amplitude in (1.0, 5.0):
            yield Msg("configure", det, {"amplitude": amplitude})
            yield Msg("trigger", det, group="t")
            yield Msg("wait", None, group="t")
            yield Msg("create", None, name="primary")
            yield Msg("read", det)
            yield Msg("save")
        yield Msg("close_run")

    motor.set(0.0).wait(1)
    RE(plan())
    descriptors = by_name(docs, "descriptor")
    amplitudes = [d["configuration"]["det"]["data"]["det_amplitude"] for d in descriptors]
    assert amplitudes[0] == 1.0 and amplitudes[-1] == 5.0
    assert [e["data"]["det"] for e in by_name(docs, "event")] == [1.0, 5.0]


def test_camera_frames_through_the_catalog(env, RE, docs, tmp_path):
    """The camera's run stored in a SQLite catalog reads back as the frames on disk."""
    import numpy as np

    camera = env.devices["camera"]
    with cielo.open_catalog(f"sqlite:///{tmp_path / 'runs.sqlite'}") as catalog:
        writer = catalog.writer()
        RE.subscribe(writer)

        def count(n):
            yield Msg("stage", camera)
            yield Msg("open_run", plan_name="count")
            for _ in range(n):
                yield Msg("trigger", camera, group="t")
                yield Msg("wait", None, group="t")
                yield Msg("create", None, name="primary")
                yield Msg("read", camera)
                yield Msg("save")
            yield Msg("close_run")
            yield Msg("unstage", camera)

        (uid,) = RE(count(4))
        writer.close()  # commits what is still batched
        table = catalog[uid]["primary"].read()
        stored = np.stack([np.asarray(frame) for frame in table["camera"]])
    (resource,) = by_name(docs, "stream_resource")
    with h5py.File(Path(urlparse(resource["uri"]).path), "r") as f:
        on_disk = f[resource["parameters"]["dataset"]][()]
    assert stored.shape == (4, 1, 48, 64)  # each event: the data key's shape [1, h, w]
    np.testing.assert_array_equal(stored[:, 0], on_disk)
    assert list(table["camera_total"]) == [float(fr.sum()) for fr in on_disk]


def test_profile_plans_on_the_sim_beamline(env, RE, docs):
    """The bundled plans run on the sim beamline: a grid over det2's two motors, a fly scan."""
    d = env.devices
    RE(env.plans["grid_scan"]([d["det2"]], d["motor1"], -1, 1, 3, d["motor2"], -1, 1, 3))
    events = by_name(docs, "event")
    assert len(events) == 9
    best = max(events, key=lambda e: e["data"]["det2"])
    assert (best["data"]["motor1"], best["data"]["motor2"]) == (0.0, 0.0)
    RE(env.plans["fly"]([d["flyer"]]))
    assert by_name(docs, "stop")[-1]["num_events"]["flyer"] == 20
    RE(env.plans["count"]([d["camera"], d["det"]], 2))
    assert by_name(docs, "stop")[-1]["exit_status"] == "success"
    assert len(by_name(docs, "stream_datum")) == 2
