"""NeXus export, read back with h5py and checked for the NeXus attributes."""

from __future__ import annotations

import h5py
import numpy as np
from silx.io import nxdata


def feed(callback, *runs):
    for docs in runs:
        for name, doc in docs:
            callback(name, doc)
    return callback


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def test_nxentry_nxdata_and_metadata(suitcases, make_run, tmp_path):
    docs = make_run(
        4, scan_id=9, image_dir=tmp_path / "h5", md={"sample": {"name": "Si", "thickness": 0.5}}
    )
    cb = feed(suitcases["nexus"](directory=tmp_path / "out", buffer=3), docs)
    path = cb.artifacts[docs[0][1]["uid"]]["nexus"][0]
    assert path.suffix == ".nxs"
    events = [d for n, d in docs if n == "event" and "det" in d["data"]]
    with h5py.File(path, "r") as f:
        assert _text(f.attrs["NX_class"]) == "NXroot" and _text(f.attrs["default"]) == "entry"
        entry = f["entry"]
        assert (
            _text(entry.attrs["NX_class"]) == "NXentry" and _text(entry.attrs["default"]) == "data"
        )
        assert _text(entry["entry_identifier"][()]) == docs[0][1]["uid"]
        assert _text(entry["title"][()]) == "scan 9"
        assert "start_time" in entry and "end_time" in entry
        data = entry["data"]
        assert _text(data.attrs["NX_class"]) == "NXdata"
        assert _text(data.attrs["signal"]) == "det"
        assert [_text(a) for a in np.atleast_1d(data.attrs["axes"])] == ["motor"]
        assert int(data.attrs["motor_indices"]) == 0
        np.testing.assert_allclose(data["det"][()], [e["data"]["det"] for e in events])
        np.testing.assert_allclose(data["motor"][()], [e["data"]["motor"] for e in events])
        np.testing.assert_array_equal(data["cam"][()], np.arange(80, dtype=float).reshape(4, 4, 5))
        assert _text(data["motor"].attrs["units"]) == "mm"  # on each field, as NeXus asks
        assert _text(entry["baseline/temperature"].attrs["units"]) == "K"
        sample = entry["sample"]
        assert _text(sample.attrs["NX_class"]) == "NXsample"
        assert _text(sample["name"][()]) == "Si" and sample["thickness"][()] == 0.5
        instrument = entry["instrument"]
        assert _text(instrument.attrs["NX_class"]) == "NXinstrument"
        assert _text(instrument["motor"].attrs["NX_class"]) == "NXpositioner"
        assert _text(instrument["det"].attrs["NX_class"]) == "NXdetector"
        assert instrument["motor/motor"] == data["motor"]  # a link, not a copy
        assert _text(instrument["temperature/temperature"].attrs["units"]) == "K"
        md = entry["metadata"]
        assert _text(md.attrs["NX_class"]) == "NXcollection"
        assert md["scan_id"][()] == 9
        assert _text(md["sample"].attrs["NX_class"]) == "NXcollection"
        assert _text(md["sample"]["name"][()]) == "Si" and md["sample"]["thickness"][()] == 0.5
        assert [_text(m) for m in md["motors"][()]] == ["motor"]
        assert _text(md["stop"]["exit_status"][()]) == "success"
        baseline = entry["baseline"]
        assert _text(baseline.attrs["NX_class"]) == "NXcollection"
        np.testing.assert_allclose(baseline["temperature"][()], [295.0, 296.5])


def test_tiff_datum_frames_land_in_nxdata(suitcases, make_run, tmp_path):
    docs = make_run(3, image_dir=tmp_path / "tif", image_kind="tiff")
    cb = feed(suitcases["nexus"](directory=tmp_path), docs)
    with h5py.File(cb.artifacts[docs[0][1]["uid"]]["nexus"][0], "r") as f:
        assert f["entry/data/cam"].shape == (3, 4, 5)


def test_sim_scan_on_the_run_engine(tmp_path, monkeypatch):
    """cielo's RunEngine, a scan of the sim peak detector with the camera, to NeXus."""
    from cielo import load_profile
    from cielo.testing import make_run_engine

    monkeypatch.delenv("CIELO_CATALOG", raising=False)
    env = load_profile("sim")
    nexus = env.suitcases["nexus"](directory=tmp_path)
    with make_run_engine(plugin_manager=env.pm) as RE:
        RE.subscribe(nexus)
        det, camera, motor = env.devices["det"], env.devices["camera"], env.devices["motor"]
        (uid,) = RE(env.plans["scan"]([det, camera], motor, -1, 1, 3))
    with h5py.File(nexus.artifacts[uid]["nexus"][0], "r") as f:
        data = f["entry/data"]
        assert nxdata.is_valid_nxdata(data)  # silx's NeXus reader as the outside check
        default = nxdata.get_default(f)  # root -> entry -> data by the 'default' attributes
        assert default is not None and default.signal_name == "det"
        assert default.axes_names == ["motor (mm)"]  # silx reads the units attribute
        assert _text(data.attrs["signal"]) == "det"
        assert [_text(a) for a in np.atleast_1d(data.attrs["axes"])] == ["motor"]
        np.testing.assert_allclose(data["motor"][()], [-1, 0, 1], atol=1e-6)
        assert data["camera"].shape[0] == 3 and data["camera"].shape[-2:] == (48, 64)
        assert _text(f["entry/metadata/plan_name"][()]) == "scan"
        assert _text(data["motor"].attrs["units"]) == "mm"
        instrument = f["entry/instrument"]
        classes = {name: _text(g.attrs["NX_class"]) for name, g in instrument.items()}
        assert classes["motor"] == "NXpositioner"
        assert classes["det"] == classes["camera"] == "NXdetector"
        assert "sample" not in f["entry"]  # none was given


def test_a_sample_name_and_silx_reads_the_layout(suitcases, make_run, tmp_path):
    import silx.io

    docs = make_run(3, md={"sample": "LaB6"})
    cb = feed(suitcases["nexus"](directory=tmp_path), docs)
    path = cb.artifacts[docs[0][1]["uid"]]["nexus"][0]
    with silx.io.open(str(path)) as f:  # silx's reader, as a NeXus viewer would open it
        assert _text(f["entry/sample"].attrs["NX_class"]) == "NXsample"
        assert _text(f["entry/sample/name"][()]) == "LaB6"
        assert _text(f["entry/instrument/det"].attrs["NX_class"]) == "NXdetector"
        assert _text(f["entry/instrument/motor/motor"].attrs["units"]) == "mm"
        assert nxdata.get_default(f).signal_name == "det"
