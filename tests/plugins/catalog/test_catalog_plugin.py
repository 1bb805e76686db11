"""The catalog plugin: backends and readers through the hooks, the sim profile writing runs."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from cielo import load_profile
from cielo.plugins import catalog as plugin
from cielo.storage import Catalog, ExitStatus, open_catalog
from cielo.testing import make_run_engine


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
    with env.make_subscribers() as subscribers, make_run_engine(plugin_manager=env.pm) as RE:
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


def test_readers_of_plugins_reach_the_catalog(tmp_path):
    """A third-party reader offered through ``cielo_readers`` reads a stored run."""
    import importlib.util
    from pathlib import Path

    from cielo import hookimpl
    from cielo.core import make_plugin_manager

    path = Path(__file__).parents[2] / "storage" / "synthetic.py"
    spec = importlib.util.spec_from_file_location("cielo_storage_synthetic", path)
    synthetic = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(synthetic)
    docs = synthetic.synthetic_run(3, image_dir=tmp_path / "h5")
    for name, doc in docs:
        if name == "stream_resource":
            doc["mimetype"] = "application/x-doubled"

    class Doubled:
        def __init__(self, resource, root_map=None):
            self.inner = plugin.cielo_readers()["application/x-hdf5"](resource, root_map=root_map)

        def read(self, start, stop):
            return 2 * self.inner.read(start, stop)

    class ThirdParty:
        @hookimpl
        def cielo_readers(self):
            return {"application/x-doubled": Doubled}

    uri = f"sqlite:///{tmp_path / 'c.sqlite'}"
    cat = open_catalog(uri)
    cat.import_documents(docs)
    pm = make_plugin_manager(autoload=False, plugins=[("doubled", ThirdParty())])
    frames = np.stack(list(open_catalog(uri, plugin_manager=pm)[-1]["primary"].read()["cam"]))
    np.testing.assert_array_equal(frames, 2 * np.arange(60, dtype=float).reshape(3, 4, 5))


def test_catalog_callback_in_a_profile(tmp_path, monkeypatch):
    """``[callbacks.catalog]`` with options subscribes a writer of its own."""
    monkeypatch.delenv("CIELO_CATALOG", raising=False)
    uri = f"sqlite:///{tmp_path / 'cb.sqlite'}"
    profile = tmp_path / "mini.toml"
    profile.write_text(
        "catalog = false\n"  # only the callback's own writer, not the default catalog
        '[devices.motor]\ntype = "sim.motor"\n\n'
        '[devices.det]\ntype = "sim.peak_detector"\nmotors = ["motor"]\n\n'
        f'[callbacks.catalog]\nuri = "{uri}"\nbatch_size = 2\nmax_delay = 0.05\n'
    )
    env = load_profile(profile)
    with env.make_subscribers() as subscribers, make_run_engine(plugin_manager=env.pm) as RE:
        assert set(subscribers) == {"callbacks.catalog"}
        RE.subscribe(subscribers["callbacks.catalog"])
        (uid,) = RE(env.plans["scan"]([env.devices["det"]], env.devices["motor"], 0, 1, 5))
    assert len(open_catalog(uri)[uid]["primary"].read()) == 5


def test_failing_plan_keeps_its_events_and_reason(sim_env, validate):
    """Nothing is lost: a plan failing mid-run is stored closed as 'fail', with its events."""
    from cielo import Msg

    env = sim_env
    det = env.devices["det"]

    def failing():
        yield Msg("open_run", plan_name="failing", sample="Si")
        yield Msg("declare_stream", None, det, name="primary")
        for _ in range(3):
            yield Msg("create", name="primary")
            yield Msg("read", det)
            yield Msg("save")
        raise RuntimeError("the sample holder jammed")

    with env.make_subscribers() as subscribers, make_run_engine(plugin_manager=env.pm) as RE:
        RE.subscribe(subscribers["catalog"])
        with pytest.raises(RuntimeError, match="jammed"):
            RE(failing())
    cat = open_catalog(env.catalog_uri)
    (run,) = cat.search(ExitStatus("fail")).runs()
    assert run.start["plan_name"] == "failing"
    assert run.exit_status == "fail" and "jammed" in run.stop["reason"]
    assert run.stop["num_events"] == {"primary": 3}
    assert list(run["primary"].read().index) == [1, 2, 3]
    for name, doc in run.documents():
        validate(name, doc)
