"""Load a profile into an environment: plugin manager, devices, plans and subscribers by name.

:func:`load_profile` reads the profile, builds a plugin manager honouring its
``[plugins]`` table, collects the plugins' contributions, builds the profile's devices
in dependency order (checking every parameter against the factory's typed signature),
adds the devices plugins offer through ``cielo_devices``, checks the callback, suitcase
and catalog tables, and fires ``cielo_environment_ready``.
"""

from __future__ import annotations

import inspect
import os
import typing
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pluggy

from .._errors import CieloError, PlanParameterError, ProfileError
from .._signature import bind_parameters, is_device_annotation
from ..paths import default_catalog_uri
from ..plugins import PluginHooks, Registry, hookimpl, make_plugin_manager
from ._functions import resolve_functions
from ._profile import DeviceSpec, Profile, SubscriberSpec, read_profile, suggest

if TYPE_CHECKING:
    from ..engine import RunEngine

__all__ = ["Environment", "Subscribers", "allowed_agents", "load_profile"]

DocumentCallback = Callable[[str, dict[str, Any]], Any]


class Environment:
    """A loaded profile: the session's plugin manager and everything by name.

    ``devices``, ``plans``, ``callbacks``, ``suitcases``, ``agents``, ``readers``,
    ``catalog_backends`` and ``msg_commands`` are read-only mappings by name (the
    callback and suitcase mappings hold factories; :meth:`make_subscribers` builds the
    instances the profile configures). ``metadata`` is the profile's default run
    metadata, which every RunEngine built with ``plugin_manager=env.pm`` adds to its run
    starts (through a ``cielo_run_metadata`` hook registered as ``"profile"``);
    ``catalog_uri`` where runs are catalogued: ``CIELO_CATALOG``, else the profile's
    ``[catalog] uri``, else the user's default catalog (:func:`cielo.core.paths.default_catalog_uri`);
    ``None`` when the profile says ``catalog = false`` (``catalog_source`` says which).
    """

    def __init__(
        self,
        profile: Profile,
        pm: pluggy.PluginManager,
        registry: Registry,
        devices: Mapping[str, Any],
        device_sources: Mapping[str, str],
    ) -> None:
        self.profile = profile
        self.pm = pm
        self.hooks = PluginHooks(pm)
        self.registry = registry
        self.devices: Mapping[str, Any] = MappingProxyType(dict(devices))
        #: where each device came from: ``"profile"`` or ``"plugin NAME"``.
        self.device_sources: Mapping[str, str] = MappingProxyType(dict(device_sources))
        self.plans: Mapping[str, Any] = registry.get("plans")
        self.callbacks: Mapping[str, Any] = registry.get("callbacks")
        self.suitcases: Mapping[str, Any] = registry.get("suitcases")
        offered = registry.get("agents")
        #: the agents this profile offers: its ``[agents] allow`` list, else every agent
        #: the plugins offer (``registry.get("agents")``)
        self.agents: Mapping[str, Any] = (
            offered
            if profile.agents is None
            else MappingProxyType({n: offered[n] for n in profile.agents})
        )
        #: ``[functions] allow``: the functions a queue server may run, by name (set by
        #: :func:`load_profile`)
        self.functions: Mapping[str, Any] = MappingProxyType({})
        self.readers: Mapping[str, Any] = registry.get("readers")
        self.catalog_backends: Mapping[str, Any] = registry.get("catalog_backends")
        self.device_types: Mapping[str, Any] = registry.get("device_types")
        self.msg_commands: Mapping[str, Any] = registry.get("msg_commands")
        self.metadata: Mapping[str, Any] = MappingProxyType(dict(profile.metadata))
        self.catalog_uri, self.catalog_source = _catalog_of(profile, self.catalog_backends)

    def __repr__(self) -> str:
        return (
            f"<Environment {self.profile.source}: {len(self.devices)} devices, "
            f"{len(self.plans)} plans>"
        )

    def offered(self, kind: str) -> tuple[list[str], str]:
        """The names of ``kind`` (``"agents"``, ``"plans"``, ...) offered here, and how to
        offer another (what a parameter annotated ``Offered(kind)`` may name)."""
        if kind == "agents" and self.profile.agents is not None:
            fix = f"to offer another, add it to [agents] allow in {self.profile.source}"
            return sorted(self.agents), fix
        return sorted(self.registry.get(kind)), "to offer another, install a plugin offering it"

    def make_subscribers(self, *, callbacks: bool = True) -> Subscribers:
        """Build the callbacks, suitcases and catalog writer the profile configures.

        :param callbacks: build the ``[callbacks.*]`` (live feedback) too; with ``False``
            only what stores runs (suitcases, catalog) is built.
        :returns: a :class:`Subscribers` mapping ``"callbacks.NAME"``,
            ``"suitcases.NAME"`` and ``"catalog"`` to fresh instances, ready for
            ``RE.subscribe``; use it as a context manager (or call ``close()``) so
            writers flush and the catalog closes after the runs.
        """
        made = Subscribers()
        try:
            for kind, specs, factories in (
                ("callbacks", self.profile.callbacks if callbacks else {}, self.callbacks),
                ("suitcases", self.profile.suitcases, self.suitcases),
            ):
                for spec in specs.values():
                    where = f"[{kind}.{spec.name}]"
                    try:
                        made[f"{kind}.{spec.name}"] = factories[spec.type](**spec.params)
                    except Exception as exc:
                        raise self.profile.error(
                            where, f"could not be built: {type(exc).__name__}: {exc}"
                        ) from exc
            if self.catalog_uri:
                made["catalog"] = self._open_catalog_writer(made)
        except BaseException:
            made.close()
            raise
        return made

    def _open_catalog_writer(self, made: Subscribers) -> DocumentCallback:
        """Open the catalog at :attr:`catalog_uri` and return it as a document callback."""
        uri = self.catalog_uri or ""
        try:
            catalog = self.catalog_backends[_scheme(uri)](uri)
        except Exception as exc:
            raise ProfileError(
                f"{self.catalog_source}: could not open {uri!r}: {type(exc).__name__}: {exc}"
            ) from exc
        writer = getattr(catalog, "writer", None)
        if callable(catalog) or not callable(writer):
            subscriber = catalog
        else:
            made.resources.append(catalog)  # closed after its writer
            subscriber = writer()
        if not callable(subscriber):
            raise self.profile.error(
                "[catalog]", f"backend for {uri!r} returned {catalog!r}, not a document callback"
            )
        return typing.cast(DocumentCallback, subscriber)


