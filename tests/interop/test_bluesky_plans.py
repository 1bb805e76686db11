"""cielo's standard plans move motors exactly where Bluesky's plans of the same name do.

Both plans are driven by the same stand-in for a RunEngine
(:func:`cielo.plans.simulate_plan`) with ophyd's simulated motors and detectors; the
sequences of ``set`` targets are compared point by point.
"""

from __future__ import annotations

import math
from typing import Any

import bluesky.plans as bp
import numpy as np
import pytest
from cycler import cycler
from ophyd.sim import SynAxis, SynGauss

from cielo.plans import Trajectory, simulate_plan
from cielo.plugins.fly import fly
from cielo.plugins.scans import PLANS
from cielo.testing import make_run_engine

pytestmark = pytest.mark.interop


@pytest.fixture
def devices() -> dict[str, Any]:
    mx = SynAxis(name="mx")
    my = SynAxis(name="my")
    mx.set(0.25)
    my.set(-0.5)
    det = SynGauss("det", mx, "mx", center=0.3, Imax=1, sigma=0.4)
    return {"mx": mx, "my": my, "det": det}


def gaussian_readings(obj: Any, positions: dict[str, Any]) -> dict[str, Any] | None:
    """A detector reading a Gaussian of mx (so adaptive plans have something to follow)."""
    if obj.name == "det":
        x = positions.get("mx", 0.0)
        return {"det": {"value": math.exp(-((x - 0.3) ** 2) / (2 * 0.4**2)), "timestamp": 0.0}}
    return None


def targets(plan: Any, **kwargs: Any) -> list[tuple[str, Any]]:
    summary = simulate_plan(plan, readings=gaussian_readings, **kwargs)
    return [(m.device, m.target) for m in summary.moves]


def assert_same(ours: list[tuple[str, Any]], theirs: list[tuple[str, Any]]) -> None:
    assert [d for d, _ in ours] == [d for d, _ in theirs]
    assert len(ours) > 0
    np.testing.assert_allclose(
        np.array([float(t) for _, t in ours]),
        np.array([float(t) for _, t in theirs]),
        rtol=1e-12,
        atol=1e-12,
    )


def _cases(d: dict[str, Any]) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    mx, my, det = d["mx"], d["my"], d["det"]
    return [
        ("scan", ([det], mx, -1, 1), {"num": 7}),
        ("scan", ([det], mx, -1, 1, my, 2, 3), {"num": 4}),
        ("rel_scan", ([det], mx, -1, 1), {"num": 5}),
        ("inner_product_scan", ([det], 5, mx, 0, 1, my, 3, 2), {}),
        ("list_scan", ([det], mx, [1, 3, 2], my, [0, -1, 4]), {}),
        ("rel_list_scan", ([det], mx, [1, 3, 2]), {}),
        ("log_scan", ([det], mx, -2, 1, 6), {}),
        ("rel_log_scan", ([det], mx, -1, 0, 4), {}),
        ("grid_scan", ([det], mx, -1, 1, 3, my, 0, 2, 4), {}),
        ("grid_scan", ([det], mx, -1, 1, 3, my, 0, 2, 4), {"snake_axes": True}),
        ("grid_scan", ([det], mx, -1, 1, 3, my, 0, 2, 4), {"snake_axes": [my]}),
        ("grid_scan", ([det], mx, -1, 1, 3, my, 0, 2, 4, True), {}),
        ("rel_grid_scan", ([det], mx, -1, 1, 3, my, 0, 2, 2), {"snake_axes": True}),
        ("list_grid_scan", ([det], mx, [1, 2, 3], my, [5, 4]), {}),
        ("list_grid_scan", ([det], mx, [1, 2, 3], my, [5, 4]), {"snake_axes": True}),
        ("rel_list_grid_scan", ([det], mx, [1, 2], my, [5, 4, 3]), {"snake_axes": True}),
        ("spiral", ([det], mx, my, 0.1, 0.2, 1.0, 1.5, 0.2, 5), {}),
        ("spiral", ([det], mx, my, 0, 0, 1.0, 1.5, 0.2, 5), {"dr_y": 0.3, "tilt": 0.2}),
        ("rel_spiral", ([det], mx, my, 1.0, 1.5, 0.2, 5), {}),
        ("spiral_fermat", ([det], mx, my, 0.1, 0.2, 1.0, 1.5, 0.2, 2.0), {}),
        ("rel_spiral_fermat", ([det], mx, my, 1.0, 1.5, 0.2, 2.0), {"tilt": 0.3}),
        ("spiral_square", ([det], mx, my, 0.1, 0.2, 1.0, 1.5, 5, 4), {}),
        ("spiral_square", ([det], mx, my, 0, 0, 2.0, 2.0, 6, 7), {}),
        ("rel_spiral_square", ([det], mx, my, 1.0, 1.5, 4, 4), {}),
        ("adaptive_scan", ([det], "det", mx, -1, 1, 0.01, 0.3, 0.05, True), {}),
        ("adaptive_scan", ([det], "det", mx, -1, 1, 0.01, 0.3, 0.05, False), {}),
        ("rel_adaptive_scan", ([det], "det", mx, -1, 1, 0.01, 0.3, 0.05, True), {}),
        ("tune_centroid", ([det], "det", mx, -1, 1, 0.02, 8), {}),
        ("tune_centroid", ([det], "det", mx, -1, 1, 0.02, 8, 2.5, True), {}),
    ]


