"""The callbacks on cielo's RunEngine with the sim beamline (profile ``sim``)."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.image import imread  # noqa: E402

from cielo.testing import DocumentCollector  # noqa: E402


@pytest.fixture
def RE(RE, tmp_path, env):
    """The shared RunEngine, with the sim camera writing into this test's directory."""
    env.devices["camera"].directory = tmp_path / "frames"
    return RE


@pytest.fixture
def checked(RE):
    """Validated documents of ``RE`` (``docs`` is the synthetic set in this folder)."""
    collector = DocumentCollector(validate=True)
    RE.subscribe(collector)
    return collector


def test_scan_with_table_plots_stats_and_fit(RE, env, checked, tmp_path):
    out = io.StringIO()
    cbs = env.callbacks
    best = cbs["best_effort"](out=out, directory=str(tmp_path), width=100)
    stats = cbs["peak_stats"]()
    fit = cbs["live_fit"](update_every=5, plot=True, directory=str(tmp_path))
    for cb in (best, stats, fit):
        RE.subscribe(cb)
    det, motor = env.devices["det"], env.devices["motor"]
    uids = RE(env.plans["scan"]([det], motor, -3, 3, 31))
    (uid,) = uids
    start = checked[0][1]
    rows = [
        line
        for line in out.getvalue().splitlines()
        if line.startswith("| ") and "seq_num" not in line
    ]
    assert len([r for r in rows if r.split("|")[1].strip().isdigit()]) == 31
    assert f"success: scan {start['scan_id']}" in out.getvalue()
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == [f"{start['scan_id']}-scan-det-fit.png", f"{start['scan_id']}-scan-det.png"]
    for name in pngs:
        assert imread(tmp_path / name).shape[:2] == (420, 640)
    # the sim det: a Gaussian at 0 with sigma 1 and amplitude 1 (profile values)
    s = stats.results[uid]["det"]
    assert s.cen == pytest.approx(0.0, abs=1e-9)
    assert s.fwhm == pytest.approx(2 * math.sqrt(2 * math.log(2)), rel=0.01)
    assert s.max == (0.0, pytest.approx(1.0))
    result = fit.results[uid]
    assert result.success and result.center == pytest.approx(0.0, abs=1e-6)
    assert result.value("sigma") == pytest.approx(1.0, rel=1e-4)
    assert RE.callback_errors == []


def test_grid_scan_and_camera(RE, env, checked, tmp_path):
    best = env.callbacks["best_effort"](out=io.StringIO(), directory=str(tmp_path))
    RE.subscribe(best)
    plans, dev = env.plans, env.devices
    RE(plans["grid_scan"]([dev["det2"]], dev["motor1"], -2, 2, 5, dev["motor2"], -2, 2, 7))
    grid_png = next(tmp_path.glob("*-grid_scan-det2.png"))
    img = imread(grid_png)
    assert len(np.unique(img.reshape(-1, img.shape[-1]), axis=0)) > 50
    RE(plans["count"]([dev["camera"]], 2))
    cam = sorted(p.name for p in tmp_path.glob("*-count-*.png"))
    assert [n.split("-", 2)[2] for n in cam] == ["camera.png", "camera_total.png"]
    # the frame view read the last frame from the camera's HDF5 file (storage readers)
    (view,) = [p for p in best_plots(best) if getattr(p, "field", None) == "camera"]
    sres = next(d for n, d in checked if n == "stream_resource")
    from urllib.parse import urlparse

    import h5py

    with h5py.File(urlparse(sres["uri"]).path, "r") as f:
        last = f[sres["parameters"]["dataset"]][-1]
    np.testing.assert_array_equal(view._artist.get_array(), last)
    assert RE.callback_errors == []


def best_plots(router):
    """The plots of the last run a best_effort router handled."""
    (best,) = router.last_run
    return best.plots


