"""The relative plans: the absolute plan's moves, offset from where the motors are.

Each ``rel_*`` plan is compared with its absolute form started at the motors' positions
(on the sim beamline's RunEngine, documents validated by event-model): the same motor
columns, start documents recording the same things (positions and ``plan_name`` aside;
relative spirals record their centre as 0 and extents around 0), and the motors back
where they started.
"""

from __future__ import annotations

from typing import Any

import pytest

from cielo.core import PlanParameterError

START = {"motor": 0.5, "motor1": 0.25, "motor2": -0.5}

# (relative plan, its arguments, absolute plan, its arguments for the same points)
CASES = [
    ("rel_scan", ("@det", "@motor", -1, 1), {"num": 3}, "scan", ("@det", "@motor", -0.5, 1.5)),
    ("rel_list_scan", ("@det", "@motor", [0, 1]), {}, "list_scan", ("@det", "@motor", [0.5, 1.5])),
    ("rel_log_scan", ("@det", "@motor", -1, 0, 3), {}, None, ()),
    (
        "rel_grid_scan",
        ("@det2", "@motor1", -1, 1, 2, "@motor2", 0, 1, 2),
        {"snake_axes": True},
        "grid_scan",
        ("@det2", "@motor1", -0.75, 1.25, 2, "@motor2", -0.5, 0.5, 2),
    ),
    (
        "rel_list_grid_scan",
        ("@det2", "@motor1", [0, 1], "@motor2", [0, 2]),
        {},
        "list_grid_scan",
        ("@det2", "@motor1", [0.25, 1.25], "@motor2", [-0.5, 1.5]),
    ),
    (
        "rel_spiral",
        ("@det2", "@motor1", "@motor2", 1, 1, 0.3, 4),
        {},
        "spiral",
        ("@det2", "@motor1", "@motor2", 0.25, -0.5, 1, 1, 0.3, 4),
    ),
    (
        "rel_spiral_fermat",
        ("@det2", "@motor1", "@motor2", 1, 1, 0.3, 1.5),
        {"tilt": 0.1},
        "spiral_fermat",
        ("@det2", "@motor1", "@motor2", 0.25, -0.5, 1, 1, 0.3, 1.5),
    ),
    (
        "rel_spiral_square",
        ("@det2", "@motor1", "@motor2", 1, 2, 3, 3),
        {},
        "spiral_square",
        ("@det2", "@motor1", "@motor2", 0.25, -0.5, 1, 2, 3, 3),
    ),
    (
        "rel_adaptive_scan",
        ("@det", "det", "@motor", -1, 1, 0.1, 0.5, 0.1, False),
        {},
        "adaptive_scan",
        ("@det", "det", "@motor", -0.5, 1.5, 0.1, 0.5, 0.1, False),
    ),
]
# Arguments that are device names: "@name" (the rest are values).


def resolve(env: Any, args: tuple[Any, ...]) -> list[Any]:
    """Device names to devices; a detector in first place becomes a list of detectors."""
    out = [env.devices[a[1:]] if isinstance(a, str) and a[:1] == "@" else a for a in args]
    out[0] = [out[0]]
    return out


def run(env: Any, RE: Any, docs: Any, name: str, args: Any, kwargs: Any) -> tuple[Any, ...]:
    for motor, position in START.items():
        env.devices[motor].set(position).wait(5)
    docs.clear()
    RE(env.plans[name](*resolve(env, args), **kwargs))
    columns = {m: docs.column(m) for m in docs.start["motors"]}
    return docs.start, columns


def same_except_positions(rel: dict[str, Any], absolute: dict[str, Any]) -> None:
    """The two start documents record the same things; only positions differ."""
    assert rel.keys() == absolute.keys()
    assert rel["plan_args"].keys() == absolute["plan_args"].keys()
    for key in ("detectors", "motors", "num_points", "num_intervals", "hints", "plan_pattern"):
        assert rel.get(key) == absolute.get(key), key


@pytest.mark.parametrize(
    ("rel", "rel_args", "kwargs", "absolute", "abs_args"), CASES, ids=[c[0] for c in CASES]
)
def test_relative_plan_is_the_absolute_plan_offset(
    env, RE, docs, rel, rel_args, kwargs, absolute, abs_args
):
    rel_start, rel_columns = run(env, RE, docs, rel, rel_args, kwargs)
    assert rel_start["plan_name"] == rel
    assert rel_columns
    for motor, position in START.items():
        assert env.devices[motor].position == pytest.approx(position), motor
    if absolute is None:
        return
    abs_start, abs_columns = run(env, RE, docs, absolute, abs_args, kwargs)
    assert rel_columns.keys() == abs_columns.keys()
    for motor, column in rel_columns.items():
        assert column == pytest.approx(abs_columns[motor]), motor
    same_except_positions(rel_start, abs_start)


def test_relative_log_scan_offsets_by_powers_of_ten(env, RE, docs):
    _, columns = run(env, RE, docs, "rel_log_scan", ("@det", "@motor", -1, 0, 3), {})
    assert columns["motor"] == pytest.approx([0.5 + 0.1, 0.5 + 10**-0.5, 0.5 + 1.0])


@pytest.mark.parametrize(
    ("name", "args", "centre", "extents"),
    [
        ("rel_spiral", (1, 2, 0.3, 4), "start", [[-1, 1], [-2, 2]]),
        ("rel_spiral_fermat", (1, 2, 0.3, 1.5), "start", [[-1, 1], [-2, 2]]),
        ("rel_spiral_square", (1, 2, 3, 3), "center", [[-0.5, 0.5], [-1.0, 1.0]]),
    ],
)
def test_relative_spirals_record_extents_around_zero(env, RE, docs, name, args, centre, extents):
    start, _ = run(env, RE, docs, name, ("@det2", "@motor1", "@motor2", *args), {})
    assert start["extents"] == extents
    assert start["plan_args"][f"x_{centre}"] == start["plan_args"][f"y_{centre}"] == 0.0
    assert start["plan_pattern_args"][f"x_{centre}"] == 0.0


def test_user_metadata_wins_over_the_relative_plan_name(env, RE, docs):
    start, _ = run(
        env,
        RE,
        docs,
        "rel_scan",
        ("@det", "@motor", -1, 1),
        {"num": 2, "md": {"plan_name": "mine"}},
    )
    assert start["plan_name"] == "mine"


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        (
            "rel_scan",
            ("@det", "@motor", -1),
            "rel_scan: expected motor, start, stop .* got 2 values",
        ),
        ("rel_spiral", ("@det2", "@motor1", "@motor2", 1, 1, -0.3, 4), "rel_spiral: dr=-0.3"),
        ("rel_list_grid_scan", ("@det2", "@motor1", [0, 1], "@motor2"), "rel_list_grid_scan: "),
    ],
)
def test_relative_plans_name_themselves_in_errors_before_moving(env, name, args, message):
    plan = env.plans[name](*resolve(env, args), **({"num": 3} if name == "rel_scan" else {}))
    with pytest.raises(PlanParameterError, match=message):
        next(plan)
