"""Every standard plan on the sim beamline's RunEngine; documents validated by event-model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cielo.plans import Trajectory, abs_set, trigger_and_read


def dev(env: Any, *names: str) -> list[Any]:
    return [env.devices[n] for n in names]


def test_count_with_delays(env, RE, docs):
    (det,) = dev(env, "det")
    uids = RE(env.plans["count"]([det], num=3, delay=[0.01, 0.02]))
    assert len(uids) == 1
    start = docs.start
    assert start["plan_name"] == "count" and start["num_points"] == 3
    assert start["hints"]["dimensions"] == [[["time"], "primary"]] or start["hints"][
        "dimensions"
    ] == [(["time"], "primary")]
    assert len(docs.column("det")) == 3
    assert docs.stop["exit_status"] == "success"
    times = [d["time"] for d in docs.of("event")]
    assert times[2] - times[1] >= 0.015


def test_count_keeps_its_rate_when_sleeps_wake_late(env, RE, docs):
    """The event loop's timers wake up to a millisecond late; counted from each start,
    2 ms delays gave a 2.88 ms period (1 ms: 1.73). Counted from the schedule, the
    late wakes are made up and the run keeps the rate it was asked for on average."""
    (det,) = dev(env, "det")
    RE(env.plans["count"]([det], num=1000, delay=0.002))
    times = [d["time"] for d in docs.of("event")]
    period = (times[-1] - times[0]) / (len(times) - 1)
    assert period >= 0.002 - 1e-5  # never faster than asked
    assert period < 0.0024, period  # a loaded machine's hiccups over 50 ms start afresh


def test_scan_positions_and_metadata(env, RE, docs):
    det, motor = dev(env, "det", "motor")
    RE(env.plans["scan"]([det], motor, -1, 1, num=5))
    assert docs.column("motor") == pytest.approx([-1, -0.5, 0, 0.5, 1])
    start = docs.start
    assert start["plan_pattern"] == "inner_product"
    assert start["plan_pattern_module"] == "cielo.plans.patterns"
    assert start["motors"] == ["motor"] and start["detectors"] == ["det"]
    assert start["num_points"] == 5 and start["num_intervals"] == 4
    assert start["hints"]["dimensions"][0][0] == ["motor"]


def test_rel_scan_returns_motor(env, RE, docs):
    det, motor = dev(env, "det", "motor")
    motor.set(2.0).wait(5)
    RE(env.plans["rel_scan"]([det], motor, -1, 1, num=3))
    assert docs.column("motor") == pytest.approx([1, 2, 3])
    assert motor.position == pytest.approx(2.0)
    assert docs.start["plan_name"] == "rel_scan"


def test_inner_product_scan_moves_two_motors_together(env, RE, docs):
    det2, m1, m2 = dev(env, "det2", "motor1", "motor2")
    RE(env.plans["inner_product_scan"]([det2], 3, m1, 0, 1, m2, 10, 20))
    assert docs.column("motor1") == pytest.approx([0, 0.5, 1])
    assert docs.column("motor2") == pytest.approx([10, 15, 20])


def test_list_scans(env, RE, docs):
    det, motor = dev(env, "det", "motor")
    motor.set(0.0).wait(5)
    RE(env.plans["list_scan"]([det], motor, [0.5, 1.5, -1]))
    RE(env.plans["rel_list_scan"]([det], motor, [1, 2]))
    starts = docs.of("start")
    assert [s["plan_name"] for s in starts] == ["list_scan", "rel_list_scan"]
    # the relative scan starts from where the first one returned (-1), and comes back
    assert docs.column("motor") == pytest.approx([0.5, 1.5, -1, 0, 1])
    assert motor.position == pytest.approx(-1)


def test_log_scans(env, RE, docs):
    det, motor = dev(env, "det", "motor")
    motor.set(1.0).wait(5)
    RE(env.plans["log_scan"]([det], motor, -1, 1, 3))
    RE(env.plans["rel_log_scan"]([det], motor, 0, 1, 2))
    assert docs.column("motor") == pytest.approx([0.1, 1, 10, 11, 20])


@pytest.mark.parametrize("snake", [False, True])
def test_grid_scan_snakes(env, RE, docs, snake):
    det2, m1, m2 = dev(env, "det2", "motor1", "motor2")
    RE(env.plans["grid_scan"]([det2], m1, -1, 1, 2, m2, 0, 2, 3, snake_axes=snake))
    fast = [0, 1, 2, 2, 1, 0] if snake else [0, 1, 2, 0, 1, 2]
    assert docs.column("motor2") == pytest.approx(fast)
    assert docs.column("motor1") == pytest.approx([-1, -1, -1, 1, 1, 1])
    start = docs.start
    assert start["shape"] == [2, 3] and start["extents"] == [[-1, 1], [0, 2]]
    assert start["snaking"] == [False, snake]
    assert start["hints"]["gridding"] == "rectilinear"
    assert len(start["hints"]["dimensions"]) == 2


def test_rel_grid_and_list_grids(env, RE, docs):
    det2, m1, m2 = dev(env, "det2", "motor1", "motor2")
    m1.set(1.0).wait(5)
    m2.set(1.0).wait(5)
    RE(env.plans["rel_grid_scan"]([det2], m1, -1, 1, 2, m2, -1, 1, 2))
    RE(env.plans["list_grid_scan"]([det2], m1, [0, 1], m2, [5, 6], snake_axes=True))
    RE(env.plans["rel_list_grid_scan"]([det2], m1, [0, 1], m2, [0, 1]))
    assert docs.column("motor1") == pytest.approx([0, 0, 2, 2, 0, 0, 1, 1, 1, 1, 2, 2])
    assert docs.column("motor2") == pytest.approx([0, 2, 0, 2, 5, 6, 6, 5, 5, 6, 5, 6])
    assert (m1.position, m2.position) == pytest.approx((1.0, 5.0))


def test_scan_nd_with_trajectory_and_cycler(env, RE, docs):
    from cycler import cycler

    det2, m1, m2 = dev(env, "det2", "motor1", "motor2")
    traj = Trajectory.axis(m1, [1, 2]) * Trajectory.axis(m2, [3, 4])
    RE(env.plans["scan_nd"]([det2], traj))
    RE(env.plans["scan_nd"]([det2], cycler(m1, [5, 6]) + cycler(m2, [7, 8])))
    assert docs.column("motor1") == pytest.approx([1, 1, 2, 2, 5, 6])
    assert docs.column("motor2") == pytest.approx([3, 4, 3, 4, 7, 8])


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [
        ("spiral", (0, 0, 1, 1, 0.3, 4), {}),
        ("rel_spiral", (1, 1, 0.3, 4), {}),
        ("spiral_fermat", (0, 0, 1, 1, 0.3, 1.5), {}),
        ("rel_spiral_fermat", (1, 1, 0.3, 1.5), {"tilt": 0.1}),
        ("spiral_square", (0, 0, 1, 1, 3, 3), {}),
        ("rel_spiral_square", (1, 1, 3, 4), {}),
    ],
)
def test_spirals(env, RE, docs, name, args, kwargs):
    det2, m1, m2 = dev(env, "det2", "motor1", "motor2")
    m1.set(0.0).wait(5)
    m2.set(0.0).wait(5)
    RE(env.plans[name]([det2], m1, m2, *args, **kwargs))
    xs, ys = docs.column("motor1"), docs.column("motor2")
    assert len(xs) == docs.start["num_points"] > 3
    assert max(abs(x) for x in xs) <= 0.5 + 1e-9 + (0.1 if "fermat" in name else 0)
    assert docs.start["hints"]["gridding"] == "rectilinear_nonsequential"
    assert docs.start["plan_name"] == name
    assert len(ys) == len(xs)


def test_adaptive_scan_refines_near_the_peak(env, RE, docs):
    det, motor = dev(env, "det", "motor")
    RE(env.plans["adaptive_scan"]([det], "det", motor, -3, 3, 0.05, 1.0, 0.05, True))
    xs = np.array(docs.column("motor"))
    assert xs.min() == pytest.approx(-3)
    assert xs.max() < 3
    steps = np.abs(np.diff(xs))
    near = steps[np.abs(xs[1:]) < 0.5]
    far = steps[np.abs(xs[1:]) > 2.5]
    assert near.size and far.size and near.mean() < far.mean()


def test_rel_adaptive_scan(env, RE, docs):
    det, motor = dev(env, "det", "motor")
    motor.set(0.5).wait(5)
    RE(env.plans["rel_adaptive_scan"]([det], "det", motor, -1, 1, 0.1, 0.5, 0.1, False))
    assert min(docs.column("motor")) == pytest.approx(-0.5)
    assert motor.position == pytest.approx(0.5)


def test_tune_centroid_finds_the_peak(env, RE, docs):
    from cielo.devices.sim import SimPeakDetector

    (motor,) = dev(env, "motor")
    det = SimPeakDetector([motor], name="off_center", center=0.7, sigma=0.5)
    RE(env.plans["tune_centroid"]([det], "off_center", motor, -3, 3, 0.05, num=9))
    assert motor.position == pytest.approx(0.7, abs=0.1)
    assert docs.stop["exit_status"] == "success"
    assert docs.stop["num_events"]["primary"] > 9  # several passes


def test_tweak_reads_answers(env, RE, docs, monkeypatch):
    det, motor = dev(env, "det", "motor")
    motor.set(0.0).wait(5)
    answers = iter(["", "0.5", "q"])
    prompts: list[str] = []
    monkeypatch.setattr("builtins.input", lambda prompt="": prompts.append(prompt) or next(answers))
    RE(env.plans["tweak"](det, "det", motor, 0.1))
    assert docs.column("motor") == pytest.approx([0, 0.1, 0.6])
    assert prompts[0].startswith("motor=0")


def test_ramp_plan_takes_points_until_done(env, RE, docs):
    det, motor, beam = dev(env, "det", "motor", "beam_current")
    motor.set(0.0).wait(5)
    motor.velocity.set(5.0).wait(5)
    try:
        RE(
            env.plans["ramp_plan"](
                abs_set(motor, 1.0), beam, lambda: trigger_and_read([det, motor]), period=0.05
            )
        )
    finally:
        motor.velocity.set(0.0).wait(5)
    points = docs.column("motor")
    assert len(points) >= 3 and points[0] == pytest.approx(0) and points[-1] == pytest.approx(1)
    assert docs.start["plan_name"] == "ramp_plan"


def test_failing_plan_closes_run_with_fail(env, RE, docs):
    det, motor = dev(env, "det", "motor")
    motor.limits = (-1, 1)
    try:
        with pytest.raises(Exception, match="limits"):
            RE(env.plans["scan"]([det], motor, 0, 2, num=3))
    finally:
        motor.limits = None
    assert docs.stop["exit_status"] == "fail"
    assert "limits" in docs.stop["reason"]


@pytest.mark.parametrize(
    ("snake_axes", "pattern"),
    [
        ("first", "first \\(slowest\\) motor 'motor1' cannot snake"),
        ("twice", "lists a motor twice"),
        ("other", "names 'motor', which is not a motor of this grid"),
    ],
)
def test_grid_scan_refuses_bad_snake_axes(env, snake_axes, pattern):
    from cielo.core import PlanParameterError

    det2, m1, m2, m = dev(env, "det2", "motor1", "motor2", "motor")
    axes = {"first": [m1], "twice": [m2, m2], "other": [m]}[snake_axes]
    with pytest.raises(PlanParameterError, match=f"grid_scan: .*{pattern}"):
        list(env.plans["grid_scan"]([det2], m1, 0, 1, 2, m2, 0, 1, 2, snake_axes=axes))


def test_plans_refuse_bad_shapes_before_moving(env):
    from cielo.core import PlanParameterError

    det, motor = dev(env, "det", "motor")
    with pytest.raises(PlanParameterError, match="detectors.*list.*e.g. \\[det\\]"):
        list(env.plans["count"](det))
    with pytest.raises(PlanParameterError, match="give the number of points"):
        list(env.plans["scan"]([det], motor, -1, 1))
    with pytest.raises(PlanParameterError, match="motor, start, stop"):
        list(env.plans["scan"]([det], motor, -1, num=3))
    with pytest.raises(PlanParameterError, match="same length"):
        list(env.plans["list_scan"]([det], motor, [1, 2], env.devices["motor1"], [1]))
    with pytest.raises(PlanParameterError, match="min_step"):
        list(env.plans["adaptive_scan"]([det], "det", motor, 0, 1, 0.5, 0.1, 0.1, True))
    # equal bounds made the first step 0 and the plan divide by it
    with pytest.raises(PlanParameterError, match="min_step < max_step.*larger max_step"):
        list(env.plans["adaptive_scan"]([det], "det", motor, 0, 1, 1e-300, 1e-300, 0.1, True))
    with pytest.raises(PlanParameterError, match="step_factor"):
        list(env.plans["tune_centroid"]([det], "det", motor, 0, 1, 0.1, step_factor=1))


def test_strings_where_devices_go_fail_at_the_call_in_one_line(env, RE, docs):
    """From Python, scan(['det'], 'motor', ...) fails where it is written, before RE runs."""
    import traceback

    from cielo.core import PlanParameterError

    det = env.devices["det"]
    with pytest.raises(PlanParameterError) as refused:
        RE(env.plans["scan"](["det"], "motor", -1, 1, 5))
    message = str(refused.value)
    assert message == (
        "plan 'scan': parameter 'detectors[0]' got 'det', expected a Readable device; "
        "pass the device itself (det), not the string 'det'"
    )
    assert len(traceback.extract_tb(refused.tb)) <= 2  # the call and the plan's check
    with pytest.raises(PlanParameterError, match=r"'args\[0\]' got 'motor'.*itself \(motor\)"):
        env.plans["grid_scan"]([det], "motor", -1, 1, 3)
    with pytest.raises(PlanParameterError, match="'num' got 'five', expected an integer"):
        env.plans["count"]([det], num="five")
    assert docs.of("start") == [] and RE.md.get("scan_id", 0) == 0  # no run, no scan id


def test_plan_args_hold_device_names_and_json_values(env, RE, docs):
    """plan_args record devices by name and None as null, not reprs ("<SimMotor 'motor'>")."""
    import json

    det, det2, motor, m1, m2 = dev(env, "det", "det2", "motor", "motor1", "motor2")
    RE(env.plans["scan"]([det], motor, -1, 1, 3))
    RE(env.plans["scan_nd"]([det], Trajectory.axis(motor, [1, 2])))
    RE(env.plans["grid_scan"]([det2], m1, -1, 1, 2, m2, -1, 1, 2))
    RE(env.plans["tune_centroid"]([det], "det", motor, -1, 1, 0.1, 3))
    args = [start["plan_args"] for start in docs.of("start")]
    assert args[0] == {"detectors": ["det"], "num": 3, "args": ["motor", -1, 1], "per_step": None}
    assert args[1] == {"detectors": ["det"], "cycler": {"motor": [1, 2]}, "per_step": None}
    assert args[2]["args"] == ["motor1", -1, 1, 2, "motor2", -1, 1, 2, False]
    assert args[3]["motor"] == "motor" and args[3]["signal"] == "det"
    assert all(json.loads(json.dumps(a)) == a for a in args)  # plain JSON, nothing lost
