"""TIFF export of area-detector frames, read back with tifffile."""

from __future__ import annotations

import copy

import numpy as np
import tifffile


def feed(callback, *runs):
    for docs in runs:
        for name, doc in docs:
            callback(name, doc)
    return callback


EXPECTED = np.arange(4 * 4 * 5, dtype=float).reshape(4, 4, 5)


def test_frames_from_hdf5_stream_resources(suitcases, make_run, tmp_path):
    docs = make_run(4, image_dir=tmp_path / "h5")
    cb = feed(suitcases["tiff"](directory=tmp_path / "out"), docs)
    files = cb.artifacts[docs[0][1]["uid"]]
    assert set(files) == {"primary:cam"}
    frames = tifffile.imread(files["primary:cam"][0])
    np.testing.assert_array_equal(frames, EXPECTED)


def test_frames_from_tiff_datums(suitcases, make_run, tmp_path):
    docs = make_run(4, image_dir=tmp_path / "tif", image_kind="tiff")
    cb = feed(suitcases["tiff"](directory=tmp_path / "out"), docs)
    frames = tifffile.imread(cb.artifacts[docs[0][1]["uid"]]["primary:cam"][0])
    np.testing.assert_array_equal(frames, EXPECTED)


def test_frames_inside_events(suitcases, make_run, tmp_path, validate):
    docs = copy.deepcopy(make_run(3))
    for name, doc in docs:
        if name == "descriptor" and doc["name"] == "primary":
            doc["data_keys"]["img"] = {"source": "sim:img", "dtype": "array", "shape": [2, 3]}
        if name == "event" and "det" in doc["data"]:
            doc["data"]["img"] = np.full((2, 3), doc["seq_num"], dtype=np.uint16)
            doc["timestamps"]["img"] = doc["time"]
        validate(name, {k: v for k, v in doc.items()} if name != "event" else doc | {"data": {}})
    cb = feed(suitcases["tiff"](directory=tmp_path), docs)
    frames = tifffile.imread(cb.artifacts[docs[0][1]["uid"]]["primary:img"][0])
    assert frames.shape == (3, 2, 3) and frames.dtype == np.uint16
    assert [int(f[0, 0]) for f in frames] == [1, 2, 3]


def test_run_without_images_writes_nothing(suitcases, make_run, tmp_path):
    docs = make_run(2)
    cb = feed(suitcases["tiff"](directory=tmp_path), docs)
    assert cb.artifacts[docs[0][1]["uid"]] == {}
    assert list(tmp_path.iterdir()) == []


def test_sim_camera_on_the_run_engine(tmp_path, monkeypatch):
    """cielo's RunEngine and the sim camera (HDF5 via stream_resource) to TIFF, live."""
    import h5py

    from cielo import load_profile
    from cielo.testing import make_run_engine

    monkeypatch.delenv("CIELO_CATALOG", raising=False)
    env = load_profile("sim")
    tiff = env.suitcases["tiff"](directory=tmp_path)
    docs = []
    with make_run_engine(plugin_manager=env.pm) as RE:
        RE.subscribe(tiff)
        RE.subscribe(lambda name, doc: docs.append((name, doc)))
        (uid,) = RE(env.plans["count"]([env.devices["camera"]], num=4))
    frames = tifffile.imread(tiff.artifacts[uid]["primary:camera"][0])
    resource = next(d for n, d in docs if n == "stream_resource")
    with h5py.File(resource["uri"].removeprefix("file://localhost"), "r") as f:
        expected = f[resource["parameters"]["dataset"]][()]
    np.testing.assert_array_equal(frames, expected.reshape(-1, *expected.shape[-2:]))
