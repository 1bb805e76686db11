"""``agent_scan`` by agent name, and the ``make_agent`` command that builds the agent."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from cielo import adaptive
from cielo.adaptive import build_agent
from cielo.core import Msg, Offered, PlanParameterError
from cielo.core.profile import allowed_agents
from cielo.core.protocols import Movable, Readable
from cielo.plans import MsgGenerator, simulated_by

__all__ = ["AGENTS", "agent_scan", "make_agent"]

#: The bundled agents by name.
AGENTS: Mapping[str, Any] = {
    "golden_section": adaptive.GoldenSectionAgent,
    "peak_fit": adaptive.PeakFitAgent,
    "gp": adaptive.GPAgent,
    "uncertainty_map": adaptive.UncertaintyMapAgent,
}


def offered_agents(pm: Any) -> dict[str, Any]:
    """Every agent factory the plugins registered on ``pm`` offer, by name."""
    offered: dict[str, Any] = {}
    for mapping in pm.hook.cielo_agents():
        offered.update(mapping or {})
    return offered


@simulated_by(lambda sim, msg: build_agent(AGENTS, *msg.args))  # a dry run: bundled agents
def make_agent(ctx: Any, msg: Msg) -> Any:
    """``Msg("make_agent", None, name, params)``: the agent, built from the engine's plugins
    (only one its profile's ``[agents] allow`` list names, when it has one)."""
    name, params = msg.args
    pm = ctx.engine.plugin_manager
    if pm is None:
        raise PlanParameterError(
            "agent_scan names its agent, which needs a RunEngine built with a plugin manager "
            "(RunEngine(plugin_manager=env.pm)); or call cielo.adaptive.agent_scan with an agent"
        )
    allowed, source = allowed_agents(pm) or (None, "the profile")
    return build_agent(offered_agents(pm), name, params, allowed=allowed, source=source)


def _value(value: Any) -> Any:
    """A parameter value, read as JSON when it is text holding JSON (a web form's field)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def agent_scan(
    detectors: Sequence[Readable],
    motors: Sequence[Movable],
    agent: Annotated[str, Offered("agents")],
    target_field: str,
    *,
    agent_params: Mapping[str, Any] | None = None,
    max_points: int = 100,
    batch: int = 1,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Let a named agent choose where to measure: ask it, move, read, tell it, until done.

    Parameters
    ----------
    detectors
        Devices read at every point.
    motors
        The motors the agent moves (its points have one value per motor).
    agent
        The agent's name, as plugins offer it (``golden_section``, ``peak_fit``, ``gp``,
        ``uncertainty_map``, ...).
    target_field
        The reading told to the agent as ``y`` (``det`` for the sim detector).
    agent_params
        Parameters of the agent (``{"low": -3, "high": 3}``; ``{"bounds": [[-3, 3]]}``); a
        value given as text (a web form's field) is read as JSON when it is JSON
        (``"-3"`` is -3, ``"[[-3, 3]]"`` a list), else kept as text.
    max_points
        The budget: stop after this many points even if the agent wants more.
    batch
        Points asked for at a time.
    bounds
        ``{motor: [low, high]}``: every point is checked against these and the motors'
        own limits before anything moves.
    md
        Metadata for the run start.
    """
    params = {key: _value(text) for key, text in (agent_params or {}).items()}
    built = yield Msg("make_agent", None, agent, params)
    if built is None:  # a dry run without a RunEngine: build it here to show the points
        built = build_agent(AGENTS, agent, params)
    info = {"agent": agent, "agent_params": params}
    return (
        yield from adaptive.agent_scan(
            detectors,
            motors,
            built,
            [target_field],
            max_points=max_points,
            batch=batch,
            bounds=bounds,
            md={**info, **(md or {})},
        )
    )
