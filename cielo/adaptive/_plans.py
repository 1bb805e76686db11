"""Plans steered by an agent: measure where it asks, tell it what was measured."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cielo.core import PlanParameterError
from cielo.core.protocols import Movable, Readable
from cielo.plans import (
    MsgGenerator,
    checkpoint,
    mv,
    run_wrapper,
    stage_wrapper,
    trigger_and_read,
)

from ._agent import Agent, is_done
from ._safety import Bounds, check_point

__all__ = ["agent_scan"]


def agent_scan(
    detectors: Sequence[Readable],
    motors: Sequence[Movable],
    agent: Agent,
    target_fields: Sequence[str],
    *,
    max_points: int = 100,
    batch: int = 1,
    bounds: Bounds | None = None,
    stop_when: Callable[[dict[str, Any]], bool] | None = None,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Let an agent choose the points: ask it, move, read, tell it, until it is done.

    Every suggested point is checked before anything moves: one finite number per
    motor, inside ``bounds`` and inside each motor's own soft limits; a point that
    fails ends the run as failed, with a reason that names the value and the limit.

    Parameters
    ----------
    detectors
        Devices read at every point.
    motors
        The motors the agent's points move (one value per motor per point; a single
        number is fine for one motor).
    agent
        Has ``tell(x, y)``, ``ask(n)`` and ``report()`` (see :class:`Agent`).
    target_fields
        Reading fields told to the agent as ``y`` (one value, or a tuple of several).
    max_points
        The budget: stop after this many points even if the agent wants more.
    batch
        Points asked for at a time.
    bounds
        ``{motor name: (low, high)}``: where the agent may send each motor.
    stop_when
        ``stop_when(agent.report())`` after each point; true ends the scan (a target
        reached, a precision good enough).
    md
        Metadata for the run start.

    Returns
    -------
    dict
        The agent's final ``report()``, plus ``points`` (how many were measured) and
        ``stopped_by``: ``"agent"`` (it asked for nothing more), ``"max_points"`` or
        ``"stop_when"``.

    Examples
    --------
    >>> from cielo.adaptive import GoldenSectionAgent
    >>> RE(agent_scan([det], [motor], GoldenSectionAgent(-3, 3), ["det"]))  # doctest: +SKIP
    """
    detectors, motors, fields = list(detectors), list(motors), list(target_fields)
    if not motors:
        raise PlanParameterError("agent_scan: give at least one motor")
    if not fields:
        raise PlanParameterError("agent_scan: give at least one target field")
    if max_points < 1 or batch < 1:
        raise PlanParameterError(
            f"agent_scan: max_points={max_points} and batch={batch} must be at least 1"
        )
    names = [getattr(m, "name", str(m)) for m in motors]
    unknown = sorted(set(bounds or {}) - set(names))
    if unknown:
        raise PlanParameterError(
            f"agent_scan: bounds given for {unknown}, which are not among the motors "
            f"({', '.join(names)})"
        )
    detector_names = [getattr(d, "name", str(d)) for d in detectors]
    base: dict[str, Any] = {
        "plan_name": "agent_scan",
        "detectors": detector_names,
        "motors": names,
        "plan_args": {  # devices by name, the agent described by its repr
            "detectors": detector_names,
            "motors": names,
            "agent": repr(agent),
            "target_fields": fields,
            "max_points": max_points,
            "batch": batch,
            "bounds": {k: list(v) for k, v in (bounds or {}).items()},
        },
        "hints": {
            "dimensions": [([n], "primary") for n in names],
            "gridding": "rectilinear_nonsequential",
        },
    }
    base.update(md or {})
    everything: list[Any] = [*detectors, *motors]

    def measure(values: list[float]) -> MsgGenerator:
        yield from checkpoint()
        yield from mv(*[x for pair in zip(motors, values, strict=True) for x in pair])
        readings = yield from trigger_and_read(everything)
        if not readings:  # not driven by a RunEngine (a dry run)
            return None
        missing = [f for f in fields if f not in readings]
        if missing:
            raise PlanParameterError(
                f"agent_scan: target field(s) {missing} not among the readings "
                f"({', '.join(sorted(readings))})"
            )
        y = [readings[f]["value"] for f in fields]
        return y[0] if len(y) == 1 else tuple(y)

    def core() -> MsgGenerator:
        taken = 0
        while True:
            if taken >= max_points:
                return "max_points", taken
            points, info = agent.ask(min(batch, max_points - taken))
            if is_done(points, info):
                return "agent", taken
            for point in list(points)[: max_points - taken]:
                values = check_point(point, names, bounds=bounds, motors=motors)
                y = yield from measure(values)
                taken += 1
                if y is None:
                    return "agent", taken
                agent.tell(values[0] if len(values) == 1 else tuple(values), y)
                if stop_when is not None and stop_when(agent.report()):
                    return "stop_when", taken

    result: dict[str, Any] = {}

    def inner() -> MsgGenerator:
        stopped_by, taken = yield from core()
        result.update(agent.report())
        result.update(points=taken, stopped_by=stopped_by)

    yield from stage_wrapper(run_wrapper(inner(), md=base), everything)
    return result
