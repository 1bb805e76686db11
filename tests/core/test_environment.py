"""load_profile: devices in dependency order, checked parameters, subscribers, hooks fired."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from cielo import hookimpl, load_profile
from cielo.core import PluginError, ProfileError, make_plugin_manager
from cielo.core.protocols import Readable


class Sensor:
    """A minimal readable device."""

    parent = None

    def __init__(self, name: str, value: float = 0.0, gain: float = 1.0) -> None:
        self.name, self.value, self.gain = name, value, gain

    def read(self) -> dict[str, Any]:
        return {self.name: {"value": self.value * self.gain, "timestamp": 0.0}}

    def describe(self) -> dict[str, Any]:
        return {self.name: {"source": "test", "dtype": "number", "shape": []}}


class Sum(Sensor):
    """Reads the sum of other devices."""

    def __init__(self, name: str, inputs: Sequence[Readable], offset: float = 0.0) -> None:
        super().__init__(name, offset)
        self.inputs = list(inputs)


class Follower(Sensor):
    def __init__(self, name: str, leader: Readable) -> None:
        super().__init__(name)
        self.leader = leader


def make_logger(path: str, prefix: str = "") -> Any:
    """A callback factory that appends document names to a file."""

    def callback(name: str, doc: dict[str, Any]) -> None:
        with open(path, "a") as f:
            f.write(f"{prefix}{name}\n")

    return callback


class LabPlugin:
    """A test plugin offering device types, a callback and ready-made devices."""

    def __init__(self) -> None:
        self.ready: list[Any] = []

    @hookimpl
    def cielo_device_types(self):
        return {"lab.sensor": Sensor, "lab.sum": Sum, "lab.follower": Follower}

    @hookimpl
    def cielo_callbacks(self):
        return {"logger": make_logger}

    @hookimpl
    def cielo_suitcases(self):
        return {"textfile": make_logger}

    @hookimpl
    def cielo_devices(self, profile):
        return [Sensor("ring_current", 400.0)]

    @hookimpl
    def cielo_environment_ready(self, env):
        self.ready.append(env)


def write(tmp_path: Path, text: str, name: str = "lab.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def load(path: Path, plugin: Any = None) -> Any:
    pm = make_plugin_manager(autoload=False, strict=True, plugins=[("lab", plugin or LabPlugin())])
    return load_profile(path, plugin_manager=pm)


LAB = """
    [profile]
    description = "test lab"

    [devices.total]
    type = "lab.sum"
    inputs = ["a", "b"]
    offset = 1.5

    [devices.a]
    type = "lab.sensor"
    value = 2

    [devices.b]
    type = "lab.sensor"
    value = 3.0
    gain = 2.0

    [metadata]
    beamline = "T-1"
    proposal = 42

    [callbacks.logger]
    path = "{log}"

    [suitcases.second]
    type = "textfile"
    path = "{log}"
    prefix = "s:"