CASE_IDS = [
    f"{name}-{i}" for i, (name, _, _) in enumerate(_cases({"mx": None, "my": None, "det": None}))
]


@pytest.mark.parametrize("index", range(len(CASE_IDS)), ids=CASE_IDS)
def test_set_targets_match_bluesky(devices, index):
    name, args, kwargs = _cases(devices)[index]
    theirs = targets(getattr(bp, name)(*args, **kwargs))
    ours = targets(PLANS[name](*args, **kwargs))
    assert_same(ours, theirs)


def test_every_shared_plan_is_compared():
    compared = {name for name, _, _ in _cases({"mx": None, "my": None, "det": None})}
    extra = {"count", "scan_nd", "tweak", "ramp_plan"}  # compared below / not step patterns
    shared = {name for name in PLANS if hasattr(bp, name)}
    assert shared - compared - extra == set()


def test_scan_nd_with_cycler_matches(devices):
    mx, my, det = devices["mx"], devices["my"], devices["det"]
    cyc = cycler(mx, [1, 2, 3]) * (cycler(my, [4, 5]) + cycler(devices["det"].Imax, [1, 2]))
    theirs = targets(bp.scan_nd([det], cyc))
    ours = targets(PLANS["scan_nd"]([det], Trajectory.from_cycler(cyc)))
    assert_same(ours, theirs)


def test_count_matches(devices):
    det = devices["det"]
    ours = simulate_plan(PLANS["count"]([det], num=4, delay=0.5))
    theirs = simulate_plan(bp.count([det], num=4, delay=0.5))
    assert ours.events == theirs.events
    assert ours.reads == theirs.reads
    # three gaps of 0.5 s (Bluesky also sleeps after the last reading); Bluesky's count
    # subtracts the wall-clock time each reading took from its sleep, so on a loaded
    # machine its simulated total comes out a little short of 2 s
    assert ours.duration == pytest.approx(1.5, abs=0.05)
    assert 1.6 < theirs.duration <= 2.05


def test_tweak_matches(devices):
    mx, det = devices["mx"], devices["det"]
    answers = ["", "0.5", "", "q"]
    theirs = targets(bp.tweak(det, "det", mx, 0.1), inputs=answers)
    ours = targets(PLANS["tweak"](det, "det", mx, 0.1), inputs=answers)
    assert_same(ours, theirs)


