"""Trajectory patterns: the positions of the standard scans, as :class:`Trajectory`.

Run-start documents name the pattern (``plan_pattern``), its module
(``plan_pattern_module = "cielo.plans"``) and its arguments, so a consumer can rebuild
the trajectory. Positions equal Bluesky's patterns of the same names.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal

import numpy as np

from cielo.core import PlanParameterError

from ._trajectory import Linspace, Trajectory

__all__ = [
    "inner_product",
    "outer_product",
    "inner_list_product",
    "outer_list_product",
    "chunk_outer_product_args",
    "classify_outer_product_args_pattern",
    "spiral",
    "spiral_fermat",
    "spiral_square_pattern",
    "snake_flags",
]


def _is_device(obj: Any) -> bool:
    return not isinstance(obj, int | float | bool | np.number) and obj is not None


def inner_product(num: int, args: Sequence[Any]) -> Trajectory:
    """Motors moved together from start to stop in ``num`` points.

    Parameters
    ----------
    num
        Number of points.
    args
        ``motor1, start1, stop1, motor2, start2, stop2, ...``

    Examples
    --------
    >>> t = inner_product(3, ["x", 0, 1, "y", 10, 20])
    >>> [tuple(s.values()) for s in t]
    [(0.0, 10.0), (0.5, 15.0), (1.0, 20.0)]
    """
    if len(args) % 3:
        raise PlanParameterError(
            f"expected motor, start, stop triples (motor1, start1, stop1, ...), got {len(args)} "
            "values"
        )
    traj: Trajectory | None = None
    for motor, start, stop in zip(args[::3], args[1::3], args[2::3], strict=True):
        axis = Trajectory.axis(motor, Linspace(start, stop, num))
        traj = axis if traj is None else traj + axis
    if traj is None:
        raise PlanParameterError("expected at least one motor, start, stop triple")
    return traj


def classify_outer_product_args_pattern(
    args: Sequence[Any],
) -> Literal["pattern_1", "pattern_2"]:
    """Tell ``motor, start, stop, num`` quadruples (``"pattern_1"``) from the old form
    with a snake flag after every motor but the first (``"pattern_2"``)."""
    n = len(args)
    if (
        n >= 4
        and n % 4 == 0
        and all(_is_device(a) for a in args[::4])
        and not any(isinstance(a, bool) for a in args)
    ):
        return "pattern_1"
    if n >= 4 and (n - 4) % 5 == 0 and _is_device(args[0]):
        rest = args[4:]
        if all(_is_device(a) for a in rest[::5]) and all(
            isinstance(a, bool | np.bool_) for a in rest[4::5]
        ):
            return "pattern_2"
    raise PlanParameterError(
        "expected motor, start, stop, num for each axis (motor1, start1, stop1, num1, "
        f"motor2, ...); got {len(args)} values: {[_short(a) for a in args]}"
    )


def chunk_outer_product_args(
    args: Sequence[Any], pattern: str | None = None
) -> Iterator[tuple[Any, float, float, int, bool]]:
    """Yield ``(motor, start, stop, num, snake)`` per axis of a grid's ``args``."""
    pattern = pattern or classify_outer_product_args_pattern(args)
    if pattern == "pattern_1":
        for i in range(0, len(args), 4):
            motor, start, stop, num = args[i : i + 4]
            yield motor, start, stop, _num(num), False
    else:
        motor, start, stop, num = args[:4]
        yield motor, start, stop, _num(num), False
        for i in range(4, len(args), 5):
            motor, start, stop, num, snake = args[i : i + 5]
            yield motor, start, stop, _num(num), bool(snake)


def _num(num: Any) -> int:
    if isinstance(num, bool) or not float(num).is_integer() or num < 1:
        raise PlanParameterError(f"number of points must be a positive integer, got {num!r}")
    return int(num)


def _short(a: Any) -> str:
    return str(getattr(a, "name", a))


def outer_product(args: Sequence[Any]) -> Trajectory:
    """A grid: ``motor, start, stop, num`` per axis (the first slowest), old-form
    snake flags honoured.

    Examples
    --------
    >>> [tuple(s.values()) for s in outer_product(["x", 0, 1, 2, "y", 0, 1, 2, True])]
    [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0)]
    """
    axes, snakes = [], []
    for motor, start, stop, num, snake in chunk_outer_product_args(args):
        axes.append(Trajectory.axis(motor, np.linspace(start, stop, num=num, endpoint=True)))
        snakes.append(snake)
    return Trajectory.grid(axes, snakes)


