"""Spiral scans over two motors: ring spiral, Fermat spiral, square spiral."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

from cielo.core import PlanParameterError, Units
from cielo.core.protocols import Movable, Readable
from cielo.plans import MsgGenerator, Trajectory, validated
from cielo.plans import patterns as _patterns

from ._common import (
    PerStep,
    check_detectors,
    dimensions,
    jsonable,
    merge_md,
    plan_md,
    relative_plan,
    run_nd,
)

__all__ = [
    "spiral",
    "rel_spiral",
    "spiral_fermat",
    "rel_spiral_fermat",
    "spiral_square",
    "rel_spiral_square",
]


def _run_pattern(
    name: str,
    pattern: str,
    detectors: Sequence[Readable],
    x_motor: Any,
    y_motor: Any,
    pattern_args: dict[str, Any],
    per_step: PerStep | None,
    md: Mapping[str, Any] | None,
    *,
    relative: bool,
) -> MsgGenerator:
    detectors = check_detectors(detectors, name)
    func: Callable[..., Trajectory] = getattr(_patterns, pattern)
    traj = func(x_motor, y_motor, **pattern_args)
    if not len(traj):
        raise PlanParameterError(f"{name}: these ranges and steps give no points ({pattern_args})")
    recorded = {
        "x_motor": jsonable(x_motor),
        "y_motor": jsonable(y_motor),
        **jsonable(pattern_args),
    }
    base = plan_md(
        name,
        detectors,
        {**recorded, "per_step": jsonable(per_step)},
        hints={
            "gridding": "rectilinear_nonsequential",
            "dimensions": dimensions([x_motor, y_motor]),
        },
        pattern=pattern,
        pattern_args=recorded,
    )
    base["extents"] = _extents(pattern_args, relative)
    if "x_num" in pattern_args:  # the square spiral covers an x_num by y_num grid
        base["shape"] = [pattern_args["x_num"], pattern_args["y_num"]]
    return (yield from run_nd(detectors, traj, per_step, merge_md(base, md), relative=relative))


def _extents(pattern_args: Mapping[str, Any], relative: bool) -> list[list[float]]:
    """``[[x_low, x_high], [y_low, y_high]]`` covered; around 0 for a relative scan."""
    if "x_center" in pattern_args:  # square spiral: the ranges are full widths
        centre = (pattern_args["x_center"], pattern_args["y_center"])
        half = (pattern_args["x_range"] / 2, pattern_args["y_range"] / 2)
    else:  # ring and Fermat spirals record start -/+ range, as Bluesky does
        centre = (pattern_args["x_start"], pattern_args["y_start"])
        half = (pattern_args["x_range"], pattern_args["y_range"])
    if relative:
        return [[-h, h] for h in half]
    return [[c - h, c + h] for c, h in zip(centre, half, strict=True)]


def _check_positive(name: str, **values: float) -> None:
    for key, value in values.items():
        if not value > 0:
            raise PlanParameterError(f"{name}: {key}={value!r} must be positive")


def _pattern_run(pattern: str, *positive: str) -> Callable[..., MsgGenerator]:
    """The implementation of a pattern's plans (absolute and relative):
    ``run(name, detectors, x_motor, y_motor, *, per_step, md, relative, **pattern_args)``;
    the ``positive`` pattern arguments must be > 0."""

    def run(
        name: str,
        detectors: Sequence[Readable],
        x_motor: Any,
        y_motor: Any,
        *,
        per_step: PerStep | None = None,
        md: Mapping[str, Any] | None = None,
        relative: bool,
        **pattern_args: Any,
    ) -> MsgGenerator:
        _check_positive(name, **{key: pattern_args[key] for key in positive})
        return _run_pattern(
            name,
            pattern,
            detectors,
            x_motor,
            y_motor,
            pattern_args,
            per_step,
            md,
            relative=relative,
        )

    return run


_SPIRAL = _pattern_run("spiral", "dr", "nth")
_SPIRAL_FERMAT = _pattern_run("spiral_fermat", "dr", "factor")
_SPIRAL_SQUARE = _pattern_run("spiral_square_pattern")


@validated
def spiral(
    detectors: Sequence[Readable],
    x_motor: Movable,
    y_motor: Movable,
    x_start: float,
    y_start: float,
    x_range: float,
    y_range: float,
    dr: float,
    nth: float,
    *,
    dr_y: float | None = None,
    tilt: Annotated[float, Units("rad")] = 0.0,
    per_step: PerStep | None = None,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Spiral outward from (x_start, y_start) in rings ``dr`` apart, inside a rectangle.

    Parameters
    ----------
    detectors
        Devices to read at every point.
    x_motor, y_motor
        The two motors.
    x_start, y_start
        The centre.
    x_range, y_range
        Full widths of the rectangle covered.
    dr
        Distance between rings (x; ``dr_y`` for y if different).
    nth
        Points on the first ring (ring ``i`` has ``i * nth``).
    dr_y
        Ring spacing along y, if not ``dr``.
    tilt
        Tilt of the rectangle, in radians.
    per_step
        Replaces the default step (see ``scan_nd``).
    md
        Metadata for the run start.

    Examples
    --------
    >>> RE(spiral([det2], motor1, motor2, 0, 0, 1, 1, 0.1, 6))  # doctest: +SKIP
    """
    arguments = dict(locals())  # the parameters, as given
    return (yield from _SPIRAL("spiral", relative=False, **arguments))


