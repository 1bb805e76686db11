"""Each bundled plugin can be taken away and the rest of cielo still works (issue 15).

For every bundled plugin, a subprocess blocks its package on ``sys.meta_path`` (as if it
were not installed) and runs the ``cielo`` commands in-process: help, ``profiles``,
``plugins``, ``hooks``, ``ioc``, ``profile check sim`` and a ``cielo run`` on the sim
profile. The plugin is listed as "not installed" (no warning); every command that does
not need it works; the sim profile works unless it uses something the plugin offers, and
then it fails with a ``cielo: error:`` naming what is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from cielo.core import load_profile, make_plugin_manager

pytestmark = pytest.mark.slow

BUNDLED = sorted(n for n, i in make_plugin_manager(autoload=False).plugin_info.items() if i.bundled)

RUN = "count([det], num=2)"
COMMANDS: list[list[str]] = [
    ["--help"],
    ["profiles"],
    ["plugins", "--json"],
    ["hooks"],
    ["ioc", "sim", "--list"],
    ["profile", "check", "sim"],
    ["run", "--profile", "sim", RUN],
]

SCRIPT = r"""
import contextlib, io, json, sys

blocked = sys.argv[1]


class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name == blocked or name.startswith(blocked + "."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NotInstalled())
from cielo.cli import main

results = []
for argv in json.loads(sys.argv[2]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    results.append([argv, code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def needed() -> dict[str, set[str]]:
    """The plugins each sim-profile command uses: by the profile, and by ``count`` too."""
    env = load_profile("sim")
    registry, profile = env.registry, env.profile
    used = {registry.provider("device_types", d.type) for d in profile.devices.values()}
    used |= {registry.provider("callbacks", s.type) for s in profile.callbacks.values()}
    used |= {registry.provider("suitcases", s.type) for s in profile.suitcases.values()}
    scheme = (env.catalog_uri or "").partition(":")[0]
    if scheme:
        used.add(registry.provider("catalog_backends", scheme))
    return {
        "profile check sim": used,
        f"run --profile sim {RUN}": used | {registry.provider("plans", "count")},
    }


@pytest.fixture(scope="module")
def without(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    """``{plugin: [[argv, exit status, stdout, stderr], ...]}`` with that plugin missing."""
    root = tmp_path_factory.mktemp("removable")

    def run(name: str) -> tuple[str, list[Any]]:
        home = root / name
        home.mkdir()
        env = {
            **os.environ,
            "CIELO_CATALOG": f"sqlite:///{home / 'catalog.sqlite'}",
            "CIELO_STATE_DIR": str(home / "state"),
            "CIELO_LOCK_DIR": str(home / "locks"),
            "CIELO_PROFILE_PATH": "",
            "XDG_CONFIG_HOME": str(home / "config"),
            "COLUMNS": "200",
        }
        for key in ("CIELO_DISABLE_PLUGINS", "CIELO_STRICT_PLUGINS", "CIELO_TRACE_PLUGINS"):
            env.pop(key, None)
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT, f"cielo.plugins.{name}", json.dumps(COMMANDS)],
            capture_output=True, text=True, timeout=300, env=env, cwd=home,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        return name, json.loads(proc.stdout.splitlines()[-1])

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(run, BUNDLED))


def test_every_bundled_plugin_is_covered():
    assert {"sim", "epics", "scans", "callbacks", "catalog"} <= set(BUNDLED)


@pytest.mark.parametrize("name", BUNDLED)
def test_cielo_works_without(name: str, without: dict[str, list[Any]], needed: dict[str, set[str]]):
    results = {" ".join(argv): (code, out, err) for argv, code, out, err in without[name]}
    for argv, (_, _, err) in results.items():
        assert "Traceback" not in err, f"cielo {argv} without {name}:\n{err}"
        assert "Error loading plugin" not in err, f"cielo {argv}: {name} reported as a failure"

    code, out, _ = results["--help"]
    assert code == 0 and "profiles" in out
    assert ("ioc" in out) == (name != "epics")

    code, out, _ = results["profiles"]
    assert code == 0 and "sim" in out

    code, out, err = results["plugins --json"]
    assert code == 0, err
    listed = {e["name"]: e for e in json.loads(out)}
    assert listed[name]["status"] == "not installed" and listed[name]["error"] is None
    assert all(listed[other]["status"] == "loaded" for other in BUNDLED if other != name)

    code, out, _ = results["hooks"]
    assert code == 0 and "cielo_plans" in out

    code, out, err = results["ioc sim --list"]
    if name == "epics":
        assert code == 2 and "invalid choice: 'ioc'" in err
    else:
        assert code == 0 and "CIELO:m1:VAL" in out.split()

    for argv, plugins in needed.items():
        code, out, err = results[argv]
        if name in plugins:
            assert code != 0 and err.startswith("cielo: error:"), (argv, code, err)
        else:
            assert code == 0, f"cielo {argv} without {name}: {err}"


def test_the_sim_run_needs_a_few_plugins_only(needed: dict[str, set[str]]):
    """The check above is not vacuous: some plugins are needed, most are not."""
    run = needed[f"run --profile sim {RUN}"]
    assert {"sim", "scans"} <= run and not {"epics", "fly", "bus"} & run
