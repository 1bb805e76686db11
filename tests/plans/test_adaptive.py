"""agent_scan steered by GoldenSectionAgent on the sim beamline; documents validated."""

from __future__ import annotations

import pytest

from cielo.adaptive import Agent, GoldenSectionAgent, agent_scan
from cielo.core import PlanParameterError
from cielo.devices.sim import SimPeakDetector
from cielo.plans import simulate_plan


def test_golden_section_agent_finds_a_maximum():
    agent = GoldenSectionAgent(-2, 4, tolerance=1e-4)
    assert isinstance(agent, Agent)
    for _ in range(100):
        points, info = agent.ask(2)
        if not points:
            break
        for x in points:
            agent.tell(x, -abs(x - 1.3))
    assert info == {"done": True}
    assert agent.report()["best_x"] == pytest.approx(1.3, abs=1e-3)
    assert len(agent.history) < 40  # one new point per step, not a grid
    with pytest.raises(ValueError, match="low < high"):
        GoldenSectionAgent(1, 1)


def test_agent_scan_on_the_runengine_finds_the_peak(env, RE, docs):
    motor = env.devices["motor"]
    det = SimPeakDetector([motor], name="peak", center=0.8, sigma=0.6)
    agent = GoldenSectionAgent(-3, 3, tolerance=0.01)
    RE(agent_scan([det], [motor], agent, ["peak"]))
    xs = docs.column("motor")
    assert agent.report()["best_x"] == pytest.approx(0.8, abs=0.02)
    assert len(xs) == len(agent.history) < 30
    assert docs.start["plan_name"] == "agent_scan" and docs.start["motors"] == ["motor"]
    assert docs.stop["exit_status"] == "success"


def test_agent_scan_limits_points_and_checks_its_inputs(env):
    motor, det = env.devices["motor"], env.devices["det"]
    summary = simulate_plan(
        agent_scan([det], [motor], GoldenSectionAgent(-3, 3, tolerance=1e-9), ["det"], max_points=5)
    )
    assert summary.num_points == 5
    with pytest.raises(PlanParameterError, match="at least one motor"):
        list(agent_scan([det], [], GoldenSectionAgent(0, 1), ["det"]))

    class TwoD:
        def ask(self, n):
            return [(1.0, 2.0)], {}

        def tell(self, x, y):
            pass

        def report(self):
            return {}

    with pytest.raises(PlanParameterError, match="there are 1 motors"):
        simulate_plan(agent_scan([det], [motor], TwoD(), ["det"]))
