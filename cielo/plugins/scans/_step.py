"""Step scans along a line or a list: scan_nd, scan, inner_product_scan, list_scan,
log_scan, and their relative forms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cielo.core import PlanParameterError
from cielo.core.protocols import Movable, Readable
from cielo.plans import MsgGenerator, Trajectory, validated
from cielo.plans.patterns import inner_list_product, inner_product

from ._common import (
    PerStep,
    check_detectors,
    dimensions,
    joint_dimensions,
    jsonable,
    merge_md,
    plan_md,
    relative_plan,
    run_nd,
)

__all__ = [
    "scan_nd",
    "scan",
    "rel_scan",
    "inner_product_scan",
    "list_scan",
    "rel_list_scan",
    "log_scan",
    "rel_log_scan",
]


@validated
def scan_nd(
    detectors: Sequence[Readable],
    cycler: Trajectory,
    *,
    per_step: PerStep | None = None,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Scan over any trajectory: at each step move the motors, then read everything.

    Parameters
    ----------
    detectors
        Devices to read at every step.
    cycler
        The steps: a :class:`~cielo.plans.Trajectory` (``a + b`` together, ``a * b``
        every combination), a :class:`cycler.Cycler`, or from text
        ``{"motor1": [positions], "motor2": [positions]}``.
    per_step
        Replaces the default step ``one_nd_step(detectors, step, pos_cache)``.
    md
        Metadata for the run start.

    Examples
    --------
    >>> from cielo.plans import Trajectory
    >>> traj = Trajectory.axis(motor1, [1, 2, 3]) * Trajectory.axis(motor2, [0, 5])
    >>> RE(scan_nd([det2], traj))  # doctest: +SKIP
    """
    detectors = check_detectors(detectors, "scan_nd")
    traj = Trajectory.__cielo_convert__(cycler, {})
    plan_args = {"cycler": jsonable(traj), "per_step": jsonable(per_step)}
    base = plan_md("scan_nd", detectors, plan_args, hints={})
    return (yield from run_nd(detectors, traj, per_step, merge_md(base, md)))


def _triples(args: Sequence[Any], plan: str) -> list[tuple[Any, Any, Any]]:
    if len(args) % 3 or not args:
        raise PlanParameterError(
            f"{plan}: expected motor, start, stop for each motor (motor1, start1, stop1, "
            f"motor2, ...), got {len(args)} values"
        )
    return list(zip(args[::3], args[1::3], args[2::3], strict=True))


