"""The RunEngine's commands (built-in, from plugins, registered) and the versions it records."""

from __future__ import annotations

import functools
import importlib.util
import sys
from importlib import metadata
from typing import Any

from ._bluesky import bluesky_style_handler
from ._commands import Handler, hooked_handler, wrap_plugin_handler
from ._parts import EnginePart

__all__ = ["VERSIONED_PACKAGES", "Extensions", "package_versions"]


#: Packages whose versions ``RE.md["versions"]`` holds when they are importable (module
#: name, distribution name); Bluesky's RunEngine records bluesky, ophyd, ophyd_async and
#: event_model the same way.
VERSIONED_PACKAGES = (
    ("cielo", "cielo"),
    ("numpy", "numpy"),
    ("event_model", "event-model"),
    ("bluesky", "bluesky"),
    ("ophyd", "ophyd"),
    ("ophyd_async", "ophyd-async"),
)


def _cielo_version() -> str:
    try:
        return metadata.version("cielo")
    except metadata.PackageNotFoundError:
        return "0.0.0+unknown"


@functools.cache
def package_versions() -> dict[str, str]:
    """``{module: version}`` of the :data:`VERSIONED_PACKAGES` that can be imported (none is
    imported to find out: the version of one not yet loaded comes from its metadata)."""
    versions = {"cielo": _cielo_version()}
    for module, distribution in VERSIONED_PACKAGES[1:]:
        loaded = sys.modules.get(module)
        version = getattr(loaded, "__version__", None)
        if version is None:
            try:
                if importlib.util.find_spec(module) is None:
                    continue
                version = metadata.version(distribution)
            except (ImportError, ValueError, metadata.PackageNotFoundError):
                continue
        versions[module] = str(version)
    return versions


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

    def offload(self, device: Any, *methods: str) -> None:
        """Call ``device``'s reading methods (or only ``methods``, among ``OFFLOADABLE``) in
        worker threads from their first call, the plan awaiting them while the event loop
        goes on: for a device whose synchronous reads block (a slow serial line, an IOC
        that may be down). Given no methods, its ``stage()``, ``unstage()`` and
        ``configure()`` are called there too, each awaited in the plan's order. Reads that
        block the loop longer than ``BLOCKING_CALL`` three times in a row are sent there by
        themselves. ``set()``, ``trigger()``, ``stop()``... always stay on the loop, in
        order."""
        for method in methods or (None,):
            self._ctx.offloader.add(device, method, pinned=True)

    @property
    def offloaded(self) -> list[tuple[str, str]]:
        """``(device name, method)`` of the calls made in worker threads (``'*'``: all), by
        ``RE.offload`` or ``offload_blocking``; devices whose class declares
        ``blocking_reads`` are read there too, unlisted."""
        return [
            (getattr(e.obj, "name", None) or repr(e.obj), method or "*")
            for (_, method), e in self._ctx.offloader.entries.items()
        ]

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

    def _prefill_versions(self) -> None:
        """``RE.md["versions"]``: the installed versions of cielo and its neighbours (in every
        start document, as Bluesky's), kept up to date with what runs now."""
        recorded = self._md.get("versions")
        versions = {**(recorded if isinstance(recorded, dict) else {}), **package_versions()}
        if versions != recorded:
            self._md["versions"] = versions

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