class Subscribers(dict[str, DocumentCallback]):
    """Document callbacks by name, closed together: ``with env.make_subscribers() as subs:``."""

    def __init__(self) -> None:
        super().__init__()
        #: objects closed after the subscribers (e.g. the catalog behind its writer).
        self.resources: list[Any] = []

    def close(self) -> None:
        """Close every subscriber that has ``close()``, then the resources; report the first error."""
        errors: list[BaseException] = []
        for obj in [*self.values(), *reversed(self.resources)]:
            close = getattr(obj, "close", None)
            if callable(close):
                try:
                    close()
                except Exception as exc:
                    errors.append(exc)
        self.resources.clear()
        if errors:
            raise errors[0]

    def __enter__(self) -> Subscribers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ProfileMetadata:
    """The profile's ``[metadata]``, ``[engine]`` and ``[agents]`` as a plugin: default keys
    of every run start, the options of every RunEngine, the agents allowed.

    Registered on the environment's plugin manager as ``"profile"``, so any RunEngine
    built with ``plugin_manager=env.pm`` adds them; the plan's and the caller's keys win,
    and nothing is written into the engine's persistent ``RE.md``. A plan's
    ``make_agent`` reads the allowed agents through :func:`allowed_agents`.
    """

    def __init__(
        self,
        metadata: Mapping[str, Any],
        engine_options: Mapping[str, Any] | None = None,
        agents: tuple[str, ...] | None = None,
        source: str = "",
    ) -> None:
        self.metadata = dict(metadata)
        self.engine_options = dict(engine_options or {})
        self.agents = agents
        self.source = source

    @hookimpl
    def cielo_engine_created(self, engine: RunEngine) -> None:
        for option, value in self.engine_options.items():
            if option == "device_timeouts":
                engine.device_timeouts.update(value)
            else:
                setattr(engine, option, value)

    @hookimpl
    def cielo_run_metadata(self, plan_name: str | None, md: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.metadata)