@validated
def scan(
    detectors: Sequence[Readable],
    *args: Movable | float,
    num: int | None = None,
    per_step: PerStep | None = None,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Scan motors together from start to stop in ``num`` evenly spaced points.

    Parameters
    ----------
    detectors
        Devices to read at every point.
    args
        ``motor1, start1, stop1, motor2, start2, stop2, ...``; all motors move together.
    num
        Number of points (the first and last included).
    per_step
        Replaces the default step (see ``scan_nd``).
    md
        Metadata for the run start.

    Examples
    --------
    >>> RE(scan([det], motor, -1, 1, num=11))  # doctest: +SKIP
    """
    return (yield from _scan("scan", detectors, args, num, per_step, md, relative=False))


def _scan(
    name: str,
    detectors: Sequence[Readable],
    args: Sequence[Any],
    num: int | None,
    per_step: PerStep | None,
    md: Mapping[str, Any] | None,
    *,
    relative: bool,
) -> MsgGenerator:
    detectors = check_detectors(detectors, name)
    if num is None:
        # Bluesky's older form: scan(dets, motor, start, stop, num)
        if len(args) % 3 == 1 and isinstance(args[-1], int | np.integer):
            args, num = args[:-1], int(args[-1])
        else:
            raise PlanParameterError(
                f"{name}: give the number of points, e.g. {name}([det], motor, -1, 1, num=11)"
            )
    if num < 1:
        raise PlanParameterError(f"{name}: num={num!r} must be at least 1")
    triples = _triples(args, name)
    motors = [m for m, _, _ in triples]
    md_args = [x for m, a, b in triples for x in (jsonable(m), jsonable(a), jsonable(b))]
    base = plan_md(
        name,
        detectors,
        {"num": num, "args": md_args, "per_step": jsonable(per_step)},
        hints={"dimensions": joint_dimensions(motors)},
        pattern="inner_product",
        pattern_args={"num": num, "args": md_args},
    )
    traj = inner_product(num, args)
    return (yield from run_nd(detectors, traj, per_step, merge_md(base, md), relative=relative))


@validated
def inner_product_scan(
    detectors: Sequence[Readable],
    num: int,
    *args: Movable | float,
    per_step: PerStep | None = None,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Like ``scan`` with ``num`` given before the motors (Bluesky's older name).

    Examples
    --------
    >>> RE(inner_product_scan([det], 5, motor1, 0, 1, motor2, 10, 20))  # doctest: +SKIP
    """
    return (
        yield from _scan("inner_product_scan", detectors, args, num, per_step, md, relative=False)
    )


rel_scan = relative_plan(
    scan,
    _scan,
    "``scan`` relative to where the motors are; they return there afterwards.",
    "RE(rel_scan([det], motor, -0.5, 0.5, num=11))",
)


def _list_args(args: Sequence[Any], name: str) -> list[tuple[Any, list[Any]]]:
    if len(args) % 2 or not args:
        raise PlanParameterError(
            f"{name}: expected motor, [positions] for each motor (motor1, [1, 2, 3], "
            f"motor2, [4, 5, 6]), got {len(args)} values"
        )
    pairs = []
    for motor, positions in zip(args[::2], args[1::2], strict=True):
        if isinstance(positions, str) or not hasattr(positions, "__iter__"):
            raise PlanParameterError(
                f"{name}: the positions of {getattr(motor, 'name', motor)!r} must be a list, "
                f"got {positions!r}"
            )
        pairs.append((motor, list(positions)))
    return pairs


@validated
def list_scan(
    detectors: Sequence[Readable],
    *args: Movable | Sequence[float],
    per_step: PerStep | None = None,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Scan motors together through lists of positions (all of the same length).

    Parameters
    ----------
    detectors
        Devices to read at every point.
    args
        ``motor1, [positions1], motor2, [positions2], ...``
    per_step
        Replaces the default step (see ``scan_nd``).
    md
        Metadata for the run start.

    Examples
    --------
    >>> RE(list_scan([det], motor, [0, 0.5, 2]))  # doctest: +SKIP
    """
    return (yield from _list_scan("list_scan", detectors, args, per_step, md, relative=False))


def _list_scan(
    name: str,
    detectors: Sequence[Readable],
    args: Sequence[Any],
    per_step: PerStep | None,
    md: Mapping[str, Any] | None,
    *,
    relative: bool,
) -> MsgGenerator:
    detectors = check_detectors(detectors, name)
    pairs = _list_args(args, name)
    motors = [m for m, _ in pairs]
    md_args = [x for m, p in pairs for x in (jsonable(m), jsonable(p))]
    base = plan_md(
        name,
        detectors,
        {"args": md_args, "per_step": jsonable(per_step)},
        hints={"dimensions": joint_dimensions(motors)},
        pattern="inner_list_product",
        pattern_args={"args": md_args},
    )
    traj = inner_list_product([x for m, p in pairs for x in (m, p)])
    return (yield from run_nd(detectors, traj, per_step, merge_md(base, md), relative=relative))


rel_list_scan = relative_plan(
    list_scan,
    _list_scan,
    "``list_scan`` with positions relative to where the motors are.",
    "RE(rel_list_scan([det], motor, [-1, 0, 1]))",
)


@validated
def log_scan(
    detectors: Sequence[Readable],
    motor: Movable,
    start: float,
    stop: float,
    num: int,
    *,
    per_step: PerStep | None = None,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Scan one motor in ``num`` log-spaced points from 10**start to 10**stop.

    Parameters
    ----------
    detectors
        Devices to read at every point.
    motor
        The motor.
    start, stop
        Exponents (base 10) of the first and last positions.
    num
        Number of points.
    per_step
        Replaces the default step (see ``scan_nd``).
    md
        Metadata for the run start.

    Examples
    --------
    >>> RE(log_scan([det], motor, -1, 1, 5))  # positions 0.1 ... 10  # doctest: +SKIP
    """
    plan = _log_scan("log_scan", detectors, motor, start, stop, num, per_step, md, relative=False)
    return (yield from plan)


def _log_scan(
    name: str,
    detectors: Sequence[Readable],
    motor: Any,
    start: float,
    stop: float,
    num: int,
    per_step: PerStep | None,
    md: Mapping[str, Any] | None,
    *,
    relative: bool,
) -> MsgGenerator:
    detectors = check_detectors(detectors, name)
    if num < 1:
        raise PlanParameterError(f"{name}: num={num!r} must be at least 1")
    plan_args = {
        "motor": jsonable(motor),
        "start": start,
        "stop": stop,
        "num": num,
        "per_step": jsonable(per_step),
    }
    base = plan_md(name, detectors, plan_args, hints={"dimensions": dimensions([motor])})
    # the positions are numpy.logspace(start, stop, num), recorded as Bluesky records them
    base["plan_pattern"] = "logspace"
    base["plan_pattern_module"] = "numpy"
    base["plan_pattern_args"] = {"start": start, "stop": stop, "num": num}
    traj = Trajectory.axis(motor, np.logspace(start, stop, num))
    return (yield from run_nd(detectors, traj, per_step, merge_md(base, md), relative=relative))


rel_log_scan = relative_plan(
    log_scan,
    _log_scan,
    "``log_scan`` with offsets 10**start ... 10**stop from where the motor is.",
    "RE(rel_log_scan([det], motor, -2, 0, 5))",
)
