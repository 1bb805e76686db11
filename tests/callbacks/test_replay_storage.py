"""The same callbacks consume a run live and replayed from the catalog; analysis is queryable."""

from __future__ import annotations

import io

import pytest

import cielo
from cielo.callbacks import LiveTable, PeakStats, replay
from cielo.devices.sim import SimMotor, SimPeakDetector
from cielo.plugins.fitting import align_on_peak
from cielo.testing import make_run_engine


def test_live_and_replayed_from_sqlite_agree(tmp_path, validate):
    catalog = cielo.open_catalog(f"sqlite:///{tmp_path / 'runs.db'}")
    motor = SimMotor(name="motor")
    det = SimPeakDetector(
        [motor],
        name="det",
        center=0.25,
        sigma=0.4,
        amplitude=500,
        background=10,
        noise="gaussian",
        noise_level=3.0,
        seed=5,
    )
    live_table, live_stats = LiveTable(out=io.StringIO(), width=90), PeakStats()
    with make_run_engine() as RE:
        RE.subscribe(catalog.writer())
        RE.subscribe(live_table)
        RE.subscribe(live_stats)
        RE.subscribe(validate)
        result = RE(align_on_peak(det, motor, -1.5, 2, 29))
    (uid,) = result
    run = catalog[uid]
    stored_table, stored_stats = LiveTable(out=io.StringIO(), width=90), PeakStats()
    for pages in (False, True):
        replay(run.documents(pages=pages), stored_table, stored_stats)
        assert stored_table.out.getvalue() == live_table.out.getvalue()
        assert stored_stats.results == live_stats.results
        stored_table.out = io.StringIO()
    # the fit recorded by the plan is stored with the run and can be read back
    analysis = run["analysis"].columns(
        ["fit_center", "fit_center_stderr", "fit_success", "stats_cen"]
    )
    assert analysis["fit_center"][0] == pytest.approx(result.plan_result.center)
    assert bool(analysis["fit_success"][0]) is True
    assert analysis["stats_cen"][0] == pytest.approx(live_stats.results["det"].cen)
    assert abs(analysis["fit_center"][0] - 0.25) < 4 * analysis["fit_center_stderr"][0]
    assert len(catalog.search(plan_name="align_on_peak")) == 1
    catalog.close()
