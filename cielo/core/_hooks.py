"""A typed facade over ``pm.hook``: the core calls hooks through these methods.

A type checker sees every hook call and its arguments; hook results are returned
as pluggy gives them (one entry per plugin that returned something other than None).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pluggy

__all__ = ["PluginHooks"]


class PluginHooks:
    """Typed access to the hooks of one plugin manager."""

    __slots__ = ("pm",)

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

    # contributions, one mapping per plugin that offers something
    def device_types(self) -> list[Mapping[str, Any]]:
        return list(self.pm.hook.cielo_device_types())

    def devices(self, profile: Any) -> list[Mapping[str, Any] | Iterable[Any]]:
        return list(self.pm.hook.cielo_devices(profile=profile))

    def plans(self) -> list[Mapping[str, Any]]:
        return list(self.pm.hook.cielo_plans())

    def callbacks(self) -> list[Mapping[str, Any]]:
        return list(self.pm.hook.cielo_callbacks())

    def suitcases(self) -> list[Mapping[str, Any]]:
        return list(self.pm.hook.cielo_suitcases())

    def catalog_backends(self) -> list[Mapping[str, Any]]:
        return list(self.pm.hook.cielo_catalog_backends())

    def readers(self) -> list[Mapping[str, Any]]:
        return list(self.pm.hook.cielo_readers())

    def agents(self) -> list[Mapping[str, Any]]:
        return list(self.pm.hook.cielo_agents())

    def msg_commands(self) -> list[Mapping[str, Any]]:
        return list(self.pm.hook.cielo_msg_commands())

    # run metadata
    def run_metadata(self, plan_name: str | None, md: Mapping[str, Any]) -> dict[str, Any]:
        """Merge what every plugin adds, in registration order (later plugins win)."""
        merged: dict[str, Any] = {}
        for extra in reversed(self.pm.hook.cielo_run_metadata(plan_name=plan_name, md=md)):
            merged.update(extra)
        return merged

    def check_run_metadata(self, md: dict[str, Any]) -> None:
        self.pm.hook.cielo_check_run_metadata(md=md)

    # lifecycle
    def environment_ready(self, env: Any) -> None:
        self.pm.hook.cielo_environment_ready(env=env)

    def engine_created(self, engine: Any) -> None:
        self.pm.hook.cielo_engine_created(engine=engine)
