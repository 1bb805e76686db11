"""agent_scan: an agent steers a run on the sim beamline; safety checks before every move."""

from __future__ import annotations

import pytest

from cielo.adaptive import Agent, AgentPointError, GoldenSectionAgent, agent_scan
from cielo.core import PlanParameterError
from cielo.devices.sim import SimMotor, SimPeakDetector
from cielo.plans import simulate_plan


class Scripted:
    """An agent that asks for a fixed list of points, one at a time."""

    def __init__(self, points):
        self.points, self.told = list(points), []

    def ask(self, n):
        return self.points[:n], {}

    def tell(self, x, y):
        self.points.pop(0)
        self.told.append((x, y))

    def report(self):
        return {"told": len(self.told)}


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
    result = RE(agent_scan([det], [motor], agent, ["peak"]))
    xs = docs.column("motor")
    assert agent.report()["best_x"] == pytest.approx(0.8, abs=0.02)
    assert len(xs) == len(agent.history) < 30
    assert result.plan_result["stopped_by"] == "agent"
    assert result.plan_result["points"] == len(xs)
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
    with pytest.raises(PlanParameterError, match=r"bounds given for \['motor9'\]"):
        list(
            agent_scan([det], [motor], GoldenSectionAgent(0, 1), ["det"], bounds={"motor9": (0, 1)})
        )
    with pytest.raises(AgentPointError, match="there are 1 motors"):
        simulate_plan(agent_scan([det], [motor], Scripted([(1.0, 2.0)]), ["det"]))


def test_a_point_outside_the_bounds_fails_the_run_before_the_motor_moves(RE, docs):
    motor = SimMotor(name="m")
    det = SimPeakDetector([motor], name="d")
    agent = Scripted([0.5, 1.0, 7.0, 0.0])
    with pytest.raises(AgentPointError, match=r"m = 7.0, outside its bounds \[-2.0, 2.0\]"):
        RE(agent_scan([det], [motor], agent, ["d"], bounds={"m": (-2, 2)}))
    assert motor.position == 1.0  # the last good point; 7 was never sent
    assert [x for x, _ in agent.told] == [0.5, 1.0]
    assert docs.stop["exit_status"] == "fail" and "outside its bounds" in docs.stop["reason"]
    assert docs.column("m") == [0.5, 1.0]


def test_the_motors_own_soft_limits_are_checked_and_so_is_nonsense(RE, docs):
    motor = SimMotor(name="m", limits=(-1, 1))
    det = SimPeakDetector([motor], name="d")
    with pytest.raises(AgentPointError, match=r"outside its soft limits \[-1.0, 1.0\]"):
        RE(agent_scan([det], [motor], Scripted([0.2, -1.5]), ["d"]))
    assert motor.position == 0.2
    with pytest.raises(AgentPointError, match="nan for m: not a finite number"):
        RE(agent_scan([det], [motor], Scripted([float("nan")]), ["d"]))
    with pytest.raises(AgentPointError, match="'left' for m, which is not a number"):
        RE(agent_scan([det], [motor], Scripted(["left"]), ["d"]))


def test_budget_and_stop_criterion_end_the_scan(RE):
    motor = SimMotor(name="m")
    det = SimPeakDetector([motor], name="d", center=0.3)
    endless = Scripted([0.1 * i for i in range(50)])
    result = RE(agent_scan([det], [motor], endless, ["d"], max_points=7, batch=3))
    assert result.plan_result == {"told": 7, "points": 7, "stopped_by": "max_points"}
    agent = GoldenSectionAgent(-3, 3, tolerance=1e-9)
    result = RE(
        agent_scan([det], [motor], agent, ["d"], stop_when=lambda report: report["best_y"] > 0.99)
    )
    assert result.plan_result["stopped_by"] == "stop_when"
    assert agent.history[-1][1] > 0.99 and all(y <= 0.99 for _, y in agent.history[:-1])
