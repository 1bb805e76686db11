"""Peak statistics agree with scipy on known Gaussian data."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import ndimage, signal

from cielo.callbacks import PeakStats, PeakStatsCollector, compute_peak_stats, replay

CENTER, SIGMA, AMP, BG = 0.37, 0.42, 250.0, 3.0


def gauss(x):
    return BG + AMP * np.exp(-((x - CENTER) ** 2) / (2 * SIGMA**2))


def test_gaussian_against_scipy():
    x = np.linspace(-3, 3, 121)
    y = gauss(x)
    stats = compute_peak_stats(x, y)
    dx = x[1] - x[0]
    # centre of mass: scipy's, on the background-subtracted curve, mapped to x
    (com_index,) = ndimage.center_of_mass(y - y.min())
    assert stats.com == pytest.approx(x[0] + com_index * dx, abs=1e-9)
    # FWHM: scipy's peak_widths at half height, in x units
    peak = int(np.argmax(y))
    widths, _, left, right = signal.peak_widths(y, [peak], rel_height=0.5)
    assert stats.fwhm == pytest.approx(widths[0] * dx, rel=1e-3)
    assert stats.cen == pytest.approx(x[0] + (left[0] + right[0]) / 2 * dx, abs=1e-3)
    # and the truth
    assert stats.fwhm == pytest.approx(2 * math.sqrt(2 * math.log(2)) * SIGMA, rel=2e-3)
    assert stats.cen == pytest.approx(CENTER, abs=2e-3)
    assert stats.com == pytest.approx(CENTER, abs=5e-3)
    assert stats.max == (x[peak], y[peak])
    assert stats.min[1] == pytest.approx(y.min())
    assert len(stats.crossings) == 2 and stats.n == 121


def test_unsorted_and_nonfinite_points_are_handled():
    x = np.linspace(-3, 3, 61)
    y = gauss(x)
    order = np.random.default_rng(0).permutation(len(x))
    xs, ys = x[order].tolist() + [np.nan], y[order].tolist() + [1.0]
    assert compute_peak_stats(xs, ys).cen == pytest.approx(compute_peak_stats(x, y).cen)


def test_derivative_finds_an_edge():
    from scipy.special import erf

    x = np.linspace(-2, 2, 81)
    y = 10 + 50 * (1 + erf((x - 0.25) / 0.2)) / 2
    stats = compute_peak_stats(x, y, derivative=True)
    assert stats.derivative is not None
    assert stats.derivative.cen == pytest.approx(0.25, abs=0.01)
    assert stats.derivative.max[0] == pytest.approx(0.25, abs=0.03)
    flat = stats.as_dict()
    assert flat["derivative_cen"] == stats.derivative.cen and flat["fwhm"] is stats.fwhm


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match=r"shapes \(3,\) and \(2,\)"):
        compute_peak_stats([1, 2, 3], [1, 2])


def test_empty_and_unbracketed():
    assert compute_peak_stats([], []).n == 0
    half = compute_peak_stats([0, 1, 2], [0, 1, 2])
    assert math.isnan(half.fwhm) and half.max == (2.0, 2.0)


def test_callback_live_and_final(docs):
    x = np.linspace(-2, 2, 41)
    run = docs.step_run(x, func=gauss)
    ps = PeakStats()
    for i, (name, doc) in enumerate(run):
        ps(name, doc)
        if i == 12:  # during the run: statistics of the points so far
            assert ps.stats["det"].n == 11
    assert ps.x_key == "motor" and list(ps.results) == ["det"]
    assert ps.results["det"].cen == pytest.approx(CENTER, abs=0.01)
    assert ps.results["det"] == compute_peak_stats(x, gauss(x))


def test_count_uses_seq_num(docs):
    ps = PeakStats("det")
    replay(docs.step_run(range(5), motor="", plan_name="count"), ps)
    assert ps.x_key == "seq_num" and ps.results["det"].n == 5


def test_collector_keeps_results_per_run_and_sidecar(docs, tmp_path):
    coll = PeakStatsCollector(sidecar=str(tmp_path / "{scan_id}-{uid}.json"))
    a = docs.step_run(np.linspace(-2, 2, 21), func=gauss)
    b = docs.step_run(np.linspace(-2, 2, 21), func=lambda x: gauss(x - 0.5))
    replay(a + b, coll)
    ua, ub = a[0][1]["uid"], b[0][1]["uid"]
    assert coll.results[ua]["det"].cen == pytest.approx(CENTER, abs=0.01)
    assert coll.results[ub]["det"].cen == pytest.approx(CENTER + 0.5, abs=0.01)
    assert coll.last is coll.results[ub]
    sidecar = json.loads((tmp_path / f"{b[0][1]['scan_id']}-{ub}.json").read_text())
    assert sidecar["run_start"] == ub and sidecar["x"] == "motor"
    assert sidecar["stats"]["det"]["cen"] == pytest.approx(coll.results[ub]["det"].cen)


def test_collector_current_during_run(docs):
    coll = PeakStatsCollector()
    run = docs.step_run(np.linspace(-2, 2, 21), func=gauss)
    replay(run[:10], coll)
    assert coll.current()["det"].n == 8
    assert coll.last is None


def test_collector_skips_grids_unless_x_is_given(docs):
    """A grid's points do not lie along one axis: no statistics (nor a printed summary)."""
    import io

    out = io.StringIO()
    coll = PeakStatsCollector(out=out)
    replay(docs.grid_run(), coll)
    assert coll.results == {} and out.getvalue() == ""
    coll = PeakStatsCollector(x="motor2", y="det2")
    run = docs.grid_run()
    replay(run, coll)
    assert coll.last is not None and coll.last["det2"].n == 35


