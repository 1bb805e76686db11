"""The RunEngine's commands (built-in, from plugins, registered) and the versions it records."""

from __future__ import annotations

from ._bluesky import bluesky_style_handler
from ._commands import Handler, hooked_handler, wrap_plugin_handler
from ._parts import EnginePart

__all__ = ["Extensions"]


def _cielo_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cielo")
    except PackageNotFoundError:
        return "0.0.0+unknown"


class Extensions(EnginePart):
    """Commands added to the RunEngine, and the versions of cielo and its plugins."""

    def register_command(self, name: str, handler: Handler, *, replace: bool = False) -> None:
        """Add the command ``name``: ``handler(ctx, msg)`` (or Bluesky's ``async def
        handler(msg)``) returns a value or an awaitable."""
        self._registry.register(
            name,
            wrap_plugin_handler(bluesky_style_handler(handler)),
            owner="RE.register_command",
            replace=replace,
        )

    def unregister_command(self, name: str) -> None:
        self._registry.unregister(name)

    def _loop_handlers(self) -> dict[str, Handler]:
        """The handlers the message loop uses: the registry's, or wrapped for ``msg_hook``."""
        hook = self.msg_hook
        handlers = self._registry.handlers
        if hook is None:
            return handlers
        return {name: hooked_handler(hook, handler) for name, handler in handlers.items()}

    @property
    def commands(self) -> list[str]:
        return list(self._registry)

    def _add_plugin_commands(self) -> None:
        assert self.hooks is not None
        by_plugin = getattr(self.hooks, "by_plugin", None)
        if by_plugin is not None:
            offered = [(f"plugin {name!r}", m) for name, m in by_plugin("cielo_msg_commands")]
        else:
            offered = [("a plugin", m) for m in self.hooks.msg_commands()]
        for owner, mapping in offered:
            for name, handler in dict(mapping).items():
                self._registry.register(name, wrap_plugin_handler(handler), owner=owner)

    def versions(self) -> dict[str, str]:
        """Versions of cielo and of the plugins in use (recorded in every run start)."""
        if self._versions is None:
            versions = {"cielo": _cielo_version()}
            if self.hooks is not None:
                getter = getattr(self.hooks, "plugin_versions", None)
                if getter is not None:
                    versions.update({str(k): str(v) for k, v in getter().items()})
            self._versions = versions
        return dict(self._versions)