def test_a_failing_callback_does_not_stop_the_others(RE, env, checked):
    out = io.StringIO()

    def broken(name, doc):
        if name == "event":
            raise RuntimeError("broken on purpose")

    RE.subscribe(broken)
    RE.subscribe(env.callbacks["live_table"](out=out))
    RE(env.plans["count"]([env.devices["det"]], 3))
    assert out.getvalue().count("\n|") >= 3 and "success" in out.getvalue()
    errors = RE.callback_errors
    assert len(errors) == 3 and "broken" in errors[0].callback
    assert errors[0].name == "event"


def test_interleaved_runs_on_the_engine(RE, env, checked):
    """Two runs open at once (run keys): each gets its own table and statistics."""
    import numpy as np

    from cielo import Msg
    from cielo.callbacks import LiveTable, PeakStatsCollector, per_run

    det, motor = env.devices["det"], env.devices["motor"]
    det2, motor1, motor2 = env.devices["det2"], env.devices["motor1"], env.devices["motor2"]
    tables: list[LiveTable] = []
    router = per_run(lambda: tables.append(LiveTable(out=io.StringIO(), width=90)) or tables[-1])
    stats = PeakStatsCollector()
    RE.subscribe(router)
    RE.subscribe(stats)

    def two_runs():
        hints = {"dimensions": [[["motor"], "primary"]]}
        yield Msg("open_run", run="a", plan_name="a", motors=["motor"], hints=hints)
        hints1 = {"dimensions": [[["motor1"], "primary"]]}
        yield Msg("open_run", run="b", plan_name="b", motors=["motor1"], hints=hints1)
        for x in np.linspace(-2, 2, 9):
            for run, mot, d in (("a", motor, det), ("b", motor1, det2)):
                yield Msg("set", mot, x + (0.5 if run == "b" else 0.0), group="m")
                yield Msg("wait", None, group="m")
                yield Msg("trigger", d, group="t")
                yield Msg("wait", None, group="t")
                yield Msg("create", None, name="primary", run=run)
                yield Msg("read", mot, run=run)
                yield Msg("read", d, run=run)
                yield Msg("save", run=run)
        yield Msg("close_run", run="b")
        yield Msg("close_run", run="a")

    motor2.set(0.0).wait(5)
    uids = RE(two_runs())
    assert len(uids) == 2 and len(tables) == 2
    for table in tables:
        assert table.out.getvalue().count("success") == 1
        assert len([ln for ln in table.out.getvalue().splitlines() if ln.startswith("|")]) == 2 + 9
    by_plan = {doc["plan_name"]: doc["uid"] for name, doc in checked if name == "start"}
    assert stats.results[by_plan["a"]]["det"].max[0] == pytest.approx(0.0)
    assert stats.results[by_plan["b"]]["det2"].max[0] == pytest.approx(0.0)  # motor1 = x + 0.5
    assert RE.callback_errors == []


def test_a_string_valued_detector_is_tabled_but_not_plotted_or_fitted(RE, env, checked, tmp_path):
    """The sim shutter reads "open"/"closed": the table shows it; the plots, statistics and
    fit use only the numbers beside it, and nothing fails."""
    out = io.StringIO()
    best = env.callbacks["best_effort"](out=out, directory=str(tmp_path), width=100)
    stats, fit = env.callbacks["peak_stats"](), env.callbacks["live_fit"](update_every=4)
    for cb in (best, stats, fit):
        RE.subscribe(cb)
    shutter, det, motor = env.devices["shutter"], env.devices["det"], env.devices["motor"]
    (uid,) = RE(env.plans["scan"]([shutter, det], motor, -2, 2, 9))
    assert "closed" in out.getvalue() and "success: scan" in out.getvalue()
    assert [p.name.split("-", 2)[2] for p in tmp_path.glob("*.png")] == ["det.png"]
    assert list(stats.results[uid]) == ["det"]
    assert stats.results[uid]["det"].max == (0.0, pytest.approx(1.0))
    assert fit.results[uid] is not None and fit.results[uid].success
    assert fit.results[uid].center == pytest.approx(0.0, abs=1e-6)
    assert best.failures == stats.failures == fit.failures == []
    assert RE.callback_errors == []
