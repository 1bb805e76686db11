"""Readers of external data, used directly (HDF5 and TIFF, stream resources and datums)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import tifffile

from cielo.storage import ExternalDataError, HDF5Reader, ReaderRegistry, TIFFReader

FRAMES = np.arange(6 * 2 * 3, dtype=np.uint16).reshape(6, 2, 3)


def test_hdf5_stream_resource_and_ad_hdf5_datums(tmp_path):
    path = tmp_path / "frames.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("/entry/data/data", data=FRAMES)
    stream = {"uid": "sr", "data_key": "cam", "mimetype": "application/x-hdf5",
              "uri": f"file://localhost{path}", "parameters": {"dataset": "/entry/data/data"}}  # fmt: skip
    reader = HDF5Reader(stream)
    np.testing.assert_array_equal(reader.read(2, 4), FRAMES[2:4])
    reader.close()
    resource = {"uid": "r", "spec": "AD_HDF5", "root": str(tmp_path), "resource_path": "frames.h5",
                "resource_kwargs": {"frame_per_point": 2}}  # fmt: skip
    reader = HDF5Reader(resource)
    np.testing.assert_array_equal(reader.read_datum(point_number=1), FRAMES[2:4])
    reader.close()
    bad = HDF5Reader({**stream, "parameters": {"dataset": "/nope"}})
    with pytest.raises(ExternalDataError, match="has no dataset '/nope'"):
        bad.read(0, 1)


def test_tiff_multipage_file_and_folder_of_frames(tmp_path):
    tifffile.imwrite(tmp_path / "stack.tiff", FRAMES, photometric="minisblack")
    stack = TIFFReader({"uid": "s", "data_key": "cam", "mimetype": "multipart/related;type=image/tiff",
                        "uri": f"file://localhost{tmp_path / 'stack.tiff'}", "parameters": {}})  # fmt: skip
    np.testing.assert_array_equal(stack.read(1, 3), FRAMES[1:3])
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(FRAMES):
        tifffile.imwrite(folder / f"f{i:03d}.tif", frame)
    frames = TIFFReader({"uid": "d", "data_key": "cam", "mimetype": "image/tiff",
                         "uri": str(folder), "parameters": {"template": "f{:03d}.tif"}})  # fmt: skip
    np.testing.assert_array_equal(frames.read(4, 6), FRAMES[4:6])
    with pytest.raises(ExternalDataError, match=r"f006.tif, which does not exist"):
        frames.read(6, 7)


def test_registry_names_unknown_formats_and_maps_roots(tmp_path):
    registry = ReaderRegistry(root_map={"/beamline/data": str(tmp_path)})
    with pytest.raises(
        ExternalDataError, match="no reader for 'application/x-zarr'.*known: AD_HDF5"
    ):
        registry.reader(
            {"uid": "z", "mimetype": "application/x-zarr", "data_key": "cam", "uri": "x"}
        )
    tifffile.imwrite(tmp_path / "one.tiff", FRAMES[:1], photometric="minisblack")
    reader = registry.reader({"uid": "t", "spec": "AD_TIFF", "root": "/beamline/data",
                              "resource_path": "one.tiff", "resource_kwargs": {}})  # fmt: skip
    assert registry.reader({"uid": "t"}) is reader  # cached by uid
    np.testing.assert_array_equal(reader.read_datum(point_number=0), FRAMES[0])
    with pytest.raises(ExternalDataError, match="resource gone .*does not exist.*root_map"):
        registry.reader(
            {"uid": "gone", "spec": "AD_HDF5", "root": "/elsewhere", "resource_path": "x.h5"}
        )
    registry.close()
