"""Hooks at the lifecycle points of a session: profile loaded, engine created."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cielo.core.plugins import hookspec

if TYPE_CHECKING:
    from cielo.core import Environment, RunEngine

__all__ = ["cielo_environment_ready", "cielo_engine_created"]


@hookspec
def cielo_environment_ready(env: Environment) -> None:
    """React to a profile having been loaded.

    Fires once per :func:`~cielo.load_profile`, after its devices, plans, callbacks and
    suitcases have been collected.

    :param env: the environment (``env.devices``, ``env.plans``, ``env.profile``, ...).
    :returns: nothing.
    """


@hookspec
def cielo_engine_created(engine: RunEngine) -> None:
    """Configure a new RunEngine (install suspenders, add metadata, subscribe).

    Fires once per RunEngine built with a plugin manager, before it runs any plan.

    :param engine: the :class:`~cielo.RunEngine`.
    :returns: nothing.
    """
