"""The catalog plugin: backends and readers through the hooks, the sim profile writing runs."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from cielo import load_profile
from cielo.core import RunEngine
from cielo.plugins import catalog as plugin
from cielo.storage import Catalog, open_catalog


def test_hooks_offer_backends_readers_and_a_writer_callback(tmp_path):
    backends = plugin.cielo_catalog_backends()
    assert set(backends) >= {"sqlite", "postgresql"}
    cat = backends["sqlite"](f"sqlite:///{tmp_path / 'c.sqlite'}")
    assert isinstance(cat, Catalog) and len(cat) == 0
    readers = plugin.cielo_readers()
    assert {"application/x-hdf5", "AD_HDF5", "AD_TIFF", "multipart/related;type=image/tiff"} <= set(
        readers
    )
    writer = plugin.cielo_callbacks()["catalog"](
        uri=f"sqlite:///{tmp_path / 'w.sqlite'}", batch_size=10
    )
    writer.close()


@pytest.fixture
def sim_env(tmp_path, monkeypatch):
    monkeypatch.setenv("CIELO_CATALOG", f"sqlite:///{tmp_path / 'runs.sqlite'}")
    return load_profile("sim")


def test_sim_profile_runs_land_in_the_catalog(sim_env, validate):
    env = sim_env
    assert env.readers["application/x-hdf5"] is plugin.cielo_readers()["application/x-hdf5"]
    with env.make_subscribers() as subscribers, RunEngine(plugin_manager=env.pm) as RE:
        assert "catalog" in subscribers
        for callback in subscribers.values():
            RE.subscribe(callback)
        motor, det, camera = env.devices["motor"], env.devices["det"], env.devices["camera"]
        (scan_uid,) = RE(env.plans["scan"]([det], motor, -1, 1, 5), sample="Si")
        (count_uid,) = RE(env.plans["count"]([det, camera], num=3))
    cat = open_catalog(env.catalog_uri)
    assert len(cat) == 2
    scan = cat[scan_uid]
    assert scan.exit_status == "success" and scan.start["sample"] == "Si"
    for name, doc in scan.documents():
        validate(name, doc)
    table = scan["primary"].read()
    assert len(table) == 5 and {"motor", "det"} <= set(table.columns)
    np.testing.assert_allclose(table["motor"], np.linspace(-1, 1, 5), atol=1e-6)
    assert [r.uid for r in cat.search(sample="Si").runs()] == [scan_uid]
    count = cat[count_uid]
    frames = np.stack(list(count["primary"].read(["camera"])["camera"]))
    resource = next(doc for name, doc in count.documents() if name == "stream_resource")
    path = resource["uri"].removeprefix("file://localhost")
    with h5py.File(path, "r") as f:
        expected = f[resource["parameters"]["dataset"]][()]
    shape = tuple(count["primary"].data_keys["camera"]["shape"])
    assert frames.shape == (3, *shape)
    np.testing.assert_array_equal(frames.reshape(expected.shape), expected)
