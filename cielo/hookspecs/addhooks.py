"""Hook for plugins that define hook specifications of their own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cielo.core.plugins import hookspec

if TYPE_CHECKING:
    import pluggy

__all__ = ["cielo_addhooks"]


@hookspec(historic=True)
def cielo_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    """Add new hook specifications to the plugin manager.

    Fires once per plugin manager, right after the bundled plugins are registered.
    Historic: a plugin registered later still receives the call.

    :param pluginmanager: the session's :class:`pluggy.PluginManager`; call
        ``pluginmanager.add_hookspecs(module_or_class)`` with your specifications.
    :returns: nothing.
    """
