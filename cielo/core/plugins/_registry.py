"""Collect what the plugins contribute, remembering which plugin offered each name.

Every contribution hook returns a mapping from name to a callable. The registry calls
each hook plugin by plugin, checks what comes back, and refuses a name offered by two
plugins with a :class:`~cielo.core.PluginError` that names both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

import pluggy

from .._errors import PluginError
from .._signature import signature_schema
from ._hooks import PluginHooks

__all__ = ["CONTRIBUTION_HOOKS", "Registry"]

#: Kind of contribution -> (hook that offers it, what one item is called in messages).
CONTRIBUTION_HOOKS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "device_types": ("cielo_device_types", "device type"),
        "plans": ("cielo_plans", "plan"),
        "callbacks": ("cielo_callbacks", "callback"),
        "suitcases": ("cielo_suitcases", "suitcase"),
        "catalog_backends": ("cielo_catalog_backends", "catalog backend"),
        "readers": ("cielo_readers", "reader"),
        "agents": ("cielo_agents", "agent"),
        "msg_commands": ("cielo_msg_commands", "Msg command"),
        "bus_transports": ("cielo_bus_transports", "bus transport"),
        "authenticators": ("cielo_authenticators", "authenticator"),
    }
)


class Registry:
    """The contributions of one plugin manager, by kind and name, collected on first use.

    ``registry.plans`` (and ``device_types``, ``callbacks``, ``suitcases``,
    ``catalog_backends``, ``readers``, ``agents``, ``msg_commands``, ``bus_transports``,
    ``authenticators``) is a read-only
    mapping from name to the contributed callable; ``registry.provider(kind, name)``
    says which plugin offered it. Every plan's typed signature is turned into a JSON
    schema when plans are collected (``registry.plan_schema(name)``), so a plan whose
    parameters cannot be described fails here, naming the plugin, plan and parameter.
    """

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self.hooks = PluginHooks(pm)
        self._items: dict[str, Mapping[str, Any]] = {}
        self._providers: dict[str, dict[str, str]] = {}
        self._schemas: dict[str, dict[str, Any]] = {}

    def get(self, kind: str) -> Mapping[str, Any]:
        """The contributions of one kind (a key of :data:`CONTRIBUTION_HOOKS`)."""
        if kind not in self._items:
            self._collect(kind)
        return self._items[kind]

    def provider(self, kind: str, name: str) -> str:
        """The name of the plugin that offered ``name`` of this kind."""
        self.get(kind)
        return self._providers[kind][name]

    def providers(self, kind: str) -> Mapping[str, str]:
        """``{name: plugin name}`` for one kind."""
        self.get(kind)
        return MappingProxyType(self._providers[kind])

    def plan_schema(self, name: str) -> dict[str, Any]:
        """The JSON schema of plan ``name``'s parameters (checked when plans are collected)."""
        self.get("plans")
        return self._schemas[name]

    def collect_all(self) -> None:
        """Collect every kind now (raising the first clash or malformed contribution)."""
        for kind in CONTRIBUTION_HOOKS:
            self.get(kind)

    def by_plugin(self) -> dict[str, dict[str, list[str]]]:
        """``{plugin: {hook name: [names]}}``, leniently: a failing hook is listed as an error.

        For listings (``cielo plugins``), where one broken plugin must not hide the rest;
        clashes are not checked here.
        """
        offers: dict[str, dict[str, list[str]]] = {}
        for hook_name, _ in CONTRIBUTION_HOOKS.values():
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                others = [p for _, p in self.pm.list_name_plugin() if p is not impl.plugin]
                try:
                    results = self.pm.subset_hook_caller(hook_name, others)()
                    names = sorted(n for r in results if r is not None for n in _names(r))
                except Exception as exc:
                    names = [f"<error: {type(exc).__name__}: {exc}>"]
                offers.setdefault(impl.plugin_name, {})[hook_name] = names
        return offers

    def _collect(self, kind: str) -> None:
        hook_name, what = CONTRIBUTION_HOOKS[kind]
        items: dict[str, Any] = {}
        providers: dict[str, str] = {}
        for plugin_name, offered in self.hooks.by_plugin(hook_name):
            for name, value in _checked(offered, plugin_name, hook_name, what):
                if name in providers:
                    raise PluginError(
                        f"{what} {name!r} is offered by two plugins: {providers[name]!r} and "
                        f"{plugin_name!r}; block one of them (CIELO_DISABLE_PLUGINS or "
                        f"[plugins] disable in the profile)"
                    )
                if kind == "plans":
                    self._schemas[name] = _plan_schema(plugin_name, name, value)
                items[name] = value
                providers[name] = plugin_name
        self._items[kind] = MappingProxyType(items)
        self._providers[kind] = providers

    def __getattr__(self, kind: str) -> Mapping[str, Any]:
        if kind in CONTRIBUTION_HOOKS:
            return self.get(kind)
        raise AttributeError(kind)

    def __iter__(self) -> Iterator[str]:
        return iter(CONTRIBUTION_HOOKS)


def _plan_schema(plugin_name: str, name: str, plan: Callable[..., Any]) -> dict[str, Any]:
    """A plan's parameter schema; an undescribable parameter names plugin, plan and parameter."""
    try:
        return signature_schema(plan)
    except PluginError as exc:
        raise PluginError(f"plugin {plugin_name!r}: plan {name!r}: {exc}") from exc


def _names(offered: Any) -> list[str]:
    return [str(name) for name in offered] if isinstance(offered, Mapping) else []


def _checked(
    offered: Any, plugin_name: str, hook_name: str, what: str
) -> Iterator[tuple[str, Callable[..., Any]]]:
    if not isinstance(offered, Mapping):
        raise PluginError(
            f"plugin {plugin_name!r}: {hook_name}() returned {type(offered).__name__}, "
            f"expected a mapping from {what} name to a callable (or None)"
        )
    for name, value in offered.items():
        if not isinstance(name, str) or not name:
            raise PluginError(
                f"plugin {plugin_name!r}: {hook_name}() offered a {what} named {name!r}; "
                "names must be non-empty strings"
            )
        if not callable(value):
            raise PluginError(
                f"plugin {plugin_name!r}: {hook_name}() offered {what} {name!r} as "
                f"{value!r}, which is not callable"
            )
        yield name, value
