"""Build a fresh plugin manager per session: every plugin comes from an entry point.

Nothing registers on import. :func:`make_plugin_manager` adds cielo's hook
specifications, then loads the plugins of the entry-point group ``cielo.plugins``:
first cielo's own (the bundled plugins, declared in cielo's ``pyproject.toml``), then
every other distribution's. The core names no plugin: in a source checkout (an editable
install, whose recorded entry points go stale when new ones are declared) cielo's own
are read from the checkout's ``pyproject.toml``, otherwise from the installed metadata.

Each plugin is loaded in isolation: one that fails to import or register is recorded
with its name, distribution, version and cause, a :class:`PluginWarning` is issued, and
the others still load. A bundled plugin whose module is missing is "not installed"
(a distribution may leave it out), not a failure. ``CIELO_STRICT_PLUGINS=1`` (or
``strict=True``) turns a failure into a :class:`~cielo.core.PluginError` with the cause
chained.

Environment variables:

``CIELO_DISABLE_PLUGINS=a,b``
    block these plugins by name (never imported).
``CIELO_DISABLE_PLUGIN_AUTOLOAD=1``
    do not load third-party entry points.
``CIELO_STRICT_PLUGINS=1``
    a plugin that fails to load is fatal.
``CIELO_TRACE_PLUGINS=1``
    print every hook call, its plugins and results to stderr.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from .._errors import PluginError
from ..suggest import did_you_mean
from ._markers import PROJECT_NAME

if TYPE_CHECKING:
    from pluggy import HookImpl, Result

__all__ = [
    "ENTRY_POINT_GROUP",
    "CieloPluginManager",
    "PluginInfo",
    "PluginWarning",
    "make_plugin_manager",
]

#: The entry-point group third-party plugins declare in their ``pyproject.toml``.
ENTRY_POINT_GROUP = "cielo.plugins"

_TRUE = {"1", "true", "yes", "on"}


class PluginWarning(UserWarning):
    """A plugin failed to load; the others loaded (see ``cielo plugins``)."""


@dataclass
class PluginInfo:
    """What cielo knows about one plugin, loaded or not.

    ``status`` is ``"loaded"``, ``"blocked"`` (not imported on request),
    ``"not installed"`` (a bundled plugin whose module is missing) or ``"failed"``
    (then ``error`` holds the message and ``exception`` the cause).
    """

    name: str
    module: str
    bundled: bool
    distribution: str | None = None
    version: str | None = None
    status: str = "loaded"
    error: str | None = None
    exception: BaseException | None = field(default=None, repr=False)
    plugin: object | None = field(default=None, repr=False)


class CieloPluginManager(pluggy.PluginManager):
    """A :class:`pluggy.PluginManager` that remembers every plugin it tried to load."""

    def __init__(self) -> None:
        super().__init__(PROJECT_NAME)
        #: Every plugin by name, in load order, including blocked and failed ones.
        self.plugin_info: dict[str, PluginInfo] = {}

    @property
    def failures(self) -> list[PluginInfo]:
        """The plugins that failed to load."""
        return [info for info in self.plugin_info.values() if info.status == "failed"]

    def plugin_versions(self) -> dict[str, str]:
        """``{plugin name: version}`` of the loaded plugins (for run-start documents)."""
        return {
            info.name: info.version or "unknown"
            for info in self.plugin_info.values()
            if info.status == "loaded"
        }


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def _env_list(name: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, "").split(",") if part.strip()]


def make_plugin_manager(
    *,
    disable: Iterable[str] = (),
    enable: Iterable[str] | None = None,
    autoload: bool | None = None,
    strict: bool | None = None,
    trace: bool | None = None,
    plugins: Iterable[object | tuple[str, object]] = (),
    bundled: Sequence[str] | None = None,
) -> CieloPluginManager:
    """Build a fresh plugin manager for one session.

    :param disable: plugin names to block (added to ``CIELO_DISABLE_PLUGINS``).
    :param enable: if given, an allow-list: only these plugins are loaded.
    :param autoload: load third-party entry points (default: yes, unless
        ``CIELO_DISABLE_PLUGIN_AUTOLOAD=1``).
    :param strict: a plugin that fails to load raises (default: ``CIELO_STRICT_PLUGINS``).
    :param trace: print hook calls to stderr (default: ``CIELO_TRACE_PLUGINS``).
    :param plugins: extra plugin objects to register after the others (tests, scripts);
        each an object (named by its ``__name__`` or class) or a ``(name, object)`` pair.
    :param bundled: module names of bundled plugins (default: cielo's own entry points).
    :returns: the manager; ``pm.plugin_info`` lists every plugin and its status.
    :raises PluginError: in strict mode, when a plugin fails to load; always, when a
        plugin's hooks cannot be checked against the specifications.
    """
    from cielo.hookspecs import SPEC_MODULES  # the core does not import upward at import time

    if autoload is None:
        autoload = not _env_flag("CIELO_DISABLE_PLUGIN_AUTOLOAD")
    if strict is None:
        strict = _env_flag("CIELO_STRICT_PLUGINS")
    if trace is None:
        trace = _env_flag("CIELO_TRACE_PLUGINS")
    blocked = set(disable) | set(_env_list("CIELO_DISABLE_PLUGINS"))
    allowed = None if enable is None else set(enable)

    pm = CieloPluginManager()
    if trace:
        _enable_trace(pm)
    for module in SPEC_MODULES:
        pm.add_hookspecs(module)
    loader = _Loader(pm, blocked, allowed, strict)

    own, others = _entry_points()
    if bundled is not None:
        own = [_entry_point(m.rpartition(".")[2], m) for m in bundled]
    for ep in own:
        loader.load(ep.name, ep.value, bundled=True, load=ep.load)
    pm.hook.cielo_addhooks.call_historic(kwargs={"pluginmanager": pm})
    if autoload:
        for ep in others:
            loader.load(ep.name, ep.value, bundled=False, load=ep.load, entry_point=ep)
    for item in plugins:
        name, plugin = item if isinstance(item, tuple) else (_object_name(item), item)
        loader.load(name, _object_name(plugin), bundled=False, load=_given(plugin))
    loader.check_pending()
    return pm


def _given(plugin: object) -> Callable[[], object]:
    return lambda: plugin


def _object_name(obj: object) -> str:
    name = getattr(obj, "__name__", None)
    return name if isinstance(name, str) else type(obj).__name__


def _entry_point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name, value, ENTRY_POINT_GROUP)


def _entry_points() -> tuple[list[EntryPoint], list[EntryPoint]]:
    """cielo's own entry points (the bundled plugins) and every other distribution's."""
    from importlib.metadata import entry_points  # not at import time: it is slow

    seen: set[tuple[str, str]] = set()
    own: list[EntryPoint] = []
    others: list[EntryPoint] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if (ep.name, ep.value) in seen:  # a distribution found twice on the path
            continue
        seen.add((ep.name, ep.value))
        (own if _distribution_of(ep)[0] == PROJECT_NAME else others).append(ep)
    declared = _declared_in_checkout()
    return (own if declared is None else declared), others


def _declared_in_checkout() -> list[EntryPoint] | None:
    """cielo's own entry points as its ``pyproject.toml`` declares them, when cielo runs
    from a source checkout (``None`` for an installed wheel: its metadata is current)."""
    import tomllib

    package = sys.modules[PROJECT_NAME].__file__
    pyproject = Path(package or ".").parent.parent / "pyproject.toml"
    if package is None or not pyproject.is_file():
        return None
    project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    if project.get("name") != PROJECT_NAME:
        return None
    declared = project.get("entry-points", {}).get(ENTRY_POINT_GROUP, {})
    return [_entry_point(name, value) for name, value in declared.items()]


def _distribution_of(ep: EntryPoint | None) -> tuple[str | None, str | None]:
    if ep is None:
        return None, None
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None, None
    return dist.metadata["Name"], dist.version


class _Loader:
    """Loads plugins one at a time, recording each outcome in ``pm.plugin_info``."""

    def __init__(
        self, pm: CieloPluginManager, blocked: set[str], allowed: set[str] | None, strict: bool
    ) -> None:
        self.pm, self.blocked, self.allowed, self.strict = pm, blocked, allowed, strict
        try:
            from importlib.metadata import version

            self.cielo_version: str | None = version("cielo")
        except Exception:  # a source tree that is not installed
            self.cielo_version = None

    def load(
        self,
        name: str,
        module: str,
        *,
        bundled: bool,
        load: Callable[[], object],
        entry_point: EntryPoint | None = None,
    ) -> None:
        dist: str | None
        version: str | None
        if bundled:
            dist, version = "cielo", self.cielo_version
        else:
            dist, version = _distribution_of(entry_point)
        info = PluginInfo(name, module, bundled, dist, version)
        if name in self.blocked or (self.allowed is not None and name not in self.allowed):
            info.status = "blocked"
            self.pm.set_blocked(name)
            self.plugin_info.setdefault(name, info)
            return
        if name in self.plugin_info:
            other = self.plugin_info[name]
            where = f"{other.module} ({other.distribution or 'unknown distribution'})"
            self._fail(
                info,
                PluginError(
                    f"plugin name {name!r} is already taken by {where}; rename the entry point "
                    f"in {dist or 'the distribution'} or block one with CIELO_DISABLE_PLUGINS"
                ),
                record=False,
            )
            return
        try:
            plugin = load()
            self.pm.register(plugin, name=name)
        except ModuleNotFoundError as exc:
            if not (bundled and _names_module_of(exc, module)):
                self._fail(info, exc)
                return
            info.status = "not installed"  # left out of this installation: not a failure
            self.plugin_info[name] = info
            return
        except Exception as exc:
            if self.pm.get_plugin(name) is not None:  # registered halfway: take it out again
                self.pm.unregister(name=name)
            self._fail(info, exc)
            return
        info.plugin = plugin
        if not bundled and version is None:
            info.version = getattr(plugin, "__version__", None)
        self.plugin_info[name] = info

    @property
    def plugin_info(self) -> dict[str, PluginInfo]:
        return self.pm.plugin_info

    def _fail(self, info: PluginInfo, exc: BaseException, *, record: bool = True) -> None:
        origin = f"{info.distribution} {info.version or ''}".strip() if info.distribution else ""
        where = f" from {origin}" if origin else ""
        message = (
            f'Error loading plugin "{info.name}" ({info.module}){where}: '
            f"{type(exc).__name__}: {exc}"
        )
        info.status, info.error, info.exception = "failed", message, exc
        if record:
            self.plugin_info[info.name] = info
        else:
            self.plugin_info[f"{info.name} ({info.module})"] = info
        if self.strict:
            raise PluginError(message + " (CIELO_STRICT_PLUGINS is set)") from exc
        warnings.warn(message, PluginWarning, stacklevel=4)

    def check_pending(self) -> None:
        """Fail a plugin whose hook implementation matches no specification."""
        known = sorted(
            name for name, caller in vars(self.pm.hook).items() if caller.spec is not None
        )
        for hook_name, caller in list(vars(self.pm.hook).items()):
            if caller.spec is not None:
                continue
            for impl in caller.get_hookimpls():
                if impl.optionalhook:
                    continue
                hint = did_you_mean(hook_name, known) or f"known hooks: {', '.join(known)}"
                error = PluginError(
                    f"plugin {impl.plugin_name!r} implements unknown hook {hook_name!r}; {hint}"
                )
                info = self.plugin_info.get(impl.plugin_name)
                self.pm.unregister(name=impl.plugin_name)
                if info is None:  # pragma: no cover - every registered plugin has an info
                    raise error
                info.plugin = None
                self._fail(info, error)
        self._check_undecorated(set(known))

    def _check_undecorated(self, known: set[str]) -> None:
        """Fail a plugin that defines a hook function but forgot ``@hookimpl``."""
        for info in list(self.plugin_info.values()):
            plugin = info.plugin
            if info.status != "loaded" or plugin is None:
                continue
            for attr in dir(plugin):
                if attr not in known or not callable(getattr(plugin, attr, None)):
                    continue
                if self.pm.parse_hookimpl_opts(plugin, attr) is None:
                    self.pm.unregister(plugin)
                    info.plugin = None
                    self._fail(
                        info,
                        PluginError(
                            f"plugin {info.name!r} defines {attr}() without @hookimpl, so "
                            "cielo would never call it; decorate it (from cielo import hookimpl)"
                        ),
                    )
                    break


def _names_module_of(exc: ModuleNotFoundError, target: str) -> bool:
    """Whether ``exc`` says the module of entry point ``target`` (or a parent) is missing."""
    module = target.partition(":")[0].strip()
    return exc.name is not None and (module == exc.name or module.startswith(exc.name + "."))


def _enable_trace(pm: pluggy.PluginManager) -> None:
    def before(hook_name: str, impls: Sequence[HookImpl], kwargs: Mapping[str, Any]) -> None:
        names = ", ".join(impl.plugin_name for impl in impls) or "no plugins"
        args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        sys.stderr.write(f"cielo trace: {hook_name}({args}) -> [{names}]\n")

    def after(
        outcome: Result[Any], hook_name: str, impls: Sequence[HookImpl], kwargs: Mapping[str, Any]
    ) -> None:
        if outcome.exception is not None:
            sys.stderr.write(f"cielo trace: {hook_name} raised {outcome.exception!r}\n")
        else:
            sys.stderr.write(f"cielo trace: {hook_name} returned {outcome.get_result()!r}\n")

    pm.add_hookcall_monitoring(before, after)