#: Name under which :class:`ProfileMetadata` is registered.
PROFILE_PLUGIN = "profile"


def allowed_agents(pm: pluggy.PluginManager) -> tuple[tuple[str, ...], str] | None:
    """``(agent names, profile file)`` when the profile loaded onto ``pm`` has an
    ``[agents] allow`` list; ``None`` when every agent the plugins offer is allowed."""
    plugin = pm.get_plugin(PROFILE_PLUGIN)
    if not isinstance(plugin, ProfileMetadata) or plugin.agents is None:
        return None
    return plugin.agents, plugin.source


def _catalog_of(profile: Profile, backends: Mapping[str, Any]) -> tuple[str | None, str]:
    """``(uri, where it came from)`` of the catalog the profile's runs are stored in."""
    if not profile.catalog_enabled:
        return None, f"{profile.source}: catalog = false"
    from_env = os.environ.get("CIELO_CATALOG")
    if from_env:
        return from_env, "CIELO_CATALOG"
    if profile.catalog_uri:
        return profile.catalog_uri, f"{profile.source}: [catalog] uri"
    default = default_catalog_uri()
    if _scheme(default) not in backends:  # the catalog plugin is disabled
        return None, f"{profile.source}: no catalog backend (the catalog plugin is not loaded)"
    return default, "the default catalog"


def _scheme(uri: str) -> str:
    return uri.partition("://")[0] if "://" in uri else ""


def load_profile(
    name_or_path: str | os.PathLike[str] | Profile = "sim",
    *,
    plugin_manager: pluggy.PluginManager | None = None,
    disable: Iterable[str] = (),
    autoload: bool | None = None,
    strict: bool | None = None,
) -> Environment:
    """Load a profile by name, path or parsed :class:`Profile` and return its environment.

    :param plugin_manager: use this manager instead of building one (its plugins are
        taken as they are; the profile's ``[plugins]`` table is then only checked).
    :param disable: more plugin names to block (with the profile's ``disable``).
    :param autoload: load third-party entry points (see :func:`make_plugin_manager`).
    :param strict: a plugin that fails to load is fatal.
    :raises ProfileError: the profile is missing, malformed or names something that no
        plugin offers; the message names the file, the table or key, and the fix.
    """
    if isinstance(name_or_path, Profile):
        profile = name_or_path
    else:
        profile = read_profile(name_or_path, plugin_manager)
    pm = plugin_manager
    if pm is None:
        pm = make_plugin_manager(
            enable=profile.enable,
            disable=[*profile.disable, *disable],
            autoload=autoload,
            strict=strict,
        )
    _check_plugin_names(profile, pm)
    registry = Registry(pm)
    registry.collect_all()
    _check_agent_names(profile, registry.get("agents"))
    devices = _build_devices(profile, registry.get("device_types"))
    sources = dict.fromkeys(devices, "profile")
    for plugin_name, offered in PluginHooks(pm).by_plugin("cielo_devices", profile=profile):
        for dev_name, device in _named_devices(plugin_name, offered):
            if dev_name in devices:
                other = sources[dev_name]
                where = f"[devices.{dev_name}] in {profile.source}" if other == "profile" else other
                raise ProfileError(
                    f"{profile.source}: device {dev_name!r} is offered by {where} and by plugin "
                    f"{plugin_name!r}; rename the profile's device or block the plugin"
                )
            devices[dev_name] = device
            sources[dev_name] = f"plugin {plugin_name}"
    for kind in ("callbacks", "suitcases"):
        specs: Mapping[str, SubscriberSpec] = getattr(profile, kind)
        for spec in specs.values():
            _check_subscriber(profile, kind, spec, registry.get(kind))
    for key, names in profile.supplemental.items():
        for dev_name in names:
            if dev_name not in devices:
                raise profile.error(
                    f"[supplemental] {key}",
                    f"names unknown device {dev_name!r}{suggest(dev_name, devices)} "
                    f"(devices: {', '.join(devices) or 'none'})",
                )
    env = Environment(profile, pm, registry, devices, sources)
    env.functions = MappingProxyType(resolve_functions(profile))
    if env.catalog_uri and _scheme(env.catalog_uri) not in env.catalog_backends:
        raise ProfileError(
            f"{env.catalog_source} {env.catalog_uri!r} has no catalog backend for scheme "
            f"{_scheme(env.catalog_uri)!r}{suggest(_scheme(env.catalog_uri), env.catalog_backends)}"
            f" (known: {', '.join(env.catalog_backends) or 'none'})",
        )
    if pm.get_plugin(PROFILE_PLUGIN) is not None:  # a manager reused for another profile
        pm.unregister(name=PROFILE_PLUGIN)
    if profile.metadata or profile.engine or profile.agents is not None:
        plugin = ProfileMetadata(profile.metadata, profile.engine, profile.agents, profile.source)
        pm.register(plugin, name=PROFILE_PLUGIN)
    env.hooks.environment_ready(env)
    return env


