"""The cielo command line, in-process and as a real subprocess."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from cielo import __version__
from cielo.cli import main

#: The bundled plugins' module names: cielo's own entry points.
BUNDLED_PLUGINS = list(
    tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"][
        "entry-points"
    ]["cielo.plugins"].values()
)

EXAMPLE = "example_beamline"


def example_profile(tmp_path: Path) -> Path:
    import cielo_example_beamline

    path = tmp_path / "ex1.toml"
    text = cielo_example_beamline.PROFILE.read_text()
    path.write_text(text.replace('"ex1-logbook.txt"', f'"{tmp_path / "logbook.txt"}"'))
    return path


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("cielo", path=os.path.dirname(sys.executable)) or "cielo"
    return subprocess.run(
        [exe, *args], capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}
    )


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"cielo {__version__}"


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "plugins" in capsys.readouterr().err


def test_plugins_json_lists_bundled_and_example_plugin():
    proc = cli("plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    entries = {e["name"]: e for e in json.loads(proc.stdout)}
    for module in BUNDLED_PLUGINS:
        entry = entries[module.rpartition(".")[2]]
        assert entry["bundled"] is True and entry["error"] is None and entry["version"]
    ex = entries[EXAMPLE]
    assert ex["distribution"] == "cielo-example-beamline" and ex["version"] == "0.1.0"
    assert ex["error"] is None and ex["status"] == "loaded"
    assert {"cielo_device_types", "cielo_plans", "cielo_callbacks"} <= set(ex["hooks"])
    assert ex["contributes"]["cielo_plans"] == ["xafs_scan"]
    assert ex["contributes"]["cielo_callbacks"] == ["run_logbook"]


def test_plugins_json_reports_a_broken_plugin(tmp_path: Path):
    site = tmp_path / "site"
    info = site / "cielo_broken-0.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cielo-broken\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text("[cielo.plugins]\nbroken = broken_mod\n")
    (site / "broken_mod.py").write_text("import no_such_module_anywhere\n")
    env = {"PYTHONPATH": str(site)}
    proc = cli("plugins", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    entries = {e["name"]: e for e in json.loads(proc.stdout)}
    broken = entries["broken"]
    assert broken["status"] == "failed" and broken["hooks"] == []
    assert "ModuleNotFoundError" in broken["error"] and "cielo-broken 0.3" in broken["error"]
    assert entries[EXAMPLE]["error"] is None and entries["sim"]["error"] is None
    strict = cli("plugins", "--json", env={**env, "CIELO_STRICT_PLUGINS": "1"})
    assert strict.returncode == 1
    assert strict.stderr.startswith('cielo: error: Error loading plugin "broken"')
    assert "no_such_module_anywhere" in strict.stderr


def test_blocking_the_example_plugin(tmp_path: Path):
    proc = cli("plugins", "--json", env={"CIELO_DISABLE_PLUGINS": EXAMPLE})
    entries = {e["name"]: e for e in json.loads(proc.stdout)}
    assert entries[EXAMPLE]["status"] == "blocked" and entries[EXAMPLE]["hooks"] == []
    proc = cli(
        "profile", "check", str(example_profile(tmp_path)), env={"CIELO_DISABLE_PLUGINS": EXAMPLE}
    )
    assert proc.returncode == 1
    assert "unknown device type 'example_beamline.mono'" in proc.stderr


def test_plugins_text(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert f"{EXAMPLE} 0.1.0 (cielo-example-beamline)" in out
    assert "cielo_plans: xafs_scan" in out


def test_profiles_show_and_check(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setenv("CIELO_PROFILE_PATH", str(tmp_path))
    path = example_profile(tmp_path)
    assert main(["profiles"]) == 0
    out = capsys.readouterr().out
    assert "ex1" in out and "Example beamline EX-1" in out and str(path) in out
    assert main(["profile", "show", "ex1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# {path}\n") and "[devices.mono]" in out
    assert main(["profile", "check", "ex1"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"ex1.toml: OK \(3 devices, \d+ plans, 2 callbacks, 0 suitcases\)", out)


def test_profile_check_reports_the_error(tmp_path: Path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[devices.mono]\ntype = "example_beamline.mono"\nenergie = 7000.0\n')
    assert main(["profile", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cielo: error: bad.toml: [devices.mono] unknown parameter 'energie'")
    assert "did you mean 'energy'?" in err
    assert main(["profile", "show", "no_such_profile_here"]) == 1
    assert "no profile named 'no_such_profile_here'" in capsys.readouterr().err


def test_devices_and_plans(tmp_path: Path, capsys):
    path = str(example_profile(tmp_path))
    assert main(["devices", "--profile", path]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["NAME", "TYPE", "SOURCE"]
    assert out[1].split() == ["mono", "example_beamline.mono", "profile"]
    assert main(["devices", "--profile", path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[1]["type"] == "example_beamline.ion_chamber"
    assert main(["plans", "-p", path]) == 0
    out = capsys.readouterr().out
    assert "xafs_scan(detectors: Sequence[Readable], energy: Movable, e0: float" in out
    assert "    Scan the energy across an absorption edge" in out
    assert main(["plans", "-p", path, "--json"]) == 0
    plans = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert plans["xafs_scan"]["plugin"] == EXAMPLE
    assert plans["xafs_scan"]["summary"].startswith("Scan the energy across")
    schema = plans["xafs_scan"]["schema"]
    assert schema["required"] == ["detectors", "energy", "e0"]
    assert schema["properties"]["energy"]["x-cielo-device"] == "Movable"
    assert "mono" in schema["properties"]["energy"]["enum"]  # the profile's movable devices


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('touch pwned')", "refused \"__import__('os').system\""),
        ("__import__('os')", "unknown plan '__import__'"),
        ("xafs_scan([i0.mono], mono, 7112)", "attribute access is not allowed"),
        ("xafs_scan([i00], mono, 7112)", "unknown name 'i00'; did you mean 'i0'?"),
        ("xafs_scan([i0], mono, open('x'))", "calls inside the arguments are not allowed"),
        ("xafs_scan([i0], mono, 'high')", "e0"),
        ("xafs_scan([mono], i0, 7112)", "energy"),
    ],
)
def test_run_refuses_with_the_reason_on_stderr(tmp_path: Path, capsys, monkeypatch, text, message):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--profile", str(example_profile(tmp_path)), text]) != 0
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err
    assert not (tmp_path / "pwned").exists()


def test_hooks_command_lists_every_hook(capsys):
    from cielo.cli import hook_docs

    assert main(["hooks"]) == 0
    out = capsys.readouterr().out
    assert all(h.name in out for h in hook_docs())


def test_trace_env_prints_hook_calls():
    proc = cli("plans", "--profile", "/nonexistent/x.toml", env={"CIELO_TRACE_PLUGINS": "1"})
    assert proc.returncode == 1 and "does not exist" in proc.stderr
    proc = cli("plugins", env={"CIELO_TRACE_PLUGINS": "1"})
    assert "cielo trace: cielo_plans() -> [" in proc.stderr


def test_console_script_runs_main():
    proc = cli("--help")
    assert proc.returncode == 0 and "usage: cielo" in proc.stdout
    assert textwrap.dedent("run").strip() in proc.stdout


def test_a_closed_pipe_ends_the_output_quietly():
    # `cielo plans | head -1`: the reader leaves early; no traceback, exit 141 like a shell.
    # The pipe is shrunk to one page so the ~8 kB listing cannot fit in it.
    import fcntl

    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cielo.cli", "plans"], stdout=write_end, stderr=subprocess.PIPE
    )
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        assert reader.readline()
    assert proc.stderr is not None
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141, stderr
    assert "Traceback" not in stderr


def test_profiles_help_is_whole_and_positionals_have_help(capsys):
    with pytest.raises(SystemExit):
        main(["profiles", "--help"])
    assert "then the profiles bundled with cielo." in " ".join(capsys.readouterr().out.split())
    for argv in (["profile", "check", "--help"], ["run", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        out = " ".join(capsys.readouterr().out.split())
        assert "the path of a TOML file" in out or "the plan call, quoted" in out
