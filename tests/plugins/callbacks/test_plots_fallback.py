"""plots = true with no display: PNG files in a named folder, said in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROFILE = """
[devices.motor]
type = "sim.motor"
[devices.det]
type = "sim.peak_detector"
motors = ["motor"]
[callbacks.best_effort]
plots = true
"""


def run(tmp_path: Path, profile: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "p.toml").write_text(profile)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("MPLBACKEND", None)  # matplotlib finds no display by itself
    env["CIELO_STATE_DIR"] = str(tmp_path / "state")
    env["CIELO_CATALOG"] = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    env["CIELO_LOCK_DIR"] = str(tmp_path / "locks")
    return subprocess.run(
        [sys.executable, "-m", "cielo.cli", "run", "--profile", "p.toml",
         "scan([det], motor, -1, 1, 5)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_plots_without_a_display_are_written_to_a_named_folder(tmp_path: Path):
    done = run(tmp_path, PROFILE)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "cielo-plots"
    (said,) = [line for line in done.stderr.splitlines() if "no display" in line]
    assert str(folder) in said and "PNG" in said
    assert [p.name for p in folder.iterdir()] == ["1-scan-det.png"]


def test_a_chosen_directory_is_used_silently(tmp_path: Path):
    done = run(tmp_path, PROFILE + 'directory = "mine"\n')
    assert done.returncode == 0, done.stderr
    assert "no display" not in done.stderr
    assert not (tmp_path / "cielo-plots").exists()
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["1-scan-det.png"]