def _check_plugin_names(profile: Profile, pm: pluggy.PluginManager) -> None:
    info = getattr(pm, "plugin_info", None)
    known = list(info) if info is not None else [n for n, _ in pm.list_name_plugin()]
    for name in profile.enable or ():
        if name not in known:
            raise profile.error(
                "[plugins] enable",
                f"names unknown plugin {name!r}{suggest(name, known)} "
                f"(installed: {', '.join(known)})",
            )


def _check_agent_names(profile: Profile, offered: Mapping[str, Any]) -> None:
    """Every name in ``[agents] allow`` is an agent some enabled plugin offers."""
    for name in profile.agents or ():
        if name not in offered:
            raise profile.error(
                "[agents] allow",
                f"names unknown agent {name!r}{suggest(name, offered)} (installed agents: "
                f"{', '.join(sorted(offered)) or 'none'}; is its plugin installed and enabled?)",
            )


def _named_devices(plugin_name: str, offered: object) -> Iterable[tuple[str, object]]:
    if isinstance(offered, Mapping):
        return offered.items()
    if isinstance(offered, Iterable) and not isinstance(offered, str | bytes):
        return [(getattr(dev, "name", None) or repr(dev), dev) for dev in offered]
    raise ProfileError(
        f"plugin {plugin_name!r}: cielo_devices() returned {offered!r}; expected a mapping "
        "of devices by name, an iterable of named devices, or None"
    )


# -- devices ----------------------------------------------------------------


def _device_parameters(factory: Callable[..., Any]) -> set[str]:
    """Names of the factory's parameters annotated with a device type (or a sequence of them)."""
    try:
        params = inspect.signature(factory, eval_str=True).parameters.values()
    except Exception:  # unresolvable annotations: bind_parameters reports them
        return set()
    return {
        p.name for p in params if p.annotation is not p.empty and _mentions_device(p.annotation)
    }


def _mentions_device(ann: Any) -> bool:
    if typing.get_origin(ann) is not None and typing.get_origin(ann) is not typing.Annotated:
        return any(_mentions_device(arg) for arg in typing.get_args(ann))
    return is_device_annotation(ann)


def _references(spec: DeviceSpec, device_params: set[str]) -> list[tuple[str, str]]:
    """``(parameter, device name)`` for every device the table refers to."""
    refs: list[tuple[str, str]] = []
    for key in device_params & set(spec.params):
        value = spec.params[key]
        names = value if isinstance(value, list) else [value]
        refs.extend((key, v) for v in names if isinstance(v, str))
    return refs


