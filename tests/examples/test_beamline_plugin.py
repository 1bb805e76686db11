"""The example third-party plugin package: discovered, listed, used by its profile, blockable."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from cielo import load_profile
from cielo.core import LimitError, PluginError, ProfileError, make_plugin_manager

cielo_example_beamline = pytest.importorskip(
    "cielo_example_beamline", reason="pip install -e examples/beamline_plugin"
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins"


def profile_copy(tmp_path: Path) -> Path:
    path = tmp_path / "ex1.toml"
    text = cielo_example_beamline.PROFILE.read_text()
    path.write_text(text.replace('"ex1-logbook.txt"', f'"{tmp_path / "logbook.txt"}"'))
    return path


def test_discovered_through_its_entry_point():
    (ep,) = [ep for ep in entry_points(group="cielo.plugins") if ep.name == "example_beamline"]
    assert ep.value == "cielo_example_beamline.plugin"
    assert ep.dist is not None and ep.dist.metadata["Name"] == "cielo-example-beamline"
    pm = make_plugin_manager(strict=True)
    info = pm.plugin_info["example_beamline"]
    assert (info.status, info.bundled, info.version) == ("loaded", False, "0.1.0")
    assert pm.get_plugin("example_beamline") is cielo_example_beamline.plugin


def test_listed_by_cielo_plugins_json():
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from cielo.cli import main; sys.exit(main())"]
        + ["plugins", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    (entry,) = [e for e in json.loads(proc.stdout) if e["name"] == "example_beamline"]
    assert entry["error"] is None and entry["version"] == "0.1.0"
    assert entry["hooks"] == [
        "cielo_callbacks", "cielo_device_types", "cielo_plan_forms", "cielo_plans",
        "cielo_profile_dirs",
    ]  # fmt: skip
    assert entry["contributes"] == {
        "cielo_device_types": ["example_beamline.ion_chamber", "example_beamline.mono"],
        "cielo_plans": ["xafs_scan"],
        "cielo_callbacks": ["run_logbook"],
    }


def test_its_profile_builds_working_devices(tmp_path: Path):
    env = load_profile(profile_copy(tmp_path), strict=True)
    mono, i0, it = env.devices["mono"], env.devices["i0"], env.devices["it"]
    assert i0.mono is mono and it.mono is mono
    assert env.pm.get_plugin("epics") is None  # the profile blocks it
    assert dict(env.metadata) == {"facility": "Example Light Source", "beamline": "EX-1"}
    readings = []
    for energy in (7000.0, 7100.0, 7124.0, 7300.0):
        assert mono.set(energy).done
        i0.trigger().wait(1)
        it.trigger().wait(1)
        readings.append(i0.read()["i0"]["value"])
        assert 0 < it.read()["it"]["value"] < readings[-1]
        assert mono.read()["mono"]["value"] == energy
    assert readings[1] > 2 * readings[2]  # the edge: absorption jumps across 7112 eV
    assert set(mono.describe()) == set(mono.read()) == {"mono", "mono_theta"}
    with pytest.raises(LimitError, match="energy 40000.0 eV is outside"):
        mono.set(40000.0)


def test_its_callback_keeps_a_logbook(tmp_path: Path, validate):
    env = load_profile(profile_copy(tmp_path), strict=True)
    callback = env.make_subscribers()["callbacks.run_logbook"]  # besides the default catalog
    start = {"uid": "u1", "time": 1.0, "scan_id": 7, "plan_name": "xafs_scan"}
    stop = {
        "uid": "s1",
        "run_start": "u1",
        "time": 2.0,
        "exit_status": "success",
        "num_events": {"primary": 12},
    }
    validate("start", start)
    validate("stop", stop)
    callback("start", start)
    callback("stop", stop)
    assert (tmp_path / "logbook.txt").read_text() == "u1 7 xafs_scan success 12\n"


def test_blocking_it_removes_its_contributions(tmp_path: Path):
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    assert "xafs_scan" in load_profile(empty).plans
    env = load_profile(empty, disable=["example_beamline"])
    assert "xafs_scan" not in env.plans and "run_logbook" not in env.callbacks
    assert env.pm.plugin_info["example_beamline"].status == "blocked"


def test_blocking_it_makes_its_profile_fail_clearly(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("CIELO_DISABLE_PLUGINS", "example_beamline")
    with pytest.raises(ProfileError, match="unknown device type 'example_beamline.mono'"):
        load_profile(profile_copy(tmp_path))
    pm = make_plugin_manager()
    assert pm.get_plugin("example_beamline") is None
    assert pm.plugin_info["example_beamline"].status == "blocked"


@pytest.mark.parametrize("page", ["index.md", "writing.md"])
def test_python_examples_in_the_plugin_docs_run(tmp_path: Path, monkeypatch, page: str):
    monkeypatch.chdir(tmp_path)
    for var in ("CIELO_STATE_DIR", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, page, "exec"), {"__name__": "docs_example"})


def test_plugin_module_imports_cheaply():
    code = (
        "import sys; import cielo_example_beamline.plugin; "
        "print(sorted(m for m in ('scipy', 'h5py', 'epics', 'matplotlib', 'pandas') if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env={**os.environ}
    )
    assert proc.stdout.strip() == "[]", proc.stderr


def test_the_templates_own_tests_pass(tmp_path: Path):
    package = Path(cielo_example_beamline.__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package / "tests")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "CIELO_STATE_DIR": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout


def test_a_copy_with_its_own_prefix_coexists_with_the_example(tmp_path: Path, monkeypatch):
    """A copy that keeps the example's names makes every profile fail while both are
    installed; changing the one PREFIX of plugin.py renames everything it offers."""
    import importlib
    import shutil

    source = Path(cielo_example_beamline.__file__).parent
    cases = (("example_beamline", True), ("ex2", False))
    for prefix, _ in cases:
        package = f"cielo_{prefix}_copy"
        shutil.copytree(source, tmp_path / package)
        plugin_py = tmp_path / package / "plugin.py"
        text = plugin_py.read_text()
        plugin_py.write_text(text.replace('PREFIX = "example_beamline"', f'PREFIX = "{prefix}"', 1))
    monkeypatch.syspath_prepend(str(tmp_path))
    for prefix, fails in cases:
        copy = importlib.import_module(f"cielo_{prefix}_copy.plugin")
        pm = make_plugin_manager(plugins=[("my_beamline", copy)])
        if fails:
            with pytest.raises(PluginError, match="offered by two plugins"):
                load_profile("sim", plugin_manager=pm)
        else:
            env = load_profile("sim", plugin_manager=pm)
            assert {"xafs_scan", "ex2_xafs_scan"} <= set(env.plans)
            assert {"example_beamline.mono", "ex2.mono"} <= set(env.device_types)
            assert {"run_logbook", "ex2_run_logbook"} <= set(env.callbacks)


def test_the_profile_check_line_in_the_docs_is_what_cielo_prints(capsys):
    """docs/plugins/writing.md showed 'OK (2 devices, 1 plans, ...)' for a profile of 3 and 27."""
    from cielo.cli import main

    text = (DOCS / "writing.md").read_text()
    (shown,) = [ln for ln in text.splitlines() if ln.startswith("example_beamline.toml: ")]
    assert main(["profile", "check", str(cielo_example_beamline.PROFILE)]) == 0
    assert capsys.readouterr().out.strip() == shown


def test_xafs_scan_from_the_cli_prints_its_table(tmp_path: Path, monkeypatch, capsys):
    """It printed only a uid: the example profile had no table callback."""
    from cielo.cli import main

    monkeypatch.chdir(tmp_path)  # the profile's logbook lands here
    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("CIELO_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.setenv("CIELO_CATALOG", f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    profile = str(cielo_example_beamline.PROFILE)
    assert main(["run", "--profile", profile, "xafs_scan([i0], mono, 7112)"]) == 0
    out = capsys.readouterr().out
    assert "|       1 |" in out and "events in stream 'primary'" in out
