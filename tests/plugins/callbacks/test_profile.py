"""Callbacks configured in a profile's TOML tables, built by the environment, on the engine."""

from __future__ import annotations

import json

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import cielo  # noqa: E402
from cielo.testing import make_run_engine  # noqa: E402

PROFILE = """
[devices.motor]
type = "sim.motor"

[devices.det]
type = "sim.peak_detector"
motors = ["motor"]
center = 0.5
sigma = 0.7
amplitude = 200.0
background = 4.0
noise = "gaussian"
noise_level = 1.0
seed = 2

[callbacks.best_effort]
plots = ["line"]
directory = "{plots}"
width = 90
out = "stderr"

[callbacks.peak_stats]
derivative = true
sidecar = "{plots}/{{scan_id}}-stats.json"

[callbacks.fit]
type = "live_fit"
model = "gaussian"
update_every = 4
plot = true
directory = "{plots}"
sidecar = "{plots}/{{scan_id}}-fit.json"

[callbacks.quiet]
type = "best_effort"
enabled = false
"""


def test_profile_callbacks_on_the_sim_beamline(tmp_path, capsys, validate):
    plots = tmp_path / "plots"
    path = tmp_path / "beamline.toml"
    path.write_text(PROFILE.format(plots=plots))
    env = cielo.load_profile(path)
    subscribers = env.make_subscribers()
    assert set(subscribers) >= {
        "callbacks.best_effort",
        "callbacks.peak_stats",
        "callbacks.fit",
        "callbacks.quiet",
    }
    with make_run_engine() as RE:
        for cb in subscribers.values():
            RE.subscribe(cb)
        RE.subscribe(validate)
        (uid,) = RE(env.plans["scan"]([env.devices["det"]], env.devices["motor"], -2, 3, 26))
        assert RE.callback_errors == []
    assert "success: scan 1" in capsys.readouterr().err
    assert sorted(p.name for p in plots.glob("*.png")) == ["1-scan-det-fit.png", "1-scan-det.png"]
    stats = json.loads((plots / "1-stats.json").read_text())
    assert abs(stats["stats"]["det"]["cen"] - 0.5) < 0.05
    fit = json.loads((plots / "1-fit.json").read_text())
    assert fit["run_start"] == uid
    assert abs(fit["fit"]["center"] - 0.5) < 4 * fit["fit"]["center_stderr"]
    assert abs(fit["fit"]["sigma"] - 0.7) < 4 * fit["fit"]["sigma_stderr"]


def test_bad_callback_parameters_are_named(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[callbacks.best_effort]\nplots = ["pie"]\n')
    env = cielo.load_profile(path)
    with pytest.raises(cielo.core.ProfileError, match="pie"):
        env.make_subscribers()