def _build_devices(profile: Profile, device_types: Mapping[str, Any]) -> dict[str, Any]:
    factories: dict[str, Callable[..., Any]] = {}
    deps: dict[str, list[tuple[str, str]]] = {}
    for name, spec in profile.devices.items():
        where = f"[devices.{name}]"
        if spec.type not in device_types:
            raise profile.error(
                where,
                f"unknown device type {spec.type!r}{suggest(spec.type, device_types)} "
                f"(known: {', '.join(sorted(device_types)) or 'none'}; is its plugin "
                "installed and enabled?)",
            )
        factory = factories[name] = device_types[spec.type]
        _check_names(profile, where, f"type {spec.type!r}", factory, spec.params, device=True)
        deps[name] = _references(spec, _device_parameters(factory))
        for key, ref in deps[name]:
            if ref not in profile.devices:
                raise profile.error(
                    f"{where} {key!r}",
                    f"refers to device {ref!r}, which the profile does not declare"
                    f"{suggest(ref, profile.devices)} (declared: {', '.join(profile.devices)})",
                )
    devices: dict[str, Any] = {}
    for name in _dependency_order(profile, deps):
        spec = profile.devices[name]
        where = f"[devices.{name}]"
        params = {**spec.params, "name": name}
        bound = _bind(profile, where, factories[name], params, devices, f"device {name!r}")
        try:
            devices[name] = factories[name](*bound.args, **bound.kwargs)
        except CieloError as exc:
            raise profile.error(where, f"could not be built: {exc}") from exc
        except Exception as exc:
            raise profile.error(where, f"could not be built: {type(exc).__name__}: {exc}") from exc
    return devices


def _dependency_order(profile: Profile, deps: Mapping[str, list[tuple[str, str]]]) -> list[str]:
    order: list[str] = []
    state: dict[str, str] = {}  # "visiting" or "done"

    def visit(name: str, chain: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = chain[chain.index(name) :] + [name]
            raise profile.error(
                f"[devices.{chain[-1]}]",
                f"and [devices.{name}] refer to each other (cycle: {' -> '.join(cycle)}); "
                "break the cycle",
            )
        state[name] = "visiting"
        for _, ref in deps[name]:
            visit(ref, [*chain, name])
        state[name] = "done"
        order.append(name)

    for name in deps:
        visit(name, [])
    return order


def _check_names(
    profile: Profile,
    where: str,
    what: str,
    factory: Callable[..., Any],
    params: Mapping[str, Any],
    *,
    device: bool,
) -> None:
    """Unknown and missing parameters, with a suggestion for a misspelled one."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return
    accepted = [
        p.name
        for p in sig.parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and not (device and p.name == "name")
    ]
    takes_any = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    for key in params:
        if key not in accepted and not takes_any:
            raise profile.error(
                where,
                f"unknown parameter {key!r} for {what}{suggest(key, accepted)} "
                f"(parameters: {', '.join(accepted) or 'none'})",
            )
    for p in sig.parameters.values():
        if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            if p.name not in params and not (device and p.name == "name"):
                ann = "" if p.annotation is p.empty else f" ({_annotation_text(p.annotation)})"
                raise profile.error(
                    where, f"missing parameter {p.name!r}{ann} for {what}; add {p.name} = ..."
                )


def _annotation_text(ann: Any) -> str:
    return ann if isinstance(ann, str) else getattr(ann, "__name__", None) or repr(ann)


def _bind(
    profile: Profile,
    where: str,
    factory: Callable[..., Any],
    params: Mapping[str, Any],
    devices: Mapping[str, Any],
    what: str,
) -> inspect.BoundArguments:
    """Check types and turn device names into devices, via the typed signature."""
    try:
        return bind_parameters(factory, (), dict(params), devices, what=what)
    except PlanParameterError as exc:
        raise profile.error(where, str(exc)) from exc


def _check_subscriber(
    profile: Profile, kind: str, spec: SubscriberSpec, factories: Mapping[str, Any]
) -> None:
    where = f"[{kind}.{spec.name}]"
    what = kind[:-1]
    if spec.type not in factories:
        raise profile.error(
            where,
            f"unknown {what} {spec.type!r}{suggest(spec.type, factories)} "
            f"(known: {', '.join(sorted(factories)) or 'none'})",
        )
    _check_names(
        profile, where, f"{what} {spec.type!r}", factories[spec.type], spec.params, device=False
    )
    bound = _bind(profile, where, factories[spec.type], spec.params, {}, f"{what} {spec.type!r}")
    if kind == "suitcases":  # built once to check the values: a suitcase writes at run start
        try:
            factories[spec.type](*bound.args, **bound.kwargs)
        except Exception as exc:
            raise profile.error(where, f"{type(exc).__name__}: {exc}") from exc
