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