def inner_list_product(args: Sequence[Any]) -> Trajectory:
    """Motors moved together through lists: ``motor1, [positions], motor2, [positions]``."""
    if len(args) % 2:
        raise PlanParameterError(
            f"expected motor, [positions] pairs, got {len(args)} values: "
            f"{[_short(a) for a in args]}"
        )
    traj: Trajectory | None = None
    for motor, positions in zip(args[::2], args[1::2], strict=True):
        axis = Trajectory.axis(motor, list(positions))
        if traj is not None and len(axis) != len(traj):
            raise PlanParameterError(
                f"all position lists must have the same length; {_short(motor)} has "
                f"{len(axis)}, the first has {len(traj)}"
            )
        traj = axis if traj is None else traj + axis
    if traj is None:
        raise PlanParameterError("expected at least one motor, [positions] pair")
    return traj


def outer_list_product(args: Sequence[Any], snake_axes: Any) -> Trajectory:
    """A grid through lists: ``motor1, [positions], motor2, [positions]``; the first slowest.

    ``snake_axes`` is ``True`` (every axis but the first snakes), ``False``, or a list of
    the motors that snake.
    """
    if len(args) % 2:
        raise PlanParameterError(f"expected motor, [positions] pairs, got {len(args)} values")
    motors = list(args[::2])
    axes = [Trajectory.axis(m, list(p)) for m, p in zip(args[::2], args[1::2], strict=True)]
    return Trajectory.grid(axes, snake_flags(motors, snake_axes))


def snake_flags(motors: Sequence[Any], snake_axes: Any) -> list[bool]:
    """Per-motor snake flags from ``snake_axes`` (bool, None, or motors that snake)."""
    if snake_axes is None or snake_axes is False:
        return [False] * len(motors)
    if snake_axes is True:
        return [False] + [True] * (len(motors) - 1)
    chosen = list(snake_axes)
    if len({id(m) for m in chosen}) != len(chosen):
        raise PlanParameterError(f"snake_axes lists a motor twice: {[_short(m) for m in chosen]}")
    for m in chosen:
        if not any(m is motor for motor in motors):
            raise PlanParameterError(
                f"snake_axes names {_short(m)!r}, which is not a motor of this grid "
                f"({', '.join(_short(x) for x in motors)})"
            )
    if chosen and any(m is motors[0] for m in chosen):
        raise PlanParameterError(
            f"the first (slowest) motor {_short(motors[0])!r} cannot snake; remove it from "
            "snake_axes"
        )
    return [any(m is motor for m in chosen) for motor in motors]


def _spiral(
    x_motor: Any,
    y_motor: Any,
    centre: tuple[float, float],
    frame: tuple[float, float, float, float],
    polar: Iterable[tuple[float, float]],
    *,
    clip_y_scaled: bool,
) -> Trajectory:
    """The points ``(radius, angle)`` of ``polar`` around ``centre`` that fall inside the
    (tilted) rectangle of ``frame`` (see :func:`_spiral_frame`). ``clip_y_scaled``: y is
    compared with the rectangle after dividing it by the step ratio (the ring spiral does,
    the Fermat spiral does not: both as Bluesky draws them)."""
    aspect, half_x, half_y, tilt_tan = frame
    xs, ys = [], []
    for radius, angle in polar:
        x = radius * np.cos(angle)
        y = radius * np.sin(angle) * aspect
        if (
            abs(x - (y / aspect) / tilt_tan) <= half_x
            and abs(y / aspect if clip_y_scaled else y) <= half_y
        ):
            xs.append(centre[0] + x)
            ys.append(centre[1] + y)
    return Trajectory.axis(x_motor, xs) + Trajectory.axis(y_motor, ys)


def _spiral_frame(
    x_range: float, y_range: float, dr: float, dr_y: float | None, tilt: float
) -> tuple[float, float, float, float]:
    """``(aspect, half_x, half_y, tilt_tan)`` of the ring and Fermat spirals: the y/x
    step ratio, the rectangle's half-widths (y divided by the ratio), the tilt's slope."""
    aspect = 1.0 if dr_y is None else dr_y / dr
    return aspect, x_range / 2, y_range / (2 * aspect), float(np.tan(tilt + np.pi / 2.0))