def test_fly_matches(devices):
    from ophyd.sim import MockFlyer
    from ophyd.sim import SynAxis as Axis

    flyer = MockFlyer("flyer", devices["det"], Axis(name="fx"), 0, 1, 5)
    ours = [m.command for m in simulate_plan(fly([flyer])).messages]
    theirs = [m.command for m in simulate_plan(bp.fly([flyer])).messages]
    assert [c for c in ours if c != "wait"] == [c for c in theirs if c != "wait"]


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("scan", {"num": 5}),
        ("rel_scan", {"num": 3}),
        ("grid_scan", {"snake_axes": True}),
        ("list_scan", {}),
        ("spiral_square", {}),
    ],
)
def test_on_cielos_runengine_with_ophyd_devices(name, extra, validate):
    """Bluesky's plan and cielo's, run on cielo's RunEngine: the same events' motor columns."""

    def columns(make_plan: Any) -> list[tuple[float, float]]:
        mx, my = SynAxis(name="mx"), SynAxis(name="my")
        mx.set(0.5)
        det = SynGauss("det", mx, "mx", center=0, Imax=1, sigma=1)
        events: list[dict[str, Any]] = []
        with make_run_engine() as RE:
            RE.subscribe(lambda n, d: (validate(n, d), events.append(d) if n == "event" else 0))
            RE(make_plan(det, mx, my))
        return [(e["data"]["mx"], e["data"].get("my")) for e in events]

    args = {
        "scan": lambda det, mx, my: ([det], mx, -1, 1, my, 0, 2),
        "rel_scan": lambda det, mx, my: ([det], mx, -1, 1),
        "grid_scan": lambda det, mx, my: ([det], mx, -1, 1, 3, my, 0, 1, 2),
        "list_scan": lambda det, mx, my: ([det], mx, [3, 1, 2], my, [0, 5, 1]),
        "spiral_square": lambda det, mx, my: ([det], mx, my, 0, 0, 1, 1, 3, 3),
    }[name]
    theirs = columns(lambda det, mx, my: getattr(bp, name)(*args(det, mx, my), **extra))
    ours = columns(lambda det, mx, my: PLANS[name](*args(det, mx, my), **extra))
    assert len(ours) > 2
    assert ours == theirs


def _start_of(make_plan: Any) -> dict[str, Any]:
    mx, my = SynAxis(name="mx"), SynAxis(name="my")
    mx.set(0.25)
    my.set(-0.5)
    det = SynGauss("det", mx, "mx", center=0.3, Imax=1, sigma=0.4)
    starts: list[dict[str, Any]] = []
    with make_run_engine() as RE:
        RE.subscribe(lambda n, d: starts.append(d) if n == "start" else None)
        RE(make_plan({"mx": mx, "my": my, "det": det}))
    return starts[0]


@pytest.mark.parametrize("index", range(len(CASE_IDS)), ids=CASE_IDS)
def test_run_start_has_what_bluesky_records(index):
    """Every key Bluesky's plan puts in the run start is in cielo's too, with the same
    counts, pattern and grid shape, so code reading Bluesky's metadata reads cielo's."""

    def make(plans: Any) -> Any:
        def build(d: dict[str, Any]) -> Any:
            name, args, kwargs = _cases(d)[index]
            return plans(name)(*args, **kwargs)

        return build

    name = _cases({"mx": None, "my": None, "det": None})[index][0]
    theirs = _start_of(make(lambda n: getattr(bp, n)))
    ours = _start_of(make(lambda n: PLANS[n]))
    assert set(theirs) - set(ours) == set()
    for key in ("plan_name", "detectors", "num_points", "num_intervals"):
        assert ours.get(key) == theirs.get(key), key
    if name != "spiral_square" and name != "rel_spiral_square":
        # Bluesky records "spiral_square" (no such function in its plan_patterns);
        # cielo records the pattern function it used, spiral_square_pattern
        assert ours.get("plan_pattern") == theirs.get("plan_pattern")
    if "shape" in theirs:
        shape = list(theirs["shape"])
        if "spiral_square" in name:  # Bluesky lists y first; cielo x first, as its motors
            shape = shape[::-1]
        assert ours["shape"] == shape


def test_supplemental_flyers_with_ophyds_old_style_flyer(validate):
    """An ophyd flyer naming its own streams (describe_collect -> {stream: keys}) flies
    during every plan when SupplementalData is in the engine's preprocessors."""
    from ophyd.sim import MockFlyer

    from cielo.plans import SupplementalData, run_wrapper, trigger_and_read

    mx = SynAxis(name="mx")
    det = SynGauss("det", mx, "mx", center=0, Imax=1, sigma=1)
    flyer = MockFlyer("mflyer", det, SynAxis(name="fx"), 0, 1, 5)
    stops: list[dict[str, Any]] = []
    with make_run_engine() as RE:
        RE.subscribe(lambda n, d: (validate(n, d), stops.append(d) if n == "stop" else 0))
        RE.preprocessors.append(SupplementalData(flyers=[flyer]))
        RE(run_wrapper(trigger_and_read([det])))
    assert stops[0]["exit_status"] == "success"
    assert stops[0]["num_events"] == {"primary": 1, "mflyer": 5}
