"""Profiles: one instrument's configuration in TOML, found by name or path.

A profile has these tables (all optional)::

    [profile]            description = "...", instrument = "..." (the lock's name; default
                         the profile's name: profiles driving the same hardware share it)
    [plugins]            enable = [...] (allow-list), disable = [...]
    [devices.NAME]       type = "sim.motor", then that type's parameters
    [metadata]           default run metadata
    [callbacks.NAME]     parameters of callback NAME (``type = "..."`` to reuse one twice)
    [suitcases.NAME]     parameters of suitcase NAME (``type = "..."`` likewise)
    [catalog]            uri = "sqlite:///runs.db" (default: the user's catalog;
                         ``catalog = false`` at the top stores nowhere)
    [supplemental]       baseline = [...], monitors = [...], flyers = [...] (device names)
    [publish]            uri = "redis://HOST:PORT/STREAM" or "zmq://HOST:PORT", bus options
    [agents]             allow = [...]: the adaptive agents offered (default: every agent
                         the enabled plugins offer)
    [functions]          allow = ["package.module:callable", ...]: the functions a queue
                         server may run as items (default: none)
    [engine]             device_timeout = 600 (or false), stop_timeout = 10, max_points = N,
                         [engine.device_timeouts] NAME = seconds (or false)

Profiles are found by name on a search path: ``CIELO_PROFILE_PATH`` (a list separated
by :data:`os.pathsep`), then ``profiles/`` in the user config directory
(:func:`cielo.core.paths.config_dir`; ``${XDG_CONFIG_HOME:-~/.config}/cielo`` on Linux), then
the directories plugins offer (``cielo_profile_dirs``), then the profiles bundled with cielo.
This module reads and checks the file's structure; checking names and parameters against
what the plugins offer happens when the profile is loaded into an environment
(:func:`cielo.load_profile`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .._errors import ProfileError
from ..paths import config_dir
from ..plugins import PluginHooks, make_plugin_manager
from ..suggest import did_you_mean

if TYPE_CHECKING:
    import pluggy

__all__ = [
    "SUPPLEMENTAL_KEYS",
    "DeviceSpec",
    "Profile",
    "SubscriberSpec",
    "find_profile",
    "list_profiles",
    "profile_search_path",
    "read_profile",
    "suggest",
]

_SECTIONS = (
    "profile",
    "plugins",
    "devices",
    "metadata",
    "callbacks",
    "suitcases",
    "catalog",
    "supplemental",
    "publish",
    "engine",
    "agents",
    "functions",
)
#: Keys of ``[publish]`` besides ``uri`` (checked against the transport when opened).
PUBLISH_KEYS = (
    "serializer",
    "maxlen",
    "max_age",
    "keep_unread",
    "prefix",
    "wait",
    "max_buffer",
    "pack_events",
)
#: Keys of ``[supplemental]``: device names read around or during every run.
SUPPLEMENTAL_KEYS = ("baseline", "monitors", "flyers")
_SUFFIX = ".toml"


def suggest(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``""`` when none is close."""
    return did_you_mean(word, choices, before="; ")


