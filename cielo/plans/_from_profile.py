"""Running a profile's plans the same way everywhere (``cielo run``, the queue server's worker).

:func:`profile_plan` builds a plan call from its name and plain arguments (device names
as strings, checked and converted against the plan's typed signature, nothing
evaluated) and wraps it with the profile's ``[supplemental]`` devices;
:func:`subscribe_profile` subscribes what :meth:`~cielo.core.Environment.make_subscribers`
built to a RunEngine, with the delivery groups and fatality ``cielo run`` uses.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any

from cielo.core import Environment, Msg, PlanParameterError, RunEngine, bind_parameters

from ._supplemental import SupplementalData
from ._trajectory import limit_points

__all__ = ["FEEDBACK_GROUP", "profile_plan", "subscribe_profile"]

#: the subscriber group of a profile's ``[callbacks.*]`` (see ``RE.subscribe(group=)``)
FEEDBACK_GROUP = "callbacks"


def profile_plan(
    env: Environment,
    name: str,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    devices: Mapping[str, Any] | None = None,
) -> Generator[Msg, Any, Any]:
    """The plan ``name`` of ``env`` called with ``args``/``kwargs``, ready for a RunEngine.

    :param devices: the devices names resolve against (default ``env.devices``; the queue
        server passes a mapping that also resolves dotted sub-device names).
    :raises PlanParameterError: an unknown plan, or a parameter naming its problem.
    """
    plan = env.plans.get(name)
    if plan is None:
        raise PlanParameterError(
            f"unknown plan {name!r}; plans of this profile: {', '.join(sorted(env.plans))}"
        )
    devices = env.devices if devices is None else devices
    bound = bind_parameters(plan, tuple(args), dict(kwargs or {}), devices, what=f"plan {name!r}")
    messages = plan(*bound.args, **bound.kwargs)
    if env.profile.supplemental:  # the profile's [supplemental] baseline, monitors, flyers
        messages = SupplementalData.from_names(env.devices, **env.profile.supplemental)(messages)
    if env.profile.max_points is not None:
        where = f"[engine] max_points in {env.profile.source}"
        messages = limit_points(messages, env.profile.max_points, where)
    return messages


def subscribe_profile(
    RE: RunEngine, subscribers: Mapping[str, Callable[[str, dict[str, Any]], Any]]
) -> list[int]:
    """Subscribe a profile's subscribers (from ``env.make_subscribers()``) to ``RE``.

    The ``[callbacks.*]`` share one delivery thread, in profile order, so what they print
    never interleaves (a table, then its peak summary); suitcases and the catalog writer
    keep a thread each, and their errors fail the run (fatal): a run that cannot be
    stored does not pass for a good one. A feedback callback with an ``attach(RE)``
    method (``[callbacks.progress]``) is given the engine, to follow its waits and state. Returns the
    subscription tokens.
    """
    tokens = []
    for key, callback in subscribers.items():
        feedback = key.startswith("callbacks.")
        tokens.append(
            RE.subscribe(callback, group=FEEDBACK_GROUP if feedback else None, fatal=not feedback)
        )
        attach = getattr(callback, "attach", None)  # e.g. the progress bars: slow waits
        if feedback and callable(attach):
            attach(RE)
    return tokens
