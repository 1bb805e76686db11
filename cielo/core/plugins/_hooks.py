"""A typed facade over ``pm.hook``: the core calls hooks through these methods.

A type checker sees every hook call and its arguments; hook results are returned
as pluggy gives them (one entry per plugin that returned something other than None).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from ..engine import RunEngine
    from ..profile import Environment, Profile

__all__ = ["PluginHooks"]


class PluginHooks:
    """Typed access to the hooks of one plugin manager."""

    __slots__ = ("pm",)

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

    def plugin_versions(self) -> dict[str, str]:
        """``{plugin name: version}`` of every registered plugin (for run-start documents)."""
        info = getattr(self.pm, "plugin_info", None)
        if info is not None:
            return {i.name: i.version or "unknown" for i in info.values() if i.status == "loaded"}
        return {name: "unknown" for name, plugin in self.pm.list_name_plugin() if plugin}

    def by_plugin(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call one hook plugin by plugin: ``(plugin name, result)`` for each non-None result.

        Results come in registration order (the first registered plugin first), so a
        caller can say which plugin offered what; tracing sees every call.
        """
        caller = getattr(self.pm.hook, hook_name)
        impls = [i for i in caller.get_hookimpls() if not (i.wrapper or i.hookwrapper)]
        plugins = [impl.plugin for impl in impls]
        results: list[tuple[str, Any]] = []
        for impl in impls:  # wrappers stay in every subset and wrap each call
            others = [p for p in plugins if p is not impl.plugin]
            for result in self.pm.subset_hook_caller(hook_name, others)(**kwargs):
                if result is not None:
                    results.append((impl.plugin_name, result))
        return results

    # contributions, one mapping per plugin that offers something
    def device_types(self) -> list[Mapping[str, Any]]:
        return list(self.pm.hook.cielo_device_types())

    def devices(self, profile: Profile) -> list[Mapping[str, object] | Iterable[object]]:
        return list(self.pm.hook.cielo_devices(profile=profile))

    def plans(self) -> list[Mapping[str, Any]]:
        return list(self.pm.hook.cielo_plans())

    def plan_forms(self) -> list[tuple[str, Any]]:
        """``(plugin name, {plan name: PlanForm})`` for each plugin offering web forms."""
        return self.by_plugin("cielo_plan_forms")

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

    def bus_transports(self) -> list[Mapping[str, Any]]:
        return list(self.pm.hook.cielo_bus_transports())

    def profile_dirs(self) -> list[Path]:
        """The plugins' profile directories, the first registered plugin's first."""
        dirs = (d for _, offered in self.by_plugin("cielo_profile_dirs") for d in offered)
        return [Path(d) for d in dirs]

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
    def environment_ready(self, env: Environment) -> None:
        self.pm.hook.cielo_environment_ready(env=env)

    def engine_created(self, engine: RunEngine) -> None:
        self.pm.hook.cielo_engine_created(engine=engine)
