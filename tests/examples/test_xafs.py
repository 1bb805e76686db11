"""The example plugin's XAFS scan: regions, k-space conversion, repeats, metadata, schema."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import cielo
from cielo.core import PlanParameterError, bind_parameters, signature_schema
from cielo.plans import summarize_plan
from cielo.testing import make_run_engine

xafs = pytest.importorskip("cielo_example_beamline.xafs")
PROFILE = (
    Path(__file__).parents[2]
    / "examples/beamline_plugin/cielo_example_beamline/profiles/example_beamline.toml"
)


def test_regions_in_energy_and_k():
    points = xafs.xafs_energies(7112.0, [-20, 0, "3k"], [10, "1k"], [1.0, 2.0])
    energies = [e for e, _ in points]
    assert energies[:3] == [7092.0, 7102.0, 7112.0]
    # k = 1, 2, 3 Å⁻¹ above the edge: E = E0 + 3.80998 k²
    assert energies[3:] == pytest.approx([7112 + 3.80998 * k * k for k in (1, 2, 3)])
    assert [t for _, t in points] == [1.0, 1.0, 2.0, 2.0, 2.0, 2.0]
    # k steps are even in k, so the energy steps grow
    steps = [b - a for a, b in zip(energies[3:], energies[4:], strict=False)]
    assert steps[0] < steps[1]


def test_default_regions_are_bmms_and_end_at_15k():
    points = xafs.xafs_energies(7112.0, xafs.DEFAULT_BOUNDS, xafs.DEFAULT_STEPS, xafs.DEFAULT_TIMES)
    assert xafs.DEFAULT_BOUNDS == (-200.0, -30.0, -10.0, 15.5, "15k")
    last = points[-1][0]
    assert last == pytest.approx(7112 + xafs.ETOK * 225)
    k_start = math.sqrt(15.5 / xafs.ETOK)
    exafs = [(e, t) for e, t in points if e >= 7112 + 15.5]
    assert len(exafs) == pytest.approx((15 - k_start) / 0.05 + 1, abs=1)  # both ends
    # "0.25k": each EXAFS point counts 0.25 s x k, so 3.75 s at k = 15
    assert [t for _, t in exafs[:1] + exafs[-1:]] == pytest.approx([0.25 * k_start, 0.25 * 15])


def test_k_weighted_time_below_the_edge_is_refused():
    with pytest.raises(PlanParameterError, match="parameter times: region 1 starts below the edge"):
        xafs.xafs_energies(7112.0, [-20, 0], [1], ["0.5k"])


def test_summary_checks_as_the_plan_does():
    summary = xafs.xafs_summary(
        ["i0"], "mono", 7112.0, [-20, 0, "3k"], [10, "1k"], [1, 2], repeats=3
    )
    assert summary["points"] == 6 and summary["counting_s"] == pytest.approx(3 * (2 * 1 + 4 * 2))
    assert summary["text"].startswith("6 points per scan")
    with pytest.raises(PlanParameterError, match="parameter start: 0 must be at least 1"):
        xafs.xafs_summary(["i0"], "mono", 7112.0, start=0)


@pytest.mark.parametrize(
    ("bounds", "steps", "times", "pattern"),
    [
        ([-20, 0], [1, 2], [1], "1 regions, but got 2 steps"),
        ([0, -20], [1], [1], "parameter bounds: must increase"),
        ([-20, "10k"], ["0.1k"], [1], "starts below the edge"),
        ([-20, "ten"], [1], [1], "neither a number"),
        ([-20, 0], [0], [1], "must be positive"),
    ],
)
def test_bad_regions_are_refused(bounds, steps, times, pattern):
    with pytest.raises(PlanParameterError, match=pattern):
        xafs.xafs_energies(7112.0, bounds, steps, times)


def test_schema_lists_like_the_bundled_plans():
    schema = signature_schema(xafs.xafs_scan)
    jsonschema.Draft202012Validator.check_schema(schema)
    props = schema["properties"]
    assert props["mode"]["enum"] == ["transmission", "fluorescence", "both", "reference"]
    assert props["energy"]["x-cielo-device"] == "Movable"
    assert props["bounds"]["default"][-1] == "15k"
    assert schema["required"] == ["detectors", "energy", "e0"]
    jsonschema.validate(
        {
            "detectors": ["i0"],
            "energy": "mono",
            "e0": 7112,
            "bounds": [-30, 0, "5k"],
            "steps": [5, "0.5k"],
            "times": [1, 1],
            "mode": "both",
        },
        schema,
    )


@pytest.fixture
def example_env() -> Any:
    return cielo.load_profile(PROFILE)


def test_listed_in_the_profile_and_bound_from_text(example_env):
    assert example_env.plans["xafs_scan"] is xafs.xafs_scan
    bound = bind_parameters(
        xafs.xafs_scan,
        (["i0"], "mono", 7112.0),
        {"mode": "fluorescence", "repeats": 2},
        example_env.devices,
        what="plan 'xafs_scan'",
    )
    assert bound.arguments["energy"] is example_env.devices["mono"]
    with pytest.raises(PlanParameterError, match="'mode'.*did you mean 'fluorescence'"):
        bind_parameters(
            xafs.xafs_scan,
            (["i0"], "mono", 7112.0),
            {"mode": "fluorescense"},
            example_env.devices,
            what="plan 'xafs_scan'",
        )


def test_runs_on_the_example_beamline(example_env, validate):
    docs: list[tuple[str, dict]] = []
    mono, i0 = example_env.devices["mono"], example_env.devices["i0"]
    plan = xafs.xafs_scan(
        [i0],
        mono,
        7112.0,
        bounds=[-30, -5, 10, "4k"],
        steps=[5, 1, "0.5k"],
        times=[0.1, 0.1, 0.2],
        repeats=2,
        element="Fe",
        edge="K",
        sample="foil",
        preparation="as received",
        comment="test",
        mode="transmission",
    )
    with make_run_engine() as RE:
        RE.subscribe(lambda n, d: (validate(n, d), docs.append((n, d))))
        uids = RE(plan)
    assert len(uids) == 2
    starts = [d for n, d in docs if n == "start"]
    assert [s["repeat"] for s in starts] == [1, 2]  # start=1, the default
    for key, value in {
        "element": "Fe",
        "edge": "K",
        "sample": "foil",
        "mode": "transmission",
        "preparation": "as received",
        "comment": "test",
        "e0": 7112.0,
    }.items():
        assert starts[0][key] == value
    events = [d for n, d in docs if n == "event"]
    expected = [
        e
        for e, _ in xafs.xafs_energies(7112.0, [-30, -5, 10, "4k"], [5, 1, "0.5k"], [0.1, 0.1, 0.2])
    ]
    assert len(events) == 2 * len(expected) == 2 * starts[0]["num_points"]
    energies = [e["data"]["mono"] for e in events[: len(expected)]]
    assert energies == pytest.approx(expected)
    above = [e["data"]["i0"] for e in events[: len(expected)]]
    assert above[-1] < above[0], [(e["data"]["mono"], e["data"]["i0"]) for e in events[:5]]  # edge
    assert all(d["exit_status"] == "success" for n, d in docs if n == "stop")


@pytest.fixture
def env(sim_env: Any) -> Any:
    """A fresh sim beamline for each test (cielo.testing's ``sim_env``)."""
    return sim_env


def test_dwell_time_is_set_per_region(env):
    det, motor, dwell = env.devices["det"], env.devices["motor"], env.devices["det"].count_time
    summary = summarize_plan(
        xafs.xafs_scan(
            [det],
            motor,
            100.0,
            bounds=[-10, 0, 10],
            steps=[5, 5],
            times=[0.5, 1.0],
            dwell_time=dwell,
        )
    )
    assert summary.targets(dwell.name) == [0.5, 1.0, 0.0]
    assert summary.targets("motor") == [90.0, 95.0, 100.0, 105.0, 110.0]
    # without dwell_time the detectors' own count_time is set, and the estimate uses it
    summary = summarize_plan(
        xafs.xafs_scan([det], motor, 100.0, bounds=[-10, 0, 10], steps=[5, 5], times=[0.5, 1.0])
    )
    assert summary.targets("det_count_time") == [0.5, 1.0, 0.0]  # restored at the end
    assert summary.duration == pytest.approx(2 * 0.5 + 3 * 1.0)


def test_runs_on_the_sim_beamline(env, validate):
    det, motor = env.devices["det"], env.devices["motor"]
    names: list[str] = []
    with make_run_engine() as RE:
        RE.subscribe(lambda n, d: (validate(n, d), names.append(n)))
        RE(
            env.plans["xafs_scan"](
                [det],
                motor,
                0.0,
                bounds=[-1, 0, "1k"],
                steps=[0.5, "0.5k"],
                times=[0.1, 0.1],
                element="Cu",
                mode="both",
            )
        )
    assert names.count("event") == 5 and names[-1] == "stop"
