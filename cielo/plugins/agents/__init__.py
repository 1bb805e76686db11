"""Bundled plugin: the adaptive agents and the ``agent_scan`` plan that runs one by name.

Agents offered through ``cielo_agents`` (each built as ``factory(**params)``):

- ``golden_section``: maximum of a 1-D signal by golden-section search (no extra needed);
- ``peak_fit``: lmfit peak refinement, measuring where the fit is least certain
  (``cielo[fitting]``);
- ``gp``: Gaussian-process Bayesian optimisation over N motors (``cielo[agents]``);
- ``uncertainty_map``: GP uncertainty sampling for 2-D maps (``cielo[agents]``).

The ``agent_scan`` plan names its agent by a string, so the CLI, the queue and the web
UI can run it; the agent is built when the plan runs, from the agents offered by the
plugins of the engine running it (a ``make_agent`` Msg command this plugin adds).

``default_acquire`` is the acquisition plan Bluesky's adaptive runners (bluesky-adaptive
1.x, blop) submit to a queue server, so they steer ``cielo serve`` unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping

from cielo.adaptive import acquire_suggestions
from cielo.core import hookimpl
from cielo.hookspecs import AgentFactory, CommandHandler, PlanFunction

from ._plan import AGENTS, agent_scan, make_agent

__all__ = ["AGENTS", "agent_scan", "cielo_agents", "cielo_msg_commands", "cielo_plans"]


@hookimpl
def cielo_agents() -> Mapping[str, AgentFactory]:
    """Offer the bundled agents."""
    return dict(AGENTS)


@hookimpl
def cielo_plans() -> Mapping[str, PlanFunction]:
    """Offer ``agent_scan`` and ``default_acquire`` (bluesky-adaptive's acquisition plan)."""
    return {"agent_scan": agent_scan, "default_acquire": acquire_suggestions}


@hookimpl
def cielo_msg_commands() -> Mapping[str, CommandHandler]:
    """Add ``make_agent``: build an agent by name from the engine's plugins."""
    return {"make_agent": make_agent}