@dataclass(frozen=True)
class DeviceSpec:
    """One ``[devices.NAME]`` table: build ``type`` as ``factory(name=NAME, **params)``."""

    name: str
    type: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class SubscriberSpec:
    """One ``[callbacks.NAME]`` or ``[suitcases.NAME]`` table."""

    name: str
    type: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Profile:
    """A parsed profile. ``source`` names it in messages (the file name, or the name)."""

    name: str
    path: Path | None
    description: str = ""
    enable: tuple[str, ...] | None = None
    disable: tuple[str, ...] = ()
    devices: Mapping[str, DeviceSpec] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    callbacks: Mapping[str, SubscriberSpec] = field(default_factory=dict)
    suitcases: Mapping[str, SubscriberSpec] = field(default_factory=dict)
    catalog_uri: str | None = None
    #: the ``[publish]`` table (``uri`` and bus options), empty when documents are not published
    publish: Mapping[str, Any] = field(default_factory=dict)
    #: ``False`` when the profile says ``catalog = false``: its runs are stored nowhere
    catalog_enabled: bool = True
    #: ``{"baseline": (...), "monitors": (...), "flyers": (...)}``: device names.
    supplemental: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    #: ``[engine]``: RunEngine options set on every engine built on the profile's plugins
    engine: Mapping[str, Any] = field(default_factory=dict)
    #: the instrument this profile drives, the name of its :class:`~cielo.core.InstrumentLock`
    #: (``[profile] instrument``, else the profile's name)
    instrument: str = ""
    #: ``[engine] max_points``: the most points a trajectory of this profile's plans may
    #: have (``CIELO_MAX_POINTS`` wins; ``None``: the default limit)
    max_points: int | None = None
    #: ``[agents] allow``: the only agents offered on this profile (``agent_scan``,
    #: ``cielo agent run``, the queue); ``None`` (no table): every agent the plugins offer
    agents: tuple[str, ...] | None = None
    #: ``[functions] allow``: ``"module:callable"`` references of the functions a queue
    #: server may run as items (imported when the profile is loaded)
    functions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.instrument:
            object.__setattr__(self, "instrument", self.name)

    @property
    def source(self) -> str:
        return self.path.name if self.path is not None else self.name

    def error(self, where: str, message: str) -> ProfileError:
        """A :class:`ProfileError` that names this profile's file and the table or key."""
        return ProfileError(f"{self.source}: {where} {message}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, name: str, path: Path | None = None) -> Profile:
        """Check the structure of parsed TOML and build a profile from it."""
        source = path.name if path is not None else name
        _known_keys(source, "", data, _SECTIONS)
        section = _tables(source, data)
        prof = section["profile"]
        _known_keys(source, "[profile]", prof, ("description", "instrument"))
        plugins = section["plugins"]
        _known_keys(source, "[plugins]", plugins, ("enable", "disable"))
        enable = plugins.get("enable")
        devices = {}
        for dev_name, table in section["devices"].items():
            where = f"[devices.{dev_name}]"
            if not isinstance(table, Mapping):
                raise ProfileError(
                    f"{source}: {where} must be a table with 'type' and parameters, got {table!r}"
                )
            if "type" not in table:
                raise ProfileError(
                    f"{source}: {where} has no 'type'; add e.g. type = \"sim.motor\" "
                    "(`cielo plugins` lists the device types)"
                )
            dev_type = _string(source, where, "type", table["type"])
            params = {k: v for k, v in table.items() if k != "type"}
            if "name" in params:
                raise ProfileError(
                    f"{source}: {where} sets 'name'; the table's name is the device's name, "
                    "remove the key"
                )
            devices[dev_name] = DeviceSpec(dev_name, dev_type, MappingProxyType(params))
        catalog: Any = section["catalog"]
        enabled = catalog is not False
        catalog = catalog if enabled else {}
        _known_keys(source, "[catalog]", catalog, ("uri",))
        uri = catalog.get("uri")
        supplemental = section["supplemental"]
        _known_keys(source, "[supplemental]", supplemental, SUPPLEMENTAL_KEYS)
        publish = section["publish"]
        _known_keys(source, "[publish]", publish, ("uri", *PUBLISH_KEYS))
        if publish and "uri" not in publish:
            raise ProfileError(
                f'{source}: [publish] has no uri; add uri = "redis://HOST:PORT/STREAM"'
            )
        if publish and "://" not in _string(source, "[publish]", "uri", publish["uri"]):
            raise ProfileError(
                f"{source}: [publish] uri {publish.get('uri')!r} has no scheme; write "
                'uri = "redis://HOST:PORT/STREAM" or uri = "zmq://HOST:PORT"'
            )
        agents = section["agents"]
        _known_keys(source, "[agents]", agents, ("allow",))
        if "agents" in data and "allow" not in agents:
            raise ProfileError(f'{source}: [agents] has no allow; add allow = ["golden_section"]')
        functions = section["functions"]
        _known_keys(source, "[functions]", functions, ("allow",))
        if "functions" in data and "allow" not in functions:
            raise ProfileError(
                f'{source}: [functions] has no allow; add allow = ["package.module:function"]'
            )
        return cls(
            name=name,
            path=path,
            description=_string(source, "[profile]", "description", prof.get("description", "")),
            enable=None if enable is None else _strings(source, "[plugins]", "enable", enable),
            disable=_strings(source, "[plugins]", "disable", plugins.get("disable", [])),
            devices=MappingProxyType(devices),
            metadata=MappingProxyType(dict(section["metadata"])),
            callbacks=_subscribers(source, "callbacks", section["callbacks"]),
            suitcases=_subscribers(source, "suitcases", section["suitcases"]),
            catalog_uri=None if uri is None else _string(source, "[catalog]", "uri", uri),
            publish=MappingProxyType(dict(publish)),
            catalog_enabled=enabled,
            supplemental=MappingProxyType(
                {
                    key: _strings(source, "[supplemental]", key, value, what="device names")
                    for key, value in supplemental.items()
                }
            ),
            raw=MappingProxyType(dict(data)),
            engine=MappingProxyType(_engine_options(source, section["engine"])),
            max_points=_max_points(source, section["engine"].get("max_points")),
            instrument=_string(source, "[profile]", "instrument", prof.get("instrument", name)),
            agents=(
                _strings(source, "[agents]", "allow", agents["allow"], what="agent names")
                if "agents" in data
                else None
            ),
            functions=_function_refs(source, functions.get("allow", [])),
        )


def _function_refs(source: str, value: Any) -> tuple[str, ...]:
    """``[functions] allow``: ``"package.module:callable"`` references."""
    refs = _strings(source, "[functions]", "allow", value, what="function references")
    for ref in refs:
        module, _, attr = ref.partition(":")
        if (
            not module
            or not attr
            or not all(p.isidentifier() for p in module.split("."))
            or (not all(p.isidentifier() for p in attr.split(".")))
        ):
            raise ProfileError(
                f"{source}: [functions] allow: {ref!r} is not a function reference; write "
                '"package.module:callable", e.g. "mybeamline.tools:reset_counters"'
            )
    return refs


def _seconds(source: str, where: str, key: str, value: Any, *, forever: bool) -> float | None:
    """A positive number of seconds (or ``false`` for forever, where allowed)."""
    if value is False and forever:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        allowed = "a number of seconds > 0" + (" or false (wait forever)" if forever else "")
        raise ProfileError(f"{source}: {where} {key} must be {allowed}, got {value!r}")
    return float(value)


def _max_points(source: str, value: Any) -> int | None:
    """``[engine] max_points``: a whole number of points >= 1."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ProfileError(
            f"{source}: [engine] max_points must be a whole number of points >= 1, got {value!r}"
        )
    return value


def _engine_options(source: str, table: Mapping[str, Any]) -> dict[str, Any]:
    """``[engine]``: RunEngine options (``device_timeout``, ``stop_timeout``,
    ``[engine.device_timeouts]`` by device name), as RunEngine attribute -> value
    (``max_points`` is the profile's, not the engine's: see :func:`_max_points`)."""
    _known_keys(
        source,
        "[engine]",
        table,
        ("device_timeout", "stop_timeout", "device_timeouts", "max_points"),
    )
    options: dict[str, Any] = {}
    if "device_timeout" in table:
        options["device_timeout"] = _seconds(
            source, "[engine]", "device_timeout", table["device_timeout"], forever=True
        )
    if "stop_timeout" in table:
        options["stop_timeout"] = _seconds(
            source, "[engine]", "stop_timeout", table["stop_timeout"], forever=False
        )
    per_device = table.get("device_timeouts", {})
    if not isinstance(per_device, Mapping):
        raise ProfileError(
            f"{source}: [engine] device_timeouts must be a table of device = seconds, "
            f"got {per_device!r}"
        )
    if per_device:
        options["device_timeouts"] = {
            name: _seconds(source, "[engine.device_timeouts]", name, value, forever=True)
            for name, value in per_device.items()
        }
    return options


def _known_keys(source: str, where: str, table: Mapping[str, Any], known: Iterable[str]) -> None:
    known = tuple(known)
    for key in table:
        if key not in known:
            place = f"{where} unknown key {key!r}" if where else f"unknown table [{key}]"
            raise ProfileError(
                f"{source}: {place}{suggest(key, known)} (allowed: {', '.join(known)})"
            )


def _tables(source: str, data: Mapping[str, Any]) -> dict[str, Any]:
    tables: dict[str, Any] = {}
    for key in _SECTIONS:
        value: Any = data.get(key, {})
        if key == "catalog" and value is False:  # `catalog = false`: store nowhere
            tables[key] = value
            continue
        if key == "catalog" and not isinstance(value, Mapping):
            raise ProfileError(
                f'{source}: catalog must be a [catalog] table with uri = "...", or '
                f"catalog = false to store nowhere; got {value!r}"
            )
        if not isinstance(value, Mapping):
            raise ProfileError(f"{source}: [{key}] must be a table, got {value!r}")
        tables[key] = value
    return tables


def _string(source: str, where: str, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ProfileError(f"{source}: {where} {key!r} must be a string, got {value!r}")
    return value


def _strings(
    source: str, where: str, key: str, value: Any, *, what: str = "plugin names"
) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProfileError(f"{source}: {where} {key!r} must be a list of {what}, got {value!r}")
    return tuple(value)


def _subscribers(source: str, kind: str, tables: Mapping[str, Any]) -> Mapping[str, SubscriberSpec]:
    specs = {}
    for name, table in tables.items():
        where = f"[{kind}.{name}]"
        if not isinstance(table, Mapping):
            raise ProfileError(f"{source}: {where} must be a table of parameters, got {table!r}")
        params = dict(table)
        sub_type = _string(source, where, "type", params.pop("type", name))
        specs[name] = SubscriberSpec(name, sub_type, MappingProxyType(params))
    return MappingProxyType(specs)


def profile_search_path(plugin_manager: pluggy.PluginManager | None = None) -> list[Path]:
    """Directories searched for a profile by name, first match wins.

    :param plugin_manager: whose plugins' directories (``cielo_profile_dirs``) to search;
        by default a manager of the installed plugins is built for the search.
    """
    paths = [Path(p) for p in os.environ.get("CIELO_PROFILE_PATH", "").split(os.pathsep) if p]
    paths.append(config_dir() / "profiles")
    paths += PluginHooks(plugin_manager or make_plugin_manager()).profile_dirs()
    paths.append(Path(__file__).resolve().parents[2] / "profiles")
    return paths


def list_profiles(plugin_manager: pluggy.PluginManager | None = None) -> dict[str, Path]:
    """``{name: path}`` of every profile on the search path (a name's first match wins)."""
    return _profiles_in(profile_search_path(plugin_manager))


def _profiles_in(directories: Iterable[Path]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for directory in directories:
        if directory.is_dir():
            for path in sorted(directory.glob(f"*{_SUFFIX}")):
                found.setdefault(path.stem, path)
    return found


def find_profile(
    name_or_path: str | os.PathLike[str], plugin_manager: pluggy.PluginManager | None = None
) -> Path:
    """The file of a profile given by path (contains a separator or ends in .toml) or name.

    :param plugin_manager: whose plugins' profile directories to search (see
        :func:`profile_search_path`); not used for a path.
    """
    text = os.fspath(name_or_path)
    if isinstance(name_or_path, os.PathLike) or text.endswith(_SUFFIX) or os.sep in text:
        path = Path(text).expanduser()
        if not path.is_file():
            raise ProfileError(f"profile file {text!r} does not exist")
        return path
    search = profile_search_path(plugin_manager)
    for directory in search:
        path = directory / f"{text}{_SUFFIX}"
        if path.is_file():
            return path
    searched = ", ".join(str(d) for d in search)
    raise ProfileError(
        f"no profile named {text!r}{suggest(text, _profiles_in(search))}; searched {searched} "
        "(give a path, or add a directory to CIELO_PROFILE_PATH)"
    )


def data_line(path: Path, offset: int) -> int:
    """The 1-based line of byte ``offset`` in ``path``."""
    return path.read_bytes()[:offset].count(b"\n") + 1


def read_profile(
    name_or_path: str | os.PathLike[str], plugin_manager: pluggy.PluginManager | None = None
) -> Profile:
    """Find (see :func:`find_profile`), parse and structurally check a profile."""
    import tomllib

    path = find_profile(name_or_path, plugin_manager)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path.name}: not valid TOML: {exc} ({path})") from exc
    except UnicodeDecodeError as exc:
        line = data_line(path, exc.start)
        raise ProfileError(
            f"{path.name}: byte {exc.object[exc.start]:#04x} on line {line} is not UTF-8; "
            f"save the file as UTF-8 ({path})"
        ) from None
    except RecursionError:
        raise ProfileError(
            f"{path.name}: arrays or tables nested too deeply to read; flatten them ({path})"
        ) from None
    return Profile.from_dict(data, name=path.stem, path=path)
