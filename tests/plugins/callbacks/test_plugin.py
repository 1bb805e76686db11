"""The callbacks plugin offers its names through the hook; each factory follows many runs."""

from __future__ import annotations

import io

import numpy as np
import pluggy
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import cielo.plugins.callbacks as plugin  # noqa: E402
from cielo.callbacks import replay  # noqa: E402
from cielo.core.plugins import PluginHooks  # noqa: E402
from cielo.hookspecs import callbacks as callback_specs  # noqa: E402


@pytest.fixture
def offered():
    pm = pluggy.PluginManager("cielo")
    pm.add_hookspecs(callback_specs)
    pm.register(plugin, name="callbacks")
    (mapping,) = PluginHooks(pm).callbacks()
    return mapping


def test_names(offered):
    assert set(offered) == {"live_table", "live_plot", "best_effort", "peak_stats", "progress"}


def test_live_table_interleaved_runs(offered, docs):
    out = io.StringIO()
    table = offered["live_table"](out=out, width=80)
    a, b = docs.step_run(range(3)), docs.step_run(range(2))
    replay(a[:3] + b + a[3:], table)
    text = out.getvalue()
    assert text.count("success: scan") == 2
    assert "3 events" in text and "2 events" in text


def test_live_plot_kinds(offered, docs, tmp_path):
    cb = offered["live_plot"](y="det", directory=str(tmp_path))
    replay(docs.step_run(md={"scan_id": 5}), cb)
    assert (tmp_path / "5-scan-det.png").stat().st_size > 5000
    cb = offered["live_plot"](y="det2", kind="grid", directory=str(tmp_path))
    replay(docs.grid_run(md=None) if False else docs.grid_run(), cb)
    assert len(list(tmp_path.glob("*-grid_scan-det2.png"))) == 1
    with pytest.raises(ValueError, match="kind='pie' is unknown"):
        offered["live_plot"](y="det", kind="pie")
    with pytest.raises(ValueError, match="shows one field"):
        offered["live_plot"](y=["a", "b"], kind="grid")


def test_best_effort_options_and_off(offered, docs, tmp_path):
    out = io.StringIO()
    cb = offered["best_effort"](out=out, plots=["line"], directory=str(tmp_path), width=90)
    replay(docs.step_run(md={"scan_id": 9}), cb)
    assert "success: scan 9" in out.getvalue()
    assert [p.name for p in tmp_path.iterdir()] == ["9-scan-det.png"]
    off = offered["best_effort"](enabled=False)
    replay(docs.step_run(), off)
    with pytest.raises(ValueError, match=r"unknown kind\(s\) \['pie'\]"):
        offered["best_effort"](plots=["pie"])
    with pytest.raises(ValueError, match="out='nowhere'"):
        offered["best_effort"](out="nowhere")


def test_peak_stats_results_per_run(offered, docs):
    cb = offered["peak_stats"](derivative=True)
    run = docs.step_run(np.linspace(-2, 2, 41))
    replay(run, cb)
    stats = cb.results[run[0][1]["uid"]]["det"]
    assert stats.cen == pytest.approx(0.3, abs=0.01)
    assert stats.derivative is not None
    out = io.StringIO()
    replay(run, offered["peak_stats"](report=True, out=out))
    assert out.getvalue().startswith(f"peak stats of det vs motor: cen={stats.cen:.6g} ")


def test_plugin_import_is_cheap():
    import subprocess
    import sys

    code = (
        "import sys, cielo.plugins.callbacks, cielo.plugins.fitting;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib','lmfit','scipy'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_fatal_option_of_every_factory(offered, docs):
    """``fatal = true`` in a profile makes a callback's failure reach the engine."""
    run = docs.step_run(range(2))
    broken_run = [(n, {**d, "time": float("nan")} if n == "event" else d) for n, d in run]
    for fatal in (False, True):
        table = offered["live_table"](out=io.StringIO(), fatal=fatal)
        if fatal:
            with pytest.raises(ValueError):  # an event time no clock can show
                replay(broken_run, table)
        else:
            replay(broken_run, table)
        assert table.failures and table.failures[0].document_name == "event"
    for name, params in [
        ("live_plot", {"y": "det"}),
        ("best_effort", {}),
        ("peak_stats", {}),
    ]:
        assert offered[name](fatal=True, **params).fatal is True, name
