"""Live plots, headless: the PNG files they write exist, have the right size and content."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.image import imread  # noqa: E402

from cielo.callbacks import LiveGrid, LiveImage, LivePlot, LiveScatter, replay  # noqa: E402


def png(path) -> np.ndarray:
    img = imread(path)
    assert img.ndim == 3
    return img


def nontrivial(img: np.ndarray) -> bool:
    """More than a blank canvas: many distinct colours."""
    return len(np.unique(img.reshape(-1, img.shape[-1]), axis=0)) > 50


def test_line_plot_png_per_run(docs, tmp_path):
    plot = LivePlot("det", directory=tmp_path, figsize=(5, 3), dpi=80)
    run = docs.step_run(md={"scan_id": 7})
    replay(run, plot)
    assert plot.saved == [str(tmp_path / "7-scan-det.png")]
    img = png(plot.saved[0])
    assert img.shape[:2] == (240, 400)
    assert nontrivial(img)
    line = plot._lines["det"]
    np.testing.assert_allclose(
        line.get_xdata(), [d["data"]["motor"] for n, d in run if n == "event"]
    )
    assert plot._ax.get_xlabel() == "motor [mm]"
    assert plot.redraws == 1  # headless: drawn once, at the end


def test_several_signals_and_missing_field(docs, tmp_path):
    plot = LivePlot(
        ["det", "det2", "ghost"], directory=tmp_path, filename="{short_uid}-{field}.png"
    )
    run = docs.step_run(detectors=("det", "det2"))
    replay(run, plot)
    assert plot.saved[0].endswith(f"{run[0][1]['uid'][:8]}-det+det2+ghost.png")
    assert set(plot._lines) == {"det", "det2"}
    texts = [t.get_text() for t in plot._ax.texts]
    assert any("ghost" in t for t in texts)


def test_count_plots_against_time(docs):
    plot = LivePlot("det", headless=True)
    replay(docs.step_run(range(4), motor="", plan_name="count"), plot)
    np.testing.assert_allclose(plot.xdata, [0.01, 0.02, 0.03, 0.04], atol=1e-6)


def test_throttled_redraws_when_interactive(docs, monkeypatch):
    plot = LivePlot("det", headless=True, min_interval=3600)
    plot.start(docs.step_run(range(1))[0][1])
    run = docs.step_run(range(50))
    for name, doc in run:
        plot(name, doc)
        if name == "descriptor":
            plot.headless = False  # pretend someone is watching; canvas is Agg
    assert plot.redraws == 2  # the first event and the stop, not 50


def test_grid_fills_cells_from_positions(docs, tmp_path):
    run = docs.grid_run(shape=(5, 7))
    grid = LiveGrid("det2", directory=tmp_path)
    replay(run, grid)
    assert grid.grid is not None and grid.grid.shape == (5, 7)
    assert np.isfinite(grid.grid).all()
    i, j = np.unravel_index(np.argmax(grid.grid), grid.grid.shape)
    assert (i, j) == (2, 3)  # the peak at motor1=0, motor2=0
    assert nontrivial(png(grid.saved[0]))


def test_grid_without_shape_says_so_scatter_works(docs, tmp_path):
    run = docs.grid_run()
    for _, doc in run[:1]:
        del doc["shape"]
    with pytest.raises(ValueError, match="use LiveScatter"):
        replay(run, LiveGrid("det2", headless=True))
    scatter = LiveScatter("det2", directory=tmp_path)
    replay(run, scatter)
    assert len(scatter.points) == 35 and nontrivial(png(scatter.saved[0]))


def test_image_from_events(docs, tmp_path):
    run = docs.image_run(3)
    view = LiveImage("camera", directory=tmp_path)
    replay(run, view)
    last = np.asarray([d for n, d in run if n == "event"][-1]["data"]["camera"])
    np.testing.assert_allclose(view._artist.get_array(), last)
    assert view.frames_seen == 3 and nontrivial(png(view.saved[0]))


def test_external_frames_without_reader_say_where_they_are(docs, tmp_path):
    view = LiveImage("camera", directory=tmp_path)
    replay(docs.image_run(4, external=True), view)
    assert view.frames_seen == 4
    assert "camera.h5" in view.external_note and "not shown live" in view.external_note
    assert view._text.get_text() == view.external_note
    assert view.saved


def test_external_frames_with_a_reader(docs, tmp_path):
    calls = []

    def fetch(stream_resource, index):
        calls.append(index)
        return np.arange(12.0).reshape(1, 3, 4) * (index + 1)

    view = LiveImage("camera", fetch=fetch, directory=tmp_path)
    replay(docs.image_run(4, external=True), view)
    assert calls == [3]  # headless: only the latest frame is read, once
    np.testing.assert_allclose(view._artist.get_array(), np.arange(12.0).reshape(3, 4) * 4)
