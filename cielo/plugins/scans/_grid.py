"""Grid scans: every combination of positions of several motors, optionally snaking."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cielo.core import PlanParameterError
from cielo.core.protocols import Movable, Readable
from cielo.plans import MsgGenerator, Trajectory, validated
from cielo.plans.patterns import chunk_outer_product_args, outer_list_product, snake_flags

from ._common import (
    PerStep,
    check_detectors,
    dimensions,
    jsonable,
    merge_md,
    names,
    plan_md,
    relative_plan,
    run_nd,
)

__all__ = ["grid_scan", "rel_grid_scan", "list_grid_scan", "rel_list_grid_scan"]


def _snakes(motors: list[Any], snake_axes: Any, given: list[bool], plan: str) -> list[bool]:
    """Per-motor snake flags: ``snake_axes`` wins over old-form flags in ``args``."""
    if snake_axes is None:
        return given
    try:
        return snake_flags(motors, snake_axes)
    except PlanParameterError as exc:
        raise PlanParameterError(f"{plan}: {exc}") from None


def _grid_hints(motors: list[Any]) -> dict[str, Any]:
    return {"gridding": "rectilinear", "dimensions": dimensions(motors)}


@validated
def grid_scan(
    detectors: Sequence[Readable],
    *args: Movable | float | bool,
    snake_axes: bool | Sequence[Movable] | None = None,
    per_step: PerStep | None = None,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Scan every combination of evenly spaced positions of several motors.

    Parameters
    ----------
    detectors
        Devices to read at every point.
    args
        ``motor1, start1, stop1, num1, motor2, start2, stop2, num2, ...``; the first
        motor is the slowest (outer loop). Bluesky's older form, a snake flag
        (``True``/``False``) after each motor's ``num`` but the first's, is accepted.
    snake_axes
        ``True``: every motor but the first reverses direction on each pass instead of
        jumping back; a list: those motors do; ``False``/``None``: none do.
    per_step
        Replaces the default step (see ``scan_nd``).
    md
        Metadata for the run start.

    Examples
    --------
    >>> RE(grid_scan([det2], motor1, -1, 1, 5, motor2, -1, 1, 5, snake_axes=True))  # doctest: +SKIP
    """
    plan = _grid_scan("grid_scan", detectors, args, snake_axes, per_step, md, relative=False)
    return (yield from plan)


def _grid_scan(
    name: str,
    detectors: Sequence[Readable],
    args: Sequence[Any],
    snake_axes: Any,
    per_step: PerStep | None,
    md: Mapping[str, Any] | None,
    *,
    relative: bool,
) -> MsgGenerator:
    detectors = check_detectors(detectors, name)
    try:
        chunks = list(chunk_outer_product_args(args))
    except PlanParameterError as exc:
        raise PlanParameterError(f"{name}: {exc}") from None
    motors = [c[0] for c in chunks]
    if len({id(m) for m in motors}) != len(motors):
        raise PlanParameterError(f"{name}: a motor is listed more than once: {names(motors)}")
    snakes = _snakes(motors, snake_axes, [c[4] for c in chunks], name)
    axes = [
        Trajectory.axis(m, np.linspace(start, stop, num=num, endpoint=True))
        for m, start, stop, num, _ in chunks
    ]
    traj = Trajectory.grid(axes, snakes)
    md_args: list[Any] = []
    for i, ((m, start, stop, num, _), snake) in enumerate(zip(chunks, snakes, strict=True)):
        md_args.extend([jsonable(m), jsonable(start), jsonable(stop), num])
        if i > 0:
            md_args.append(snake)
    base = {
        "shape": [c[3] for c in chunks],
        "extents": [[jsonable(c[1]), jsonable(c[2])] for c in chunks],
        "snaking": snakes,
        **plan_md(
            name,
            detectors,
            {"args": md_args, "per_step": jsonable(per_step)},
            hints=_grid_hints(motors),
            pattern="outer_product",
            pattern_args={"args": md_args},
        ),
    }
    return (yield from run_nd(detectors, traj, per_step, merge_md(base, md), relative=relative))


rel_grid_scan = relative_plan(
    grid_scan,
    _grid_scan,
    "``grid_scan`` relative to where the motors are; they return there afterwards.",
    "RE(rel_grid_scan([det2], motor1, -1, 1, 3, motor2, -1, 1, 3))",
)


@validated
def list_grid_scan(
    detectors: Sequence[Readable],
    *args: Movable | Sequence[float],
    snake_axes: bool | Sequence[Movable] = False,
    per_step: PerStep | None = None,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Scan every combination of listed positions of several motors.

    Parameters
    ----------
    detectors
        Devices to read at every point.
    args
        ``motor1, [positions1], motor2, [positions2], ...``; the first motor is the
        slowest.
    snake_axes
        As in ``grid_scan``.
    per_step
        Replaces the default step (see ``scan_nd``).
    md
        Metadata for the run start.

    Examples
    --------
    >>> RE(list_grid_scan([det2], motor1, [0, 1, 3], motor2, [5, 6]))  # doctest: +SKIP
    """
    plan = _list_grid("list_grid_scan", detectors, args, snake_axes, per_step, md, relative=False)
    return (yield from plan)


def _list_grid(
    name: str,
    detectors: Sequence[Readable],
    args: Sequence[Any],
    snake_axes: Any,
    per_step: PerStep | None,
    md: Mapping[str, Any] | None,
    *,
    relative: bool,
) -> MsgGenerator:
    detectors = check_detectors(detectors, name)
    if len(args) % 2 or not args:
        raise PlanParameterError(
            f"{name}: expected motor, [positions] for each motor, got {len(args)} values"
        )
    motors = list(args[::2])
    lists = [list(p) for p in args[1::2]]
    snakes = _snakes(motors, snake_axes, [False] * len(motors), name)
    traj = outer_list_product(args, [m for m, s in zip(motors, snakes, strict=True) if s])
    md_args = [x for m, p in zip(motors, lists, strict=True) for x in (jsonable(m), jsonable(p))]
    recorded_snakes = snake_axes if isinstance(snake_axes, bool) else names(snake_axes)
    base = {
        "shape": [len(p) for p in lists],
        "extents": [[jsonable(min(p)), jsonable(max(p))] for p in lists],
        "snaking": snakes,
        "snake_axes": jsonable(recorded_snakes),  # Bluesky's key for list grids
        **plan_md(
            name,
            detectors,
            {
                "args": md_args,
                "snake_axes": jsonable(recorded_snakes),
                "per_step": jsonable(per_step),
            },
            hints=_grid_hints(motors),
            pattern="outer_list_product",
            pattern_args={"args": md_args, "snake_axes": snakes},
        ),
    }
    return (yield from run_nd(detectors, traj, per_step, merge_md(base, md), relative=relative))


rel_list_grid_scan = relative_plan(
    list_grid_scan,
    _list_grid,
    "``list_grid_scan`` with positions relative to where the motors are.",
    "RE(rel_list_grid_scan([det2], motor1, [-1, 0, 1], motor2, [0, 1]))",
)
