"""BestEffort picks a table and plots from hints alone, configurable."""

from __future__ import annotations

import io

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from cielo.callbacks import BestEffort, LiveGrid, LiveImage, LivePlot, LiveScatter, replay  # noqa: E402


def test_one_dimensional_scan(docs, tmp_path):
    out = io.StringIO()
    be = BestEffort(out=out, directory=tmp_path)
    replay(docs.step_run(detectors=("det", "det2"), md={"scan_id": 3}), be)
    assert [type(p) for p in be.plots] == [LivePlot, LivePlot]
    assert sorted(p.rsplit("/", 1)[1] for p in be.saved) == ["3-scan-det.png", "3-scan-det2.png"]
    assert "success: scan 3" in out.getvalue()


def test_grid_scan_gets_a_grid_and_spiral_a_scatter(docs, tmp_path):
    be = BestEffort(out=io.StringIO(), directory=tmp_path)
    replay(docs.grid_run(), be)
    assert [type(p) for p in be.plots] == [LiveGrid]
    run = docs.grid_run()
    del run[0][1]["shape"]
    replay(run, be)
    assert [type(p) for p in be.plots] == [LiveScatter]


def test_images_and_configuration(docs, tmp_path):
    be = BestEffort(out=io.StringIO(), headless=True)
    replay(docs.image_run(2), be)
    assert [type(p) for p in be.plots] == [LiveImage]
    be = BestEffort(out=io.StringIO(), plots=["image"], headless=True)
    replay(docs.step_run(range(3)), be)
    assert be.plots == []
    out = io.StringIO()
    be = BestEffort(out=out, table=False, fields=["det2"], headless=True)
    replay(docs.step_run(range(3), detectors=("det", "det2")), be)
    assert [p.y for p in be.plots] == [["det2"]] and out.getvalue() == ""
    with pytest.raises(ValueError, match=r"unknown plot kind\(s\) \['pie'\]"):
        BestEffort(plots=["pie"])


def test_baseline_is_printed(docs, validate):
    run = docs.step_run(range(2))
    start = run[0][1]
    desc = {
        "uid": "baseline-desc",
        "run_start": start["uid"],
        "time": start["time"],
        "name": "baseline",
        "data_keys": {"motor1": {"dtype": "number", "shape": [], "source": "s"}},
        "hints": {},
        "configuration": {},
        "object_keys": {"motor1": ["motor1"]},
    }
    ev = {
        "uid": "b1",
        "descriptor": "baseline-desc",
        "seq_num": 1,
        "time": start["time"],
        "data": {"motor1": 1.25},
        "timestamps": {"motor1": start["time"]},
    }
    validate("descriptor", desc)
    validate("event", ev)
    out = io.StringIO()
    replay(
        run[:1] + [("descriptor", desc), ("event", ev)] + run[1:], BestEffort(out=out, plots=False)
    )
    assert "baseline (start): motor1=1.25" in out.getvalue()


def test_a_broken_child_does_not_stop_the_table(docs):
    out = io.StringIO()
    be = BestEffort(out=out, headless=True)
    run = docs.step_run(range(3))
    replay(run[:2], be)
    be.plots[0].event = lambda doc: 1 / 0
    replay(run[2:], be)
    assert "success" in out.getvalue()
    assert len(be.failures) == 3 and be.failures[0].callback == "best_effort.LivePlot"


def test_another_stream(docs):
    run = docs.step_run(range(4))
    run[1][1]["name"] = "fly"
    run[0][1]["hints"]["dimensions"] = [[["motor"], "fly"]]
    out = io.StringIO()
    be = BestEffort(out=out, headless=True, stream="fly")
    replay(run, be)
    assert "4 events in stream 'fly'" in out.getvalue()
    assert [type(p) for p in be.plots] == [LivePlot] and len(be.plots[0].xdata) == 4
    assert out.getvalue().count("\n|") >= 4


def test_fatal_reraises_after_the_other_children_saw_the_document(docs):
    out = io.StringIO()
    be = BestEffort(out=out, headless=True, fatal=True)
    run = docs.step_run(range(3))
    replay(run[:2], be)
    be.plots[0].event = lambda doc: 1 / 0
    with pytest.raises(ZeroDivisionError):
        replay(run[2:3], be)
    assert out.getvalue().count("\n|") >= 3  # the table printed the row first (titles + 1)
    assert len(be.failures) == 1


def _run_on_engine(plan_factory, **options):
    """Run a plan of the sim profile on a RunEngine; return what best_effort printed."""
    import cielo
    from cielo.callbacks import per_run
    from cielo.testing import make_run_engine

    env = cielo.load_profile("sim")
    out = io.StringIO()
    with make_run_engine() as RE:
        RE.subscribe(per_run(lambda: BestEffort(plots=False, out=out, width=80, **options)))
        RE(plan_factory(env))
    return out.getvalue()


def test_a_fly_scan_gets_the_table_of_its_stream():
    """fly([flyer]) printed only its uid: its events are in the 'flyer' stream."""
    text = _run_on_engine(lambda env: env.plans["fly"]([env.devices["flyer"]]))
    lines = text.splitlines()
    assert "flyer_intensity" in text
    assert (
        len([ln for ln in lines if ln.startswith("|") and ln.split("|")[1].strip().isdigit()]) == 20
    )
    assert "20 events in stream 'flyer'" in lines[-1]


def test_monitors_and_baseline_do_not_take_the_primary_streams_place():
    from cielo.plans import SupplementalData

    def plan(env):
        dev = env.devices
        supplemental = SupplementalData(baseline=[dev["motor1"]], monitors=[dev["beam_current"]])
        return supplemental(env.plans["scan"]([dev["det"]], dev["motor"], -1, 1, 3))

    text = _run_on_engine(plan)
    assert "3 events in stream 'primary'" in text and "baseline (start)" in text


def test_a_run_without_events_still_gets_a_summary():
    from cielo.plans import close_run, open_run

    def plan(env):
        yield from open_run({"plan_name": "nothing"})
        yield from close_run()

    text = _run_on_engine(lambda env: plan(env))
    assert text.startswith("success: scan ") and "nothing (uid " in text
    assert text.rstrip().endswith("no events")


def test_a_chosen_stream_is_kept():
    text = _run_on_engine(lambda env: env.plans["fly"]([env.devices["flyer"]]), stream="primary2")
    assert "flyer_intensity" not in text and "no events" not in text
