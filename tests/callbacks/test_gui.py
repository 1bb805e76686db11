"""Interactive plots do their figure work on the main thread, queued from other threads."""

from __future__ import annotations

import sys
import threading

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from cielo.callbacks import (  # noqa: E402
    LivePlot,
    pending_gui_work,
    process_gui_events,
    replay,
)


def test_work_from_a_subscriber_thread_waits_for_the_main_thread(docs, tmp_path):
    plot = LivePlot("det", headless=False, directory=tmp_path, min_interval=0.0)
    run = docs.step_run(range(30))
    worker = threading.Thread(target=replay, args=(run, plot))
    worker.start()
    worker.join()
    assert plot.figure is None and plot.saved == []  # nothing touched the GUI off-main
    assert pending_gui_work() >= 2  # create the figure ... finish (redraw + save)
    assert pending_gui_work() < 30  # redraws are coalesced, not one per event
    ran = process_gui_events()
    assert ran >= 2 and pending_gui_work() == 0
    assert plot.figure is not None and len(plot.saved) == 1
    assert list(plot._lines["det"].get_xdata()) == list(range(30))
    plt.close(plot.figure)


def test_on_the_main_thread_work_runs_at_once(docs, tmp_path):
    plot = LivePlot("det", headless=False, directory=tmp_path)
    replay(docs.step_run(range(3)), plot)
    assert pending_gui_work() == 0 and len(plot.saved) == 1
    plot.close()
    assert plot.figure is None


def test_process_gui_events_refuses_other_threads():
    errors = []

    def call():
        try:
            process_gui_events()
        except RuntimeError as exc:
            errors.append(str(exc))

    t = threading.Thread(target=call, name="not-main")
    t.start()
    t.join()
    assert errors and "'not-main'" in errors[0]


def test_ipython_runs_the_queue_after_each_cell_before_inline_figures_show(
    docs, tmp_path, monkeypatch
):
    """Under IPython the queued work runs at the end of the cell that ran the plan.

    The shell's events follow IPython's ``EventManager`` (``callbacks`` lists, called in
    order by ``trigger``); matplotlib-inline registered ``flush_figures`` on
    ``post_execute`` when the kernel started, and it shows only the figures that exist
    by then: the plot work must run before it, or the figure lands in the next cell.
    """
    import types

    class Events:  # the part of IPython.core.events.EventManager cielo relies on
        def __init__(self):
            self.callbacks = {"post_execute": [], "post_run_cell": []}

        def register(self, event, func):
            self.callbacks[event].append(func)

        def trigger(self, event):
            for func in self.callbacks[event][:]:
                func()

    seen_by_flush = []
    shell = types.SimpleNamespace(events=Events())
    shell.events.register("post_execute", lambda: seen_by_flush.append(list(plot.saved)))
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    plot = LivePlot("det", headless=False, directory=tmp_path)
    for cell in range(2):  # two cells running a plan each: the hook is registered once
        worker = threading.Thread(target=replay, args=(docs.step_run(range(3)), plot))
        worker.start()
        worker.join()
        assert len(plot.saved) == cell  # nothing was drawn off the main thread
        shell.events.trigger("post_execute")  # IPython finishes the cell
        shell.events.trigger("post_run_cell")
        assert pending_gui_work() == 0
        plot.close()
    assert len(shell.events.callbacks["post_execute"]) == 2
    assert [len(saved) for saved in seen_by_flush] == [1, 2]  # each cell's figure, in its cell
    plot.close()


def test_a_waiting_run_engine_draws_queued_plots_on_the_main_thread(tmp_path):
    # the callbacks plugin registers a caller hook on every engine built with its plugins
    from cielo import Msg
    from cielo.callbacks import on_main_thread
    from cielo.core import make_plugin_manager
    from cielo.testing import make_run_engine

    drawn_in: list[str] = []
    queued = threading.Event()

    def queue_from_a_subscriber_thread() -> None:
        on_main_thread(lambda: drawn_in.append(threading.current_thread().name))
        queued.set()

    def plan():
        threading.Thread(target=queue_from_a_subscriber_thread).start()
        yield Msg("sleep", None, 0.3)  # RE() waits in the main thread meanwhile
        return list(drawn_in)

    pm = make_plugin_manager(autoload=False)
    with make_run_engine(plugin_manager=pm) as RE:
        during = RE(plan()).plan_result
    assert queued.is_set()
    assert during == [threading.main_thread().name]  # drawn before the plan ended
