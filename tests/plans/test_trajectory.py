"""Trajectory and the patterns."""

from __future__ import annotations

import numpy as np
import pytest
from cycler import cycler

from cielo.core import PlanParameterError
from cielo.plans import Trajectory
from cielo.plans.patterns import (
    chunk_outer_product_args,
    classify_outer_product_args_pattern,
    inner_list_product,
    inner_product,
    outer_list_product,
    outer_product,
    snake_flags,
)


def rows(traj: Trajectory) -> list[tuple]:
    return [tuple(step.values()) for step in traj]


def test_products_and_concat():
    x = Trajectory.axis("x", [1, 2])
    y = Trajectory.axis("y", [3, 4])
    assert rows(x + y) == [(1, 3), (2, 4)]
    assert rows(x * y) == [(1, 3), (1, 4), (2, 3), (2, 4)]
    assert rows(x.concat(Trajectory.axis("x", [5]))) == [(1,), (2,), (5,)]
    assert rows(x.reversed()) == [(2,), (1,)]
    assert (x * y).keys == ["x", "y"] and len(x * y) == 4
    assert (x * y).by_key() == {"x": [1, 1, 2, 2], "y": [3, 4, 3, 4]}
    assert repr(x) == "Trajectory(x: 2 points)"
    assert x == Trajectory({"x": [1, 2]})


def test_refusals_name_the_problem():
    x = Trajectory.axis("x", [1, 2])
    with pytest.raises(PlanParameterError, match="equal lengths"):
        x + Trajectory.axis("y", [1, 2, 3])
    with pytest.raises(PlanParameterError, match="x appear"):
        x * Trajectory.axis("x", [1])
    with pytest.raises(PlanParameterError, match="same motors"):
        x.concat(Trajectory.axis("y", [1]))
    with pytest.raises(PlanParameterError, match="equal lengths, got x: 2, y: 1"):
        Trajectory({"x": [1, 2], "y": [1]})


def test_grid_snakes_on_every_pass_of_the_slower_axes():
    a = Trajectory.axis("a", [0, 1])
    b = Trajectory.axis("b", [0, 1])
    c = Trajectory.axis("c", [0, 1, 2])
    g = Trajectory.grid([a, b, c], [False, True, True])
    assert [s["c"] for s in g] == [0, 1, 2, 2, 1, 0, 0, 1, 2, 2, 1, 0]
    assert [s["b"] for s in g] == [0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0]


def test_cycler_and_text_forms_convert():
    cyc = cycler("x", [1, 2]) + cycler("y", [3, 4])
    assert rows(Trajectory.from_cycler(cyc)) == [(1, 3), (2, 4)]

    class Stage:  # a movable stand-in: only keys with set() can be moved
        def set(self, value):
            return None

    m, det = Stage(), object()
    traj = Trajectory.__cielo_convert__({"m": [1, 2]}, {"m": m})
    assert traj.keys == [m]
    with pytest.raises(PlanParameterError, match="unknown device 'n'"):
        Trajectory.__cielo_convert__({"n": [1]}, {"m": m})
    with pytest.raises(PlanParameterError, match="'det' cannot be moved.*motors: m$"):
        Trajectory.__cielo_convert__({"det": [1]}, {"m": m, "det": det})
    assert Trajectory.__cielo_schema__()["type"] == "object"