def test_report_prints_rounding_noise_at_zero_as_zero():
    # a symmetric scan over a centred peak: the centroid is 0 up to float noise (~1e-17)
    from cielo.callbacks import compute_peak_stats, format_peak_stats

    x = np.linspace(-4, 4, 41)
    stats = compute_peak_stats(x, np.exp(-(x**2) / 2))
    line = format_peak_stats({"det": stats}, x="motor")
    assert line.startswith("peak stats of det vs motor: cen=0 com=0 "), line
    shifted = compute_peak_stats(x + 1e-6, np.exp(-(x**2) / 2))  # a real offset stays
    assert "cen=1e-06" in format_peak_stats({"det": shifted}, x="motor")


FWHM_PER_SIGMA = 2 * math.sqrt(2 * math.log(2))


def test_a_scan_over_the_top_of_a_peak_is_not_bracketed():
    """The quick start's scan (-1..1 over a peak of sigma 1) printed fwhm=1.317 (truth 2.355)."""
    from cielo.callbacks import format_peak_stats

    x = np.linspace(-1, 1, 11)
    stats = compute_peak_stats(x, np.exp(-(x**2) / 2))
    assert not stats.bracketed and "steeply" in stats.note
    assert math.isnan(stats.fwhm) and math.isnan(stats.cen) and math.isnan(stats.com)
    assert stats.max == (pytest.approx(0.0), 1.0)
    line = format_peak_stats({"det": stats}, x="motor")
    assert line == (
        "peak stats of det vs motor: max=1 at 0; not bracketed "
        "(the signal is still falling steeply at the low end of the scan)\n"
    )
    assert stats.as_dict()["bracketed"] == 0


def test_half_a_peak_reports_no_centre():
    """rel_scan from the peak outwards: the centre came from a single crossing (cen=0.82)."""
    x = np.linspace(0, 2, 11)
    stats = compute_peak_stats(x, np.exp(-(x**2) / 2))
    assert not stats.bracketed and stats.note == "the maximum is at the low end of the scan"
    assert math.isnan(stats.cen) and math.isnan(stats.com)
    x = np.linspace(-0.2, 2, 12)  # the maximum inside, but one side never falls
    stats = compute_peak_stats(x, np.exp(-(x**2) / 2))
    assert not stats.bracketed and "half maximum at the low side" in stats.note


@pytest.mark.parametrize(
    ("half_range", "num", "rel"), [(2.5, 11, 0.06), (3, 11, 0.03), (3, 5, 0.1), (5, 101, 0.01)]
)
def test_a_bracketed_peak_gets_its_centre_and_width(half_range, num, rel):
    x = np.linspace(-half_range, half_range, num) + 0.3
    stats = compute_peak_stats(x, 7 + 50 * np.exp(-((x - 0.3) ** 2) / 2))
    assert stats.bracketed, stats.note
    assert stats.cen == pytest.approx(0.3, abs=1e-9)
    # the half maximum is taken above the lowest point (a short range narrows it a little)
    # and interpolated linearly between points (coarse steps widen it)
    assert stats.fwhm == pytest.approx(FWHM_PER_SIGMA, rel=rel)


def test_noisy_flat_tails_still_bracket_a_peak():
    rng = np.random.default_rng(1)
    x = np.linspace(-6, 6, 241)
    y = 100 * np.exp(-(x**2) / 2) + rng.normal(0, 2, x.size)
    stats = compute_peak_stats(x, y)
    assert stats.bracketed, stats.note
    assert stats.fwhm == pytest.approx(FWHM_PER_SIGMA, rel=0.05)


def test_collector_skips_a_count(docs):
    """A count has no axis: no statistics, no `cen=nan` line per field (motors included)."""
    import io

    out = io.StringIO()
    coll = PeakStatsCollector(out=out)
    replay(docs.step_run(range(5), motor="", plan_name="count"), coll)
    assert coll.results == {} and out.getvalue() == ""
    coll = PeakStatsCollector(x="seq_num")  # asked for explicitly: computed
    replay(docs.step_run(range(5), motor="", plan_name="count"), coll)
    assert coll.last is not None and coll.last["det"].n == 5
