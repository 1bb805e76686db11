"""with_peak_stats stores each run's peak statistics in the run, read back from the catalog."""

from __future__ import annotations

import pytest

import cielo
from cielo.callbacks import compute_peak_stats
from cielo.plugins.callbacks import with_peak_stats
from cielo.testing import DocumentCollector, make_run_engine


@pytest.fixture
def catalog(tmp_path):
    cat = cielo.open_catalog(f"sqlite:///{tmp_path / 'runs.db'}")
    yield cat
    cat.close()


def test_statistics_are_stored_with_the_run(env, catalog):
    det, motor = env.devices["det"], env.devices["motor"]
    docs = DocumentCollector(validate=True)
    with make_run_engine() as RE:
        RE.subscribe(catalog.writer())
        RE.subscribe(docs)
        (uid,) = RE(with_peak_stats(env.plans["scan"]([det], motor, -3, 2, 26), derivative=True))
    assert docs.stop["num_events"] == {"primary": 26, "peak_stats": 1}
    run = catalog[uid]
    primary = run["primary"].columns(["motor", "det"])
    truth = compute_peak_stats(primary["motor"], primary["det"], derivative=True).as_dict()
    stored = run["peak_stats"].columns([f"det_{k}" for k in truth])
    for key, value in truth.items():
        assert stored[f"det_{key}"][0] == pytest.approx(value, nan_ok=True), key
    assert stored["det_cen"][0] == pytest.approx(0.0, abs=1e-9)  # the sim det's peak
    # the derivative of a peak rises most steeply one sigma below it
    assert stored["det_derivative_max_x"][0] == pytest.approx(-1.0, abs=0.2)


def test_grids_and_failed_runs_keep_their_data_without_statistics(env, catalog):
    dev, plans = env.devices, env.plans
    docs = DocumentCollector(validate=True)

    def fails_midway():
        from cielo.plans import mv, open_run, trigger_and_read

        yield from open_run(
            {"motors": ["motor"], "hints": {"dimensions": [[["motor"], "primary"]]}}
        )
        for x in (-1, 0, 1):
            yield from mv(dev["motor"], x)
            yield from trigger_and_read([dev["motor"], dev["det"]])
        raise RuntimeError("the beam went away")

    with make_run_engine() as RE:
        RE.subscribe(catalog.writer())
        RE.subscribe(docs)
        grid = plans["grid_scan"]([dev["det2"]], dev["motor1"], -1, 1, 3, dev["motor2"], -1, 1, 3)
        (grid_uid,) = RE(with_peak_stats(grid))
        with pytest.raises(RuntimeError, match="beam went away"):
            RE(with_peak_stats(fails_midway()))
    stops = docs.of("stop")
    assert stops[0]["num_events"] == {"primary": 9}  # a grid: no statistics along one axis
    assert stops[1]["num_events"] == {"primary": 3}  # failed before close_run: no statistics
    assert stops[1]["exit_status"] == "fail" and "beam went away" in stops[1]["reason"]
    assert len(catalog[grid_uid]["primary"].columns(["det2"])["det2"]) == 9
    failed = catalog[stops[1]["run_start"]]
    assert list(failed["primary"].columns(["det"])["det"]) == pytest.approx(
        [0.607, 1, 0.607], abs=1e-3
    )
