"""summarize_plan and check_limits, without hardware or RunEngine; the sim motors' speeds."""

from __future__ import annotations

import asyncio

import pytest

from cielo import Msg, RunEngine
from cielo.core import LimitError, hookimpl, make_plugin_manager
from cielo.plans import (
    SIMULATIONS,
    check_limits,
    move_duration,
    simulate_plan,
    simulated_by,
    summarize_plan,
)


def test_summary_of_a_grid_scan_with_velocities_and_count_times(env):
    m1, m2, det2 = (env.devices[n] for n in ("motor1", "motor2", "det2"))
    m1.set(0.0).wait(5)
    m2.set(0.0).wait(5)
    m1.velocity.set(2.0).wait(5)
    m1.acceleration.set(4.0).wait(5)
    det2.count_time.set(0.1).wait(5)
    try:
        plan = env.plans["grid_scan"]([det2], m1, -1, 1, 3, m2, 0, 1, 2, snake_axes=True)
        summary = summarize_plan(plan)
    finally:
        m1.velocity.set(0.0).wait(5)
        m1.acceleration.set(0.0).wait(5)
        det2.count_time.set(0.0).wait(5)
    assert summary.num_points == 6
    assert summary.targets("motor1") == [-1.0, 0.0, 1.0]
    assert summary.targets("motor2") == [0.0, 1.0, 0.0, 1.0]
    # three 1-unit moves of motor1 (0.5 s + 0.5 s ramps each) and six 0.1 s counts
    expected = 3 * move_duration(1.0, 2.0, 4.0) + 6 * 0.1
    assert summary.duration == pytest.approx(expected)
    assert summary.runs[0]["plan_name"] == "grid_scan"
    text = str(summary)
    assert "primary: 6" in text and "motor1: 3 moves from -1 to 1" in text
    assert "estimated duration" in text


def test_move_duration_profiles():
    assert move_duration(1.0, None, None) == 0
    assert move_duration(2.0, 1.0, None) == 2.0
    assert move_duration(0.1, 1.0, 1.0) == pytest.approx(2 * (0.1) ** 0.5)


def test_check_limits_lists_every_violation(env):
    motor, det = env.devices["motor"], env.devices["det"]
    motor.limits = (-1.0, 1.0)
    try:
        assert check_limits(env.plans["scan"]([det], motor, -1, 1, num=5)).num_points == 5
        with pytest.raises(LimitError, match=r"2 of \d+ moves.*\n.*-> -2\.0.*\n.*-> 2\.0"):
            check_limits(env.plans["scan"]([det], motor, -2, 2, num=3))
    finally:
        motor.limits = None


def test_check_limits_with_plain_limits_attribute():
    class Stage:
        name = "stage"
        limits = (0, 10)

        def set(self, value):
            pass

    with pytest.raises(LimitError, match=r"stage -> 11 is outside \[0.0, 10.0\]"):
        check_limits([Msg("set", Stage(), 5), Msg("set", Stage(), 11)])


def test_simulate_stops_endless_plans_and_answers_input(env):
    det = env.devices["det"]
    summary = simulate_plan(env.plans["count"]([det], num=None), max_messages=100)
    assert summary.num_points > 5 and summary.truncated
    assert "may run forever" in str(summary)
    seen: list[str] = []

    def asking():
        seen.append((yield Msg("input", prompt="?")))
        seen.append((yield Msg("input", prompt="?")))

    simulate_plan(asking(), inputs=["yes"])
    assert seen == ["yes", "q"]


def test_cli_plan_show_prints_docs_and_the_profiles_schema(capsys, tmp_path, monkeypatch):
    import json

    from cielo.cli import main

    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path))
    assert main(["plan", "show", "--profile", "sim", "rel_grid_scan"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("rel_grid_scan(detectors: Sequence[Readable], *args")
    assert "Parameters\n----------\ndetectors\n" in out and "Examples" in out

    assert main(["plan", "show", "--json", "tune_centroid"]) == 0
    props = json.loads(capsys.readouterr().out)["properties"]
    assert "motor" in props["motor"]["enum"] and "det" not in props["motor"]["enum"]
    assert {"det", "det2"} <= set(props["detectors"]["items"]["enum"])

    assert main(["plan", "show", "tune_centroids"]) == 1
    assert "did you mean 'tune_centroid'?" in capsys.readouterr().err


# -- commands are simulated through the registry of simulations -----------------------


class SettlePlugin:
    """A plugin's command, with its simulation: ``settle`` waits ``seconds`` and replies."""

    @hookimpl
    def cielo_msg_commands(self):
        @simulated_by(lambda sim, msg: sim.advance(msg.args[0]) or "settled (simulated)")
        async def settle(ctx, msg):
            await asyncio.sleep(msg.args[0])
            return "settled"

        def flash(ctx, msg):  # no simulation given
            return "flashed"

        return {"settle": settle, "flash": flash}


def settle_plan(replies):
    replies.append((yield Msg("settle", None, 0.01)))
    replies.append((yield Msg("flash", None)))
    yield Msg("sleep", None, 1.0)


def test_a_plugins_command_is_simulated_through_its_registered_simulation():
    pm = make_plugin_manager(autoload=False, bundled=(), plugins=[("settler", SettlePlugin())])
    replies: list[str] = []
    summary = simulate_plan(settle_plan(replies), plugin_manager=pm)
    assert replies == ["settled (simulated)", None]
    assert summary.duration == pytest.approx(1.01)
    assert summary.unsimulated == {"flash": 1}
    assert "not simulated (replied None): flash (1)" in str(summary)
    # without the plugin manager the command is unknown: counted, not simulated
    assert simulate_plan(settle_plan([])).unsimulated == {"settle": 1, "flash": 1}
    # the same handlers run for real in a RunEngine built with that plugin manager
    replies.clear()
    with RunEngine(plugin_manager=pm, scan_id_file=None) as RE:
        RE(settle_plan(replies))
    assert replies == ["settled", "flashed"]


def test_every_built_in_command_of_the_engine_has_a_simulation():
    with RunEngine(scan_id_file=None) as RE:
        assert sorted(set(RE.commands) - set(SIMULATIONS)) == []
