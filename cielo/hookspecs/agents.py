"""Hook through which plugins offer adaptive agents."""

from __future__ import annotations

from collections.abc import Mapping

from cielo.core.plugins import hookspec

from .types import AgentFactory

__all__ = ["cielo_agents"]


@hookspec
def cielo_agents() -> Mapping[str, AgentFactory] | None:
    """Offer adaptive agents that steer experiments.

    Fires once per plugin manager, when the registry of contributions is built.

    :returns: a mapping from agent name to a factory called as ``factory(**params)``;
        the agent it returns has ``tell(x, y)``, ``ask(n) -> (points, info)`` and
        ``report() -> dict``. ``None`` offers nothing. A name offered by two plugins is
        an error that names both. A profile's ``[agents] allow`` list narrows what is
        offered on that profile (``agent_scan``, ``cielo agent run``, the queue).
    """
