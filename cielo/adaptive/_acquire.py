"""The acquisition plan of Bluesky's adaptive runners (bluesky-adaptive 1.x, blop).

Their queue-server runner (``bluesky_adaptive.queueserver.QueueserverOptimizationRunner``)
submits ``default_acquire(suggestions, actuators, sensors, md=...)`` and waits, through
Bluesky's ``RemoteDispatcher``, for the stop document of the run it started. Offered
under that name, this plan lets such a runner steer ``cielo serve`` unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cielo.core import PlanParameterError
from cielo.core.protocols import Movable, Readable
from cielo.plans import MsgGenerator, checkpoint, mv, run_wrapper, stage_wrapper, trigger_and_read

from ._safety import check_point

__all__ = ["ID_KEY", "acquire_suggestions"]

#: The key of a suggestion's identifier (as bluesky-adaptive names it).
ID_KEY = "_id"


def acquire_suggestions(
    suggestions: Sequence[Mapping[str, Any]],
    actuators: Sequence[Movable],
    sensors: Sequence[Readable] | None = None,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Measure each suggestion in one run: move the actuators there, read the sensors.

    Parameters
    ----------
    suggestions
        One mapping per point: ``{"_id": ..., ACTUATOR_NAME: value, ...}`` with a value
        for every actuator and an ``_id`` unique among them.
    actuators
        The motors moved (each suggestion names its value for each by the motor's name).
    sensors
        The detectors read at every point.
    md
        Metadata for the run start (bluesky-adaptive puts its correlation uid there).

    The run start records ``blop_suggestions`` and ``blop_acquisition_order`` (the ids in
    the order measured: the events' order), as bluesky-adaptive's own plan does. Every
    point is checked against the motors' soft limits before anything moves.
    """
    motors, detectors = list(actuators), list(sensors or [])
    names = [getattr(m, "name", str(m)) for m in motors]
    if not motors:
        raise PlanParameterError("default_acquire: give at least one actuator")
    ids = []
    points = []
    for i, suggestion in enumerate(suggestions):
        missing = [k for k in (ID_KEY, *names) if k not in suggestion]
        if missing:
            raise PlanParameterError(
                f"default_acquire: suggestion {i} ({dict(suggestion)!r}) has no {missing}; "
                f"each needs {ID_KEY!r} and a value for every actuator ({', '.join(names)})"
            )
        ids.append(suggestion[ID_KEY])
        points.append(check_point([suggestion[n] for n in names], names, motors=motors))
    if len(set(map(str, ids))) != len(ids):
        raise PlanParameterError(f"default_acquire: the suggestions' {ID_KEY!r} repeat: {ids}")
    detector_names = [getattr(d, "name", str(d)) for d in detectors]
    run_md: dict[str, Any] = {
        "plan_name": "default_acquire",
        "detectors": detector_names,
        "motors": names,
        "num_points": len(points),
        "plan_args": {
            "suggestions": [dict(s) for s in suggestions],
            "actuators": names,
            "sensors": detector_names,
        },  # fmt: skip
        "hints": {"dimensions": [([n], "primary") for n in names]},
        **(md or {}),
        "blop_suggestions": [dict(s) for s in suggestions],
        "blop_acquisition_order": ids,
    }
    everything: list[Any] = [*detectors, *motors]

    def inner() -> MsgGenerator:
        for values in points:
            yield from checkpoint()
            yield from mv(*[x for pair in zip(motors, values, strict=True) for x in pair])
            yield from trigger_and_read(everything)

    return (yield from stage_wrapper(run_wrapper(inner(), md=run_md), everything))