rel_spiral = relative_plan(
    spiral,
    _SPIRAL,
    "``spiral`` centred where the motors are; they return there afterwards.",
    "RE(rel_spiral([det2], motor1, motor2, 1, 1, 0.1, 6))",
    fixed={"x_start": 0.0, "y_start": 0.0},
)


@validated
def spiral_fermat(
    detectors: Sequence[Readable],
    x_motor: Movable,
    y_motor: Movable,
    x_start: float,
    y_start: float,
    x_range: float,
    y_range: float,
    dr: float,
    factor: float,
    *,
    dr_y: float | None = None,
    tilt: Annotated[float, Units("rad")] = 0.0,
    per_step: PerStep | None = None,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Fermat spiral around (x_start, y_start): evenly dense points, golden angle apart.

    Parameters
    ----------
    detectors
        Devices to read at every point.
    x_motor, y_motor
        The two motors.
    x_start, y_start
        The centre.
    x_range, y_range
        Full widths of the rectangle covered.
    dr
        Radial step (x; ``dr_y`` for y if different).
    factor
        Density: points ``sqrt(i) * dr / factor`` from the centre.
    dr_y
        Radial step along y, if not ``dr``.
    tilt
        Tilt of the rectangle, in radians.
    per_step
        Replaces the default step (see ``scan_nd``).
    md
        Metadata for the run start.

    Examples
    --------
    >>> RE(spiral_fermat([det2], motor1, motor2, 0, 0, 1, 1, 0.2, 2))  # doctest: +SKIP
    """
    arguments = dict(locals())  # the parameters, as given
    return (yield from _SPIRAL_FERMAT("spiral_fermat", relative=False, **arguments))


rel_spiral_fermat = relative_plan(
    spiral_fermat,
    _SPIRAL_FERMAT,
    "``spiral_fermat`` centred where the motors are; they return there afterwards.",
    "RE(rel_spiral_fermat([det2], motor1, motor2, 1, 1, 0.2, 2))",
    fixed={"x_start": 0.0, "y_start": 0.0},
)


@validated
def spiral_square(
    detectors: Sequence[Readable],
    x_motor: Movable,
    y_motor: Movable,
    x_center: float,
    y_center: float,
    x_range: float,
    y_range: float,
    x_num: int,
    y_num: int,
    *,
    per_step: PerStep | None = None,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Square spiral over an ``x_num`` by ``y_num`` grid, outward from its centre.

    Parameters
    ----------
    detectors
        Devices to read at every point.
    x_motor, y_motor
        The two motors.
    x_center, y_center
        The centre of the grid.
    x_range, y_range
        Full widths of the grid.
    x_num, y_num
        Points along each axis.
    per_step
        Replaces the default step (see ``scan_nd``).
    md
        Metadata for the run start.

    Examples
    --------
    >>> RE(spiral_square([det2], motor1, motor2, 0, 0, 2, 2, 5, 5))  # doctest: +SKIP
    """
    arguments = dict(locals())  # the parameters, as given
    return (yield from _SPIRAL_SQUARE("spiral_square", relative=False, **arguments))


rel_spiral_square = relative_plan(
    spiral_square,
    _SPIRAL_SQUARE,
    "``spiral_square`` centred where the motors are; they return there afterwards.",
    "RE(rel_spiral_square([det2], motor1, motor2, 2, 2, 5, 5))",
    fixed={"x_center": 0.0, "y_center": 0.0},
)
