"""The plugin manager: bundled plugins, entry points in isolation, blocking, strict, trace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from cielo import hookimpl
from cielo.core import PluginError, PluginWarning, make_plugin_manager
from cielo.core.plugins import PluginHooks

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
#: The bundled plugins: cielo's own entry points, as its pyproject.toml declares them.
BUNDLED = tomllib.loads(PYPROJECT.read_text())["project"]["entry-points"]["cielo.plugins"]
BUNDLED_NAMES = list(BUNDLED)


def fake_distribution(site: Path, dist: str, version: str, entry_points: dict[str, str]) -> None:
    """A ``*.dist-info`` directory: real entry-point discovery without pip."""
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[cielo.plugins]\n{lines}")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A directory with a working and a broken third-party plugin distribution."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "good_plugin.py").write_text(
        textwrap.dedent(
            """
            from cielo import hookimpl

            @hookimpl
            def cielo_plans():
                def hello():
                    \"\"\"Say hello.\"\"\"
                    yield from ()
                return {"hello": hello}
            """
        )
    )
    (site / "broken_plugin.py").write_text("raise RuntimeError('the flux capacitor is missing')\n")
    fake_distribution(site, "cielo-good", "2.0.1", {"good": "good_plugin"})
    fake_distribution(site, "cielo-broken", "1.2.3", {"broken": "broken_plugin"})
    return site


LIST_SCRIPT = """
import json, warnings
warnings.simplefilter("ignore")
from cielo.core import make_plugin_manager
pm = make_plugin_manager()
print(json.dumps({n: [i.status, i.distribution, i.version, i.error]
                  for n, i in pm.plugin_info.items()}))