"""


def test_profile_devices_are_built_in_dependency_order(tmp_path: Path):
    plugin = LabPlugin()
    env = load(write(tmp_path, LAB.format(log=tmp_path / "log.txt")), plugin)
    assert set(env.devices) == {"total", "a", "b", "ring_current"}
    total = env.devices["total"]
    assert total.inputs == [env.devices["a"], env.devices["b"]]  # names became devices
    assert total.value == 1.5 and env.devices["b"].read()["b"]["value"] == 6.0
    assert env.device_sources["ring_current"] == "plugin lab"
    assert env.device_sources["total"] == "profile"
    assert dict(env.metadata) == {"beamline": "T-1", "proposal": 42}
    assert env.profile.description == "test lab"
    assert plugin.ready == [env]  # cielo_environment_ready fired once, with the env
    with pytest.raises(TypeError):
        env.devices["x"] = 1  # read-only mapping


def test_subscribers_are_built_from_the_profile(tmp_path: Path):
    log = tmp_path / "log.txt"
    env = load(write(tmp_path, LAB.format(log=log)))
    subs = env.make_subscribers()
    # no [catalog]: the runs go to the user's default catalog
    assert set(subs) == {"callbacks.logger", "suitcases.second", "catalog"}
    subs.pop("catalog")
    for cb in subs.values():
        cb("start", {})
    assert log.read_text().splitlines() == ["start", "s:start"]
    assert env.make_subscribers()["callbacks.logger"] is not subs["callbacks.logger"]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            '[devices.det]\ntype = "lab.sensor"\nvaleu = 1.0',
            "lab.toml: [devices.det] unknown parameter 'valeu' for type 'lab.sensor'; "
            "did you mean 'value'?",
        ),
        (
            '[devices.det]\ntype = "lab.sensr"',
            "lab.toml: [devices.det] unknown device type 'lab.sensr'; did you mean 'lab.sensor'?",
        ),
        (
            '[devices.f]\ntype = "lab.follower"',
            "lab.toml: [devices.f] missing parameter 'leader' (Readable) for type 'lab.follower'",
        ),
        (
            '[devices.det]\ntype = "lab.sensor"\nvalue = "high"',
            "lab.toml: [devices.det]",
        ),
        (
            '[devices.f]\ntype = "lab.follower"\nleader = "ghost"',
            "lab.toml: [devices.f] 'leader' refers to device 'ghost', which the profile "
            "does not declare",
        ),
        (
            '[callbacks.loger]\npath = "x"',
            "lab.toml: [callbacks.loger] unknown callback 'loger'; did you mean 'logger'?",
        ),
        (
            '[callbacks.logger]\npath = "x"\nprefx = "y"',
            "lab.toml: [callbacks.logger] unknown parameter 'prefx' for callback 'logger'; "
            "did you mean 'prefix'?",
        ),
        (
            '[callbacks.logger]\nprefix = "y"',
            "lab.toml: [callbacks.logger] missing parameter 'path'",
        ),
        (
            '[plugins]\nenable = ["lab", "simm"]',
            "lab.toml: [plugins] enable names unknown plugin 'simm'; did you mean 'sim'?",
        ),
        (
            '[catalog]\nuri = "sqlit:///x.db"',
            "lab.toml: [catalog] uri 'sqlit:///x.db' has no catalog backend for scheme 'sqlit'",
        ),
        (
            '[devices.det]\ntype = "lab.sensor"\n[supplemental]\nbaseline = ["dett"]',
            "lab.toml: [supplemental] baseline names unknown device 'dett'; did you mean 'det'?",
        ),
        (
            '[devices.ring_current]\ntype = "lab.sensor"',
            "device 'ring_current' is offered by [devices.ring_current] in lab.toml and by "
            "plugin 'lab'",
        ),
    ],
)
def test_bad_profiles_name_file_key_and_fix(tmp_path: Path, table: str, expected: str):
    with pytest.raises(ProfileError) as info:
        load(write(tmp_path, table))
    assert expected in str(info.value)


def test_wrong_type_names_the_parameter(tmp_path: Path):
    with pytest.raises(ProfileError, match=r"\[devices.det\].*value.*'high'"):
        load(write(tmp_path, '[devices.det]\ntype = "lab.sensor"\nvalue = "high"'))


def test_a_reference_to_a_device_of_the_wrong_kind_is_refused(tmp_path: Path):
    class NotADevice:
        def __init__(self, name: str) -> None:
            self.name = name

    class Plugin(LabPlugin):
        @hookimpl
        def cielo_device_types(self):
            return {**super().cielo_device_types(), "lab.thing": NotADevice}

    text = '[devices.t]\ntype = "lab.thing"\n[devices.f]\ntype = "lab.follower"\nleader = "t"'
    with pytest.raises(ProfileError, match=r"lab.toml: \[devices.f\].*leader"):
        load(write(tmp_path, text), Plugin())


def test_a_cycle_names_both_devices(tmp_path: Path):
    text = """
        [devices.x]
        type = "lab.follower"
        leader = "y"
        [devices.y]
        type = "lab.follower"
        leader = "x"
    """
    with pytest.raises(ProfileError, match=r"\[devices\.[xy]\] and \[devices\.[xy]\] refer to"):
        load(write(tmp_path, text))


def test_a_factory_that_raises_is_reported_with_the_table(tmp_path: Path):
    def broken(name: str) -> Sensor:
        raise RuntimeError("no power")

    class Plugin(LabPlugin):
        @hookimpl
        def cielo_device_types(self):
            return {"lab.broken": broken}

    with pytest.raises(ProfileError, match=r"\[devices.d\] could not be built: RuntimeError"):
        load(write(tmp_path, '[devices.d]\ntype = "lab.broken"'), Plugin())


def test_profile_plugins_table_blocks_plugins(tmp_path: Path):
    path = write(tmp_path, '[plugins]\ndisable = ["epics", "fly"]')
    env = load_profile(path, autoload=False)
    assert env.pm.get_plugin("epics") is None and env.pm.get_plugin("fly") is None
    assert env.pm.plugin_info["epics"].status == "blocked"
    assert env.pm.get_plugin("sim") is not None


def test_clashing_contributions_stop_the_load(tmp_path: Path):
    class Twin(LabPlugin):
        pass

    pm = make_plugin_manager(autoload=False, plugins=[("lab", LabPlugin()), ("twin", Twin())])
    with pytest.raises(PluginError, match="device type 'lab.sensor' is offered by two plugins"):
        load_profile(write(tmp_path, ""), plugin_manager=pm)


def test_catalog_uri_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    class Catalogued(LabPlugin):
        @hookimpl
        def cielo_catalog_backends(self):
            return {"mem": lambda uri: make_logger(str(tmp_path / "cat.txt"), prefix=uri)}

    path = write(tmp_path, '[catalog]\nuri = "mem://one"')
    env = load(path, Catalogued())
    assert env.catalog_uri == "mem://one"
    monkeypatch.setenv("CIELO_CATALOG", "mem://two")
    env = load(path, Catalogued())
    assert env.catalog_uri == "mem://two"
    env.make_subscribers()["catalog"]("start", {})
    assert (tmp_path / "cat.txt").read_text() == "mem://twostart\n"


def test_profile_metadata_reaches_run_starts_through_the_plugin_manager(tmp_path: Path):
    from cielo import Msg, RunEngine

    env = load(write(tmp_path, LAB.format(log=tmp_path / "log.txt")))
    assert env.hooks.run_metadata("p", {}) == {"beamline": "T-1", "proposal": 42}
    starts = []
    with RunEngine(plugin_manager=env.pm, scan_id_file=None) as RE:
        RE.subscribe(lambda name, doc: starts.append(doc) if name == "start" else None)
        RE([Msg("open_run", proposal=7), Msg("close_run")])
        assert "beamline" not in RE.md  # not persisted into the engine's metadata
    assert starts[0]["beamline"] == "T-1" and starts[0]["proposal"] == 7  # the plan's key wins
    # a manager reused for another profile carries only the new profile's metadata
    env2 = load_profile(
        write(tmp_path, '[metadata]\nbeamline = "T-2"', "two.toml"), plugin_manager=env.pm
    )
    assert env2.hooks.run_metadata("p", {}) == {"beamline": "T-2"}


def test_catalog_writer_stores_runs_and_closes(tmp_path: Path):
    from cielo import Msg, RunEngine
    from cielo.storage import open_catalog

    class SqliteCatalog(LabPlugin):
        @hookimpl
        def cielo_catalog_backends(self):
            return {"sqlite": lambda uri: open_catalog(uri)}

    uri = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    path = write(tmp_path, f'[catalog]\nuri = "{uri}"\n[metadata]\nbeamline = "T-1"')
    pm = make_plugin_manager(
        autoload=False, strict=True, disable=["catalog"], plugins=[("lab", SqliteCatalog())]
    )
    env = load_profile(path, plugin_manager=pm)
    with env.make_subscribers() as subs, RunEngine(plugin_manager=pm, scan_id_file=None) as RE:
        assert list(subs) == ["catalog"]
        RE.subscribe(subs["catalog"])
        (uid,) = RE([Msg("open_run"), Msg("close_run")])
    catalog = open_catalog(uri)
    try:
        run = catalog[uid]
        assert run.start["beamline"] == "T-1" and run.stop["exit_status"] == "success"
    finally:
        catalog.close()


def test_every_profile_stores_its_runs_unless_it_says_catalog_false(tmp_path: Path):
    """No [catalog]: the user's default catalog; `catalog = false`: nowhere, said so."""
    from cielo.core.profile import DEFAULT_CATALOG_URI

    env = load_profile(write(tmp_path, '[devices.m]\ntype = "sim.motor"', "plain.toml"))
    assert env.catalog_uri == DEFAULT_CATALOG_URI and env.catalog_source == "the default catalog"
    assert "catalog" in env.make_subscribers(callbacks=False)
    env = load_profile(write(tmp_path, "catalog = false\n", "nowhere.toml"))
    assert env.catalog_uri is None and env.catalog_source == "nowhere.toml: catalog = false"
    assert "catalog" not in env.make_subscribers(callbacks=False)
    with pytest.raises(ProfileError, match="catalog = false to store nowhere; got 'no'"):
        load_profile(write(tmp_path, 'catalog = "no"\n', "bad.toml"))


def test_a_bad_cielo_catalog_is_blamed_on_the_variable(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("CIELO_CATALOG", "sqlit:///x.db")
    with pytest.raises(ProfileError, match=r"^CIELO_CATALOG 'sqlit:///x.db' has no catalog"):
        load_profile("sim")
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("CIELO_CATALOG", f"sqlite:///{tmp_path}/a-file/x.db")
    env = load_profile("sim")
    with pytest.raises(ProfileError, match="^CIELO_CATALOG: could not open"):
        env.make_subscribers()
