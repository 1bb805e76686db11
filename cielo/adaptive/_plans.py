"""Plans steered by an agent: measure where it asks, tell it what was measured."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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

from ._agent import Agent

__all__ = ["agent_scan"]


def agent_scan(
    detectors: Sequence[Readable],
    motors: Sequence[Movable],
    agent: Agent,
    target_fields: Sequence[str],
    *,
    max_points: int = 100,
    batch: int = 1,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Let an agent choose the points: ask it, measure, tell it, until it has no more.

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
        Stop after this many points even if the agent wants more.
    batch
        Points asked for at a time.
    md
        Metadata for the run start (the agent's final ``report()`` is not included; it
        is the plan's return value).

    Returns
    -------
    dict
        The agent's ``report()`` at the end.

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
        },
        "hints": {
            "dimensions": [([n], "primary") for n in names],
            "gridding": "rectilinear_nonsequential",
        },
    }
    base.update(md or {})

    everything: list[Any] = [*detectors, *motors]

    def core() -> MsgGenerator:
        taken = 0
        while taken < max_points:
            points, _info = agent.ask(min(batch, max_points - taken))
            if not len(points):
                break
            for point in points:
                values = list(point) if isinstance(point, Sequence) else [point]
                if len(values) != len(motors):
                    raise PlanParameterError(
                        f"agent_scan: the agent asked for {point!r}, but there are "
                        f"{len(motors)} motors ({', '.join(names)})"
                    )
                yield from checkpoint()
                yield from mv(*[x for pair in zip(motors, values, strict=True) for x in pair])
                readings = yield from trigger_and_read(everything)
                taken += 1
                if not readings:  # not driven by a RunEngine
                    return agent.report()
                missing = [f for f in fields if f not in readings]
                if missing:
                    raise PlanParameterError(
                        f"agent_scan: target field(s) {missing} not among the readings "
                        f"({', '.join(sorted(readings))})"
                    )
                y = [readings[f]["value"] for f in fields]
                agent.tell(
                    point if isinstance(point, Sequence) else values[0],
                    y[0] if len(y) == 1 else tuple(y),
                )
        return agent.report()

    def run() -> MsgGenerator:
        result: dict[str, Any] = {}

        def inner() -> MsgGenerator:
            result.update((yield from core()) or {})

        yield from stage_wrapper(run_wrapper(inner(), md=base), [*detectors, *motors])
        return result

    return (yield from run())