def test_patterns():
    assert rows(inner_product(3, ["x", 0, 1])) == [(0.0,), (0.5,), (1.0,)]
    assert rows(inner_list_product(["x", [1, 5], "y", [2, 3]])) == [(1, 2), (5, 3)]
    assert len(outer_product(["x", 0, 1, 3, "y", 0, 1, 4])) == 12
    assert rows(outer_list_product(["x", [1, 2], "y", [3, 4]], True)) == [
        (1, 3),
        (1, 4),
        (2, 4),
        (2, 3),
    ]
    assert classify_outer_product_args_pattern(["x", 0, 1, 2, "y", 0, 1, 2]) == "pattern_1"
    assert classify_outer_product_args_pattern(["x", 0, 1, 2, "y", 0, 1, 2, True]) == "pattern_2"
    assert [c[4] for c in chunk_outer_product_args(["x", 0, 1, 2, "y", 0, 1, 2, True])] == [
        False,
        True,
    ]
    with pytest.raises(PlanParameterError, match="motor, start, stop, num"):
        classify_outer_product_args_pattern(["x", 0, 1])
    with pytest.raises(PlanParameterError, match="positive integer"):
        outer_product(["x", 0, 1, 2.5])
    with pytest.raises(PlanParameterError, match="triples"):
        inner_product(3, ["x", 0])
    assert snake_flags(["x", "y"], True) == [False, True]
    with pytest.raises(PlanParameterError, match="cannot snake"):
        snake_flags(["x", "y"], ["x"])
    np.testing.assert_allclose(inner_product(2, ["x", 0, 1]).by_key()["x"], [0, 1])


@pytest.mark.parametrize(
    ("start", "stop", "num"), [(-1, 1, 11), (0, 2.5, 7), (3, -3, 100), (5, 5, 1), (1e-3, 7.3, 1001)]
)
def test_linspace_gives_numpys_numbers(start, stop, num):
    import numpy as np

    from cielo.plans._trajectory import Linspace

    lazy = Linspace(start, stop, num)
    assert list(lazy) == np.linspace(start, stop, num).tolist()
    assert lazy[-1] == np.linspace(start, stop, num)[-1] and len(lazy) == num
    assert lazy[1:4] == np.linspace(start, stop, num)[1:4].tolist()


def test_a_hundred_million_point_scan_starts_at_once():
    """scan(..., num=10**8) spent minutes building its positions before its first message."""
    import time

    from cielo.devices.sim import SimMotor, SimPeakDetector
    from cielo.plugins.scans import scan

    motor = SimMotor(name="motor")
    det = SimPeakDetector([motor], name="det")
    began = time.perf_counter()
    plan = scan([det], motor, -1, 1, 10**8)
    messages = [next(plan) for _ in range(12)]
    assert time.perf_counter() - began < 5  # about 1 ms; minutes before
    (start,) = [m for m in messages if m.command == "open_run"]
    assert start.kwargs["num_points"] == 10**8
    moves = [m.args[0] for m in messages if m.command == "set"]
    assert moves[:1] == [-1.0]


@pytest.mark.parametrize(
    "snake", [[False, False, False], [False, True, True], [False, False, True]]
)
def test_a_lazy_grid_visits_the_points_of_nested_loops(snake):
    axes = [
        Trajectory.axis("a", [1, 2]),
        Trajectory.axis("b", [10, 20, 30]),
        Trajectory.axis("c", [7, 8]),
    ]
    expected = []
    for ia, a in enumerate([1, 2]):
        bs = [10, 20, 30][:: -1 if snake[1] and ia % 2 else 1]
        for ib, b in enumerate(bs):
            k = ia * 3 + ib  # passes of c so far
            for c in [7, 8][:: -1 if snake[2] and k % 2 else 1]:
                expected.append((a, b, c))
    grid = Trajectory.grid(axes, snake)
    assert [tuple(step.values()) for step in grid] == expected
    assert len(grid) == 12 and grid[3:5].by_key()["c"] == [e[2] for e in expected[3:5]]


def test_a_ten_million_point_grid_starts_at_once():
    """The largest grid CIELO_MAX_POINTS allows by default took seconds to list first."""
    import time

    from cielo.devices.sim import SimMotor, SimPeakDetector
    from cielo.plugins.scans import grid_scan

    m1, m2 = SimMotor(name="m1"), SimMotor(name="m2")
    det = SimPeakDetector([m1, m2], name="det", center=[0, 0], sigma=[1, 1])
    began = time.perf_counter()
    plan = grid_scan([det], m1, -1, 1, 4000, m2, -1, 1, 2500, snake_axes=True)
    messages = [next(plan) for _ in range(20)]
    assert time.perf_counter() - began < 2  # about 50 ms; about 5 s before
    (start,) = [m for m in messages if m.command == "open_run"]
    assert start.kwargs["num_points"] == 10**7
