"""The simulated area detector: frames in HDF5, stream_resource/stream_datum documents."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import h5py
import numpy as np
import pytest
from event_model import compose_run

from cielo.core import DeviceError
from cielo.core import protocols as P
from cielo.devices.sim import DATASET, SimAreaDetector, SimMotor
from cielo.storage import HDF5Reader


def _run_docs(camera, n, validate):
    """Compose a run around ``n`` triggers as a RunEngine does, validating every document."""
    bundle = compose_run(metadata={"plan_name": "test"})
    validate("start", bundle.start_doc)
    desc = bundle.compose_descriptor(
        name="primary",
        data_keys=camera.describe(),
        configuration={camera.name: {"data": {}, "timestamps": {}, "data_keys": {}}},
    )
    validate("descriptor", desc.descriptor_doc)
    assets = []
    for seq in range(1, n + 1):
        camera.trigger().wait(5)
        reading = camera.read()
        for name, doc in camera.collect_asset_docs():
            doc = dict(doc)
            if name == "stream_resource":
                doc["run_start"] = bundle.start_doc["uid"]
            else:
                doc["descriptor"] = desc.descriptor_doc["uid"]
                doc["seq_nums"] = {"start": seq, "stop": seq + 1}
            validate(name, doc)
            assets.append((name, doc))
        event = desc.compose_event(
            data={k: v["value"] for k, v in reading.items()},
            timestamps={k: v["timestamp"] for k, v in reading.items()},
            seq_num=seq,
        )
        validate("event", event)
    validate("stop", bundle.compose_stop())
    return assets


def test_frames_written_and_read_back_with_h5py(tmp_path, validate):
    camera = SimAreaDetector(name="camera", directory=str(tmp_path), width=32, height=24, seed=1)
    camera.stage()
    assets = _run_docs(camera, 3, validate)
    camera.unstage()
    names = [name for name, _ in assets]
    assert names == ["stream_resource", "stream_datum", "stream_datum", "stream_datum"]
    resource = assets[0][1]
    assert resource["data_key"] == "camera"
    assert resource["mimetype"] == "application/x-hdf5"
    assert resource["parameters"] == {"dataset": DATASET, "chunk_shape": [1, 24, 32], "swmr": True}
    datums = [doc for name, doc in assets if name == "stream_datum"]
    assert [d["indices"] for d in datums] == [
        {"start": 0, "stop": 1},
        {"start": 1, "stop": 2},
        {"start": 2, "stop": 3},
    ]
    assert all(d["stream_resource"] == resource["uid"] for d in datums)
    assert len({d["uid"] for d in datums}) == 3
    path = Path(urlparse(resource["uri"]).path)
    assert path.parent == tmp_path and path == camera.path
    with h5py.File(path, "r") as f:
        frames = f[DATASET][()]
    assert frames.shape == (3, 24, 32) and frames.dtype == np.uint16
    assert frames[0, 12, 16] > frames[0, 0, 0]  # the spot is in the middle
    # the event's sum is the frame's sum
    assert camera.read()["camera_total"]["value"] == float(frames[2].sum())


def test_describe_marks_image_external():
    camera = SimAreaDetector(name="camera", width=8, height=4)
    key = camera.describe()["camera"]
    assert key["external"] == "STREAM:"
    assert key["shape"] == [1, 4, 8] and key["dtype"] == "array" and key["dtype_numpy"] == "<u2"
    assert "camera" not in camera.read()  # the image lives in the file
    assert set(camera.read()) == {"camera_total"}
    assert camera.hints == {"fields": ["camera_total"]}
    assert isinstance(camera, P.WritesStreamAssets) and isinstance(camera, P.Triggerable)


def test_new_file_per_stage_and_index(tmp_path):
    camera = SimAreaDetector(name="cam", directory=str(tmp_path), width=4, height=4)
    camera.stage()
    camera.trigger()
    camera.trigger()
    assert camera.get_index() == 2
    first = camera.path
    assert [n for n, _ in camera.collect_asset_docs(1)] == ["stream_resource", "stream_datum"]
    assert [d["indices"] for _, d in camera.collect_asset_docs()] == [{"start": 1, "stop": 2}]
    assert list(camera.collect_asset_docs()) == []
    camera.unstage()
    camera.stage()
    camera.trigger()
    assert camera.path != first and camera.get_index() == 1
    docs = list(camera.collect_asset_docs())
    assert [n for n, _ in docs] == ["stream_resource", "stream_datum"]
    camera.unstage()
    assert sorted(tmp_path.iterdir()) == sorted([first, camera.path])


def test_brightness_follows_motor_and_exposure_takes_time(tmp_path):
    motor = SimMotor(name="m")
    camera = SimAreaDetector(
        name="cam", directory=str(tmp_path), motors=[motor], sigma=1.0, exposure=0.05, seed=0
    )
    camera.stage()
    t0 = time.monotonic()
    camera.trigger().wait(2)
    assert time.monotonic() - t0 >= 0.045
    bright = camera.total.get()
    motor.set(3.0).wait(1)
    camera.trigger().wait(2)
    assert camera.total.get() < bright / 5
    camera.unstage()


def test_frames_readable_while_writing_with_storage_reader(tmp_path):
    """Another process and cielo's storage reader (SWMR) see frames before unstage."""
    camera = SimAreaDetector(name="cam", directory=str(tmp_path), width=8, height=6, seed=2)
    camera.stage()
    camera.trigger()
    camera.trigger()
    resource = next(doc for name, doc in camera.collect_asset_docs() if name == "stream_resource")
    script = (
        "import h5py, sys; f = h5py.File(sys.argv[1], 'r', swmr=True); print(f[sys.argv[2]].shape)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(camera.path), DATASET],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == "(2, 6, 8)"
    reader = HDF5Reader(resource)
    try:
        assert reader.read(0, 2).shape == (2, 6, 8)
        camera.trigger()
        frames = reader.read(0, 3)
        assert frames.shape == (3, 6, 8)
    finally:
        reader.close()
    camera.unstage()
    with h5py.File(camera.path, "r") as f:
        assert (f[DATASET][()] == frames).all()


def test_unwritable_directory_names_the_camera_and_the_fix(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    camera = SimAreaDetector(name="cam", directory=str(blocker / "frames"), width=4, height=4)
    camera.stage()
    with pytest.raises(DeviceError, match=r"cam: cannot write frames to '.*frames'.*directory"):
        camera.trigger()
    camera.unstage()
