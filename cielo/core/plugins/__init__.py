"""The plugin layer: cielo's pluggy markers, the plugin manager, the typed hook facade and the
registry of what plugins contribute (plans, devices, callbacks, commands...).

Plugin authors need :data:`hookimpl` (also ``cielo.hookimpl``); tests build a manager with
:func:`make_plugin_manager`. :data:`hookspec` marks the hook specifications in
:mod:`cielo.hookspecs`.
"""

from ._hooks import PluginHooks
from ._manager import (
    ENTRY_POINT_GROUP,
    CieloPluginManager,
    PluginInfo,
    PluginWarning,
    make_plugin_manager,
)
from ._markers import PROJECT_NAME, hookimpl, hookspec
from ._registry import CONTRIBUTION_HOOKS, Registry

__all__ = [
    "CONTRIBUTION_HOOKS",
    "ENTRY_POINT_GROUP",
    "PROJECT_NAME",
    "CieloPluginManager",
    "PluginHooks",
    "PluginInfo",
    "PluginWarning",
    "Registry",
    "hookimpl",
    "hookspec",
    "make_plugin_manager",
]
