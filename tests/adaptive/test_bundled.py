"""The bundled agents, offered by the ``agents`` plugin, each finding a known optimum on
the sim devices through the ``agent_scan`` plan (by name, as the CLI and queue run it)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from cielo.adaptive import GPAgent, PeakFitAgent, UncertaintyMapAgent, is_done
from cielo.cli import main
from cielo.core import PlanParameterError, load_profile, read_profile
from cielo.devices.sim import SimMotor, SimPeakDetector
from cielo.testing import DocumentCollector, make_run_engine


@pytest.fixture
def offset_profile(tmp_path: Path) -> Path:
    """The sim profile with its peaks moved off the origin: det at 0.8, det2 at (0.7, -1.1)."""
    text = Path(read_profile("sim").path).read_text()
    text = text.replace("center = 0.0\nsigma = 1.0", "center = 0.8\nsigma = 0.6", 1)
    text = text.replace("center = [0.0, 0.0]", "center = [0.7, -1.1]", 1)
    path = tmp_path / "offset.toml"
    path.write_text(text)
    return path


def run_by_name(profile: Path, **kwargs):
    env = load_profile(str(profile))
    engine = make_run_engine(plugin_manager=env.pm)
    docs = DocumentCollector(validate=True)
    engine.subscribe(docs)
    try:
        result = engine(env.plans["agent_scan"](**kwargs))
    finally:
        engine.close()
    return env, result.plan_result, docs


def test_the_plugin_offers_the_agents_and_the_plan():
    env = load_profile("sim")
    assert {"golden_section", "peak_fit", "gp", "uncertainty_map"} <= set(env.agents)
    assert "agent_scan" in env.plans


def test_golden_section_by_name_from_the_command_line(offset_profile: Path, capsys):
    text = (
        'agent_scan([det], [motor], "golden_section", "det", '
        'agent_params={"low": -3, "high": 3, "tolerance": 0.06})'
    )
    assert main(["run", "--profile", str(offset_profile), "--quiet", text]) == 0
    env = load_profile(str(offset_profile))
    catalog = env.catalog_backends["sqlite"](env.catalog_uri)
    run = catalog[-1]
    table = run["primary"].columns(["motor", "det"])
    xs, ys = list(table["motor"]), list(table["det"])
    assert run.start["agent"] == "golden_section" and run.stop["exit_status"] == "success"
    assert xs[int(np.argmax(ys))] == pytest.approx(0.8, abs=0.06)  # 1 % of the range
    assert len(xs) <= 14  # a grid at that resolution needs 101


def test_peak_fit_refines_the_peak_with_lmfit(offset_profile: Path):
    pytest.importorskip("lmfit")
    env = load_profile(str(offset_profile))
    _, result, docs = run_by_name(
        offset_profile,
        detectors=[env.devices["det"]],
        motors=[env.devices["motor"]],
        agent="peak_fit",
        target_field="det",
        agent_params={"low": -3, "high": 3, "tolerance": 0.005},
    )
    assert result["stopped_by"] == "agent"
    assert result["center"] == pytest.approx(0.8, abs=0.005)
    assert result["width"] == pytest.approx(0.6, rel=0.01)
    assert result["points"] == len(docs.column("motor")) <= 15


def test_peak_fit_searches_when_the_coarse_pass_misses_a_narrow_peak():
    pytest.importorskip("lmfit")
    agent = PeakFitAgent(-5, 5, n_initial=5, tolerance=0.01)
    peak = lambda x: 0.01 + math.exp(-((x - 1.7) ** 2) / (2 * 0.15**2))  # noqa: E731
    for _ in range(60):
        points, info = agent.ask(1)
        if is_done(points, info):
            break
        agent.tell(points[0], peak(points[0]))
    assert info["done"] and agent.report()["center"] == pytest.approx(1.7, abs=0.01)


def test_gp_finds_the_2d_maximum(offset_profile: Path):
    pytest.importorskip("sklearn")
    env = load_profile(str(offset_profile))
    _, result, docs = run_by_name(
        offset_profile,
        detectors=[env.devices["det2"]],
        motors=[env.devices["motor1"], env.devices["motor2"]],
        agent="gp",
        target_field="det2",
        agent_params={"bounds": [[-3, 3], [-3, 3]]},
        max_points=40,
    )
    assert result["stopped_by"] == "agent"
    assert result["optimum_x"] == pytest.approx((0.7, -1.1), abs=0.06)
    assert len(docs.column("motor1")) <= 40  # a 101 x 101 grid at that resolution


def test_uncertainty_map_reconstructs_a_2d_peak():
    pytest.importorskip("sklearn")
    m1, m2 = SimMotor(name="m1"), SimMotor(name="m2")
    det = SimPeakDetector([m1, m2], name="d", center=[0.5, -0.5], sigma=[0.8, 1.2])
    agent = UncertaintyMapAgent([[-3, 3], [-3, 3]], tolerance=0.05)
    from cielo.adaptive import agent_scan

    engine = make_run_engine()
    try:
        result = engine(agent_scan([det], [m1, m2], agent, ["d"], max_points=80)).plan_result
    finally:
        engine.close()
    assert result["stopped_by"] == "agent"
    grid = np.stack(np.meshgrid(np.linspace(-3, 3, 31), np.linspace(-3, 3, 31)), -1).reshape(-1, 2)
    mean, std = agent.predict(grid)
    truth = np.array([det.ideal(p) for p in grid])
    assert np.abs(mean - truth).max() < 0.1  # the map is right within 10 % of the peak
    assert grid[int(np.argmax(mean))] == pytest.approx((0.5, -0.5), abs=0.21)


def test_a_bad_agent_name_or_parameters_fail_the_run_naming_them(offset_profile: Path):
    env = load_profile(str(offset_profile))
    devices = {"detectors": [env.devices["det"]], "motors": [env.devices["motor"]]}
    with pytest.raises(PlanParameterError, match=r"agent 'golden' is not offered.*golden_section"):
        run_by_name(offset_profile, **devices, agent="golden", target_field="det")
    with pytest.raises(PlanParameterError, match=r"agent 'golden_section' could not be built"):
        run_by_name(offset_profile, **devices, agent="golden_section", target_field="det",
                    agent_params={"low": 3, "high": -3})  # fmt: skip
    with pytest.raises(ValueError, match="one \\[low, high\\] per motor"):
        GPAgent([[1, 0]])