def spiral(
    x_motor: Any,
    y_motor: Any,
    x_start: float,
    y_start: float,
    x_range: float,
    y_range: float,
    dr: float,
    nth: float,
    *,
    dr_y: float | None = None,
    tilt: float = 0.0,
) -> Trajectory:
    """Rings ``dr`` apart around (x_start, y_start), ``nth`` points on the first ring,
    kept inside the (tilted) ``x_range`` by ``y_range`` rectangle."""
    frame = _spiral_frame(x_range, y_range, dr, dr_y, tilt)
    rings = 1 + int(np.sqrt(frame[1] ** 2 + frame[2] ** 2) / dr)
    polar = (
        (ring * dr, k * (2.0 * np.pi / (ring * nth)))
        for ring in range(1, rings + 2)
        for k in range(int(ring * nth))
    )
    return _spiral(x_motor, y_motor, (x_start, y_start), frame, polar, clip_y_scaled=True)


#: The golden angle used by the Fermat spiral (137.508°).
GOLDEN_ANGLE = 137.508 * np.pi / 180.0


def spiral_fermat(
    x_motor: Any,
    y_motor: Any,
    x_start: float,
    y_start: float,
    x_range: float,
    y_range: float,
    dr: float,
    factor: float,
    *,
    dr_y: float | None = None,
    tilt: float = 0.0,
) -> Trajectory:
    """A Fermat spiral (points ``sqrt(i) * dr / factor`` out, golden angle apart)."""
    frame = _spiral_frame(x_range, y_range, dr, dr_y, tilt)
    n = int((1.5 * np.sqrt(frame[1] ** 2 + frame[2] ** 2) / (dr / factor)) ** 2)
    polar = ((np.sqrt(i) * dr / factor, GOLDEN_ANGLE * i) for i in range(1, n))
    return _spiral(x_motor, y_motor, (x_start, y_start), frame, polar, clip_y_scaled=False)


def spiral_square_pattern(
    x_motor: Any,
    y_motor: Any,
    x_center: float,
    y_center: float,
    x_range: float,
    y_range: float,
    x_num: int,
    y_num: int,
) -> Trajectory:
    """A square spiral over an ``x_num`` by ``y_num`` grid, outward from its centre."""
    x_num, y_num = int(x_num), int(y_num)
    if x_num < 2 or y_num < 2:
        raise PlanParameterError(
            f"spiral_square needs at least 2 points per axis, got x_num={x_num}, y_num={y_num}"
        )
    x_off = 0.5 if x_num % 2 == 0 else 0.0
    y_off = -0.5 if y_num % 2 == 0 else 0.0
    dx, dy = x_range / (x_num - 1), y_range / (y_num - 1)
    total = x_num * y_num
    cells: list[tuple[float, float]] = [(0.0, 0.0)]

    def inside(v: float, off: float, num: int, inclusive: bool = False) -> bool:
        d = abs(v - off)
        return d <= num / 2 if inclusive else d < num / 2

    for ring in range(1, max(x_num, y_num)):
        down = range(ring - 1, -ring - 1, -1)
        up = range(-ring + 1, ring + 1)
        # the four sides of the ring: right (going down), bottom (going left),
        # left (going up), top (going right); (side on grid?, cells, varying axis)
        sides = [
            (inside(ring, x_off, x_num, True), [(ring, n) for n in down], "y"),
            (inside(-ring, y_off, y_num), [(n, -ring) for n in down], "x"),
            (inside(-ring, x_off, x_num), [(-ring, n) for n in up], "y"),
            (inside(ring, y_off, y_num), [(n, ring) for n in up], "x"),
        ]
        for side_ok, side_cells, varying in sides:
            if not side_ok:
                continue
            for ix, iy in side_cells:
                on_grid = inside(iy, y_off, y_num) if varying == "y" else inside(ix, x_off, x_num)
                if on_grid and len(cells) < total:
                    cells.append((float(ix), float(iy)))
    xs = [x_center - dx * x_off + dx * ix for ix, _ in cells]
    ys = [y_center - dy * y_off + dy * iy for _, iy in cells]
    return Trajectory.axis(x_motor, xs) + Trajectory.axis(y_motor, ys)