"""


def run_python(
    script: str, site: Path, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(site), **env}
    for key in ("CIELO_STRICT_PLUGINS", "CIELO_DISABLE_PLUGINS", "CIELO_TRACE_PLUGINS"):
        if key not in env:
            full_env.pop(key, None)
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True, text=True, env=full_env, timeout=60, cwd=cwd,
    )  # fmt: skip


def test_bundled_plugins_register_by_their_short_name():
    pm = make_plugin_manager(autoload=False)
    for name in BUNDLED_NAMES:
        assert pm.get_plugin(name) is not None
        info = pm.plugin_info[name]
        assert (info.status, info.bundled, info.distribution) == ("loaded", True, "cielo")
    assert PluginHooks(pm).plugin_versions()["sim"] == pm.plugin_info["sim"].version


def test_the_bundled_plugins_are_cielos_own_entry_points_in_their_order():
    pm = make_plugin_manager(autoload=False)
    bundled = [(n, i.module) for n, i in pm.plugin_info.items() if i.bundled]
    assert bundled == list(BUNDLED.items())


def test_a_missing_bundled_plugin_is_not_installed_not_a_failure(recwarn):
    pm = make_plugin_manager(
        autoload=False, strict=True, bundled=["cielo.plugins.sim", "cielo.plugins.absent"]
    )
    info = pm.plugin_info["absent"]
    assert (info.status, info.error, info.bundled) == ("not installed", None, True)
    assert pm.plugin_info["sim"].status == "loaded" and not pm.failures
    assert not [w for w in recwarn if issubclass(w.category, PluginWarning)]
    assert "absent" not in PluginHooks(pm).plugin_versions()


def test_a_bundled_plugin_missing_a_dependency_is_a_failure(tmp_path: Path):
    (tmp_path / "needs_more.py").write_text("import no_such_dependency_anywhere\n")
    script = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "from cielo.core import make_plugin_manager\n"
        "pm = make_plugin_manager(autoload=False, bundled=['needs_more'])\n"
        "info = pm.plugin_info['needs_more']\n"
        "print(info.status, info.error)\n"
    )
    proc = run_python(script, tmp_path)
    assert proc.stdout.startswith("failed "), proc.stderr
    assert "no_such_dependency_anywhere" in proc.stdout


def test_an_installed_cielo_finds_its_bundled_plugins_in_its_metadata(tmp_path: Path):
    """Outside a source checkout the installed metadata is the list (here: two of them)."""
    import cielo

    site = tmp_path / "site"
    site.mkdir()
    (site / "cielo").symlink_to(Path(cielo.__file__).parent)  # no pyproject.toml beside it
    info = site / "cielo-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cielo\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(
        "[cielo.plugins]\nscans = cielo.plugins.scans\nsim = cielo.plugins.sim\n"
    )
    proc = run_python(LIST_SCRIPT, site, cwd=site, CIELO_DISABLE_PLUGIN_AUTOLOAD="1")
    assert proc.returncode == 0, proc.stderr
    infos = json.loads(proc.stdout)
    assert list(infos) == ["scans", "sim"]
    assert infos["sim"][:2] == ["loaded", "cielo"]


def test_each_manager_is_fresh():
    first = make_plugin_manager(autoload=False)
    second = make_plugin_manager(autoload=False, disable=["epics"])
    assert first is not second
    assert first.get_plugin("epics") is not None
    assert second.get_plugin("epics") is None
    assert second.plugin_info["epics"].status == "blocked"


def test_broken_entry_point_is_reported_while_the_rest_load(site: Path):
    proc = run_python(LIST_SCRIPT, site)
    assert proc.returncode == 0, proc.stderr
    infos = json.loads(proc.stdout)
    status, dist, version, error = infos["broken"]
    assert (status, dist, version) == ("failed", "cielo-broken", "1.2.3")
    assert "broken" in error and "cielo-broken 1.2.3" in error
    assert "the flux capacitor is missing" in error
    assert infos["good"][:3] == ["loaded", "cielo-good", "2.0.1"]
    assert all(infos[name][0] == "loaded" for name in BUNDLED_NAMES)


def test_broken_entry_point_warns(site: Path):
    script = LIST_SCRIPT.replace('warnings.simplefilter("ignore")', "")
    proc = run_python(script, site)
    assert "PluginWarning" in proc.stderr and "flux capacitor" in proc.stderr


def test_strict_mode_makes_a_broken_plugin_fatal(site: Path):
    proc = run_python(LIST_SCRIPT, site, CIELO_STRICT_PLUGINS="1")
    assert proc.returncode != 0
    assert "PluginError" in proc.stderr and '"broken"' in proc.stderr
    # the cause is chained, not swallowed
    assert "RuntimeError: the flux capacitor is missing" in proc.stderr
    assert "direct cause" in proc.stderr


def test_blocking_by_environment_never_imports_the_plugin(site: Path):
    proc = run_python(LIST_SCRIPT, site, CIELO_STRICT_PLUGINS="1", CIELO_DISABLE_PLUGINS="broken")
    assert proc.returncode == 0, proc.stderr
    infos = json.loads(proc.stdout)
    assert infos["broken"][0] == "blocked" and infos["good"][0] == "loaded"


def test_autoload_can_be_switched_off(site: Path):
    proc = run_python(LIST_SCRIPT, site, CIELO_DISABLE_PLUGIN_AUTOLOAD="1")
    infos = json.loads(proc.stdout)
    assert "good" not in infos and "broken" not in infos
    assert set(BUNDLED_NAMES) <= set(infos)


def test_trace_prints_hook_calls(site: Path):
    script = LIST_SCRIPT + "pm.hook.cielo_plans()\n"
    proc = run_python(script, site, CIELO_TRACE_PLUGINS="1", CIELO_DISABLE_PLUGINS="broken")
    assert "cielo trace: cielo_plans() -> [" in proc.stderr
    assert "good" in proc.stderr and "'hello'" in proc.stderr


class Misspelled:
    @hookimpl
    def cielo_device_typs(self):
        return {}


def test_misspelled_hook_fails_loudly():
    with pytest.warns(PluginWarning, match="cielo_device_typs.*did you mean 'cielo_device_types'"):
        pm = make_plugin_manager(autoload=False, plugins=[("typo", Misspelled())])
    assert pm.plugin_info["typo"].status == "failed"
    assert pm.get_plugin("typo") is None  # taken out again
    with pytest.raises(PluginError, match="unknown hook 'cielo_device_typs'"):
        make_plugin_manager(autoload=False, strict=True, plugins=[("typo", Misspelled())])


class WrongArguments:
    @hookimpl
    def cielo_devices(self, profil):
        return {}


def test_hook_with_wrong_arguments_is_a_load_failure():
    with pytest.warns(PluginWarning, match="(?s)wrong_args.*profil"):
        pm = make_plugin_manager(autoload=False, plugins=[("wrong_args", WrongArguments())])
    assert pm.plugin_info["wrong_args"].status == "failed"


class AddsHooks:
    """A plugin that defines a hook of its own and implements it."""

    class Spec:
        from cielo.core.plugins import hookspec

        @hookspec
        def cielo_example_greeting(self, who: str) -> str:  # type: ignore[empty-body]
            """Greet someone."""

    @hookimpl
    def cielo_addhooks(self, pluginmanager):
        pluginmanager.add_hookspecs(self.Spec)

    @hookimpl
    def cielo_example_greeting(self, who):
        return f"hello {who}"


def test_addhooks_lets_a_late_plugin_add_and_implement_a_hook():
    pm = make_plugin_manager(autoload=False, strict=True, plugins=[("greeter", AddsHooks())])
    assert pm.hook.cielo_example_greeting(who="beamline") == ["hello beamline"]


def test_allow_list_loads_only_the_named_plugins():
    pm = make_plugin_manager(autoload=False, enable=["sim", "scans"])
    loaded = [n for n, i in pm.plugin_info.items() if i.status == "loaded"]
    assert loaded == ["sim", "scans"]


def test_two_plugins_with_one_name_are_refused():
    class One:
        pass

    with pytest.raises(PluginError, match="plugin name 'sim' is already taken"):
        make_plugin_manager(autoload=False, strict=True, plugins=[("sim", One())])


HEAVY = ("epics", "scipy", "lmfit", "matplotlib", "h5py", "pandas", "psycopg", "xarray")


def test_loading_every_plugin_imports_no_heavy_library(tmp_path: Path):
    """Plugin modules import cheaply: heavy libraries wait until a factory or plan runs."""
    script = (
        "import sys, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "from cielo.core.plugins import Registry, make_plugin_manager\n"
        "Registry(make_plugin_manager()).collect_all()\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    proc = run_python(script, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_no_plugin_manager_at_import_time():
    script = (
        "import gc, pluggy, cielo, cielo.core, cielo.hookspecs, cielo.plugins\n"
        "print(sum(isinstance(o, pluggy.PluginManager) for o in gc.get_objects()))\n"
        "import sys; print('cielo.plugins.sim' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.split() == ["0", "False"], proc.stderr


class Undecorated:
    def cielo_plans(self):
        return {}


def test_a_hook_without_hookimpl_fails_loudly():
    with pytest.warns(PluginWarning, match=r"defines cielo_plans\(\) without @hookimpl"):
        pm = make_plugin_manager(autoload=False, plugins=[("plain", Undecorated())])
    assert pm.plugin_info["plain"].status == "failed" and pm.get_plugin("plain") is None
    with pytest.raises(PluginError, match="without @hookimpl"):
        make_plugin_manager(autoload=False, strict=True, plugins=[("plain", Undecorated())])


def test_two_distributions_claiming_one_plugin_name(site: Path):
    (site / "good_plugin_copy.py").write_text((site / "good_plugin.py").read_text())
    fake_distribution(site, "cielo-impostor", "9.9", {"good": "good_plugin_copy"})
    proc = run_python(LIST_SCRIPT, site, CIELO_DISABLE_PLUGINS="broken")
    assert proc.returncode == 0, proc.stderr
    infos = json.loads(proc.stdout)
    loaded = infos["good"]
    clash = next(v for k, v in infos.items() if k.startswith("good ("))
    assert loaded[0] == "loaded" and clash[0] == "failed"
    first, second = sorted([loaded[1], clash[1]])  # discovery order is the path's
    assert {first, second} == {"cielo-good", "cielo-impostor"}
    assert "plugin name 'good' is already taken by" in clash[3]
