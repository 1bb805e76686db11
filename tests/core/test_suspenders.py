"""Suspenders trip and release on real signals changing from another thread."""

from __future__ import annotations

import threading
import time

import pytest
from ophyd import Signal

from cielo import Msg
from cielo.core import (
    RunEngineInterrupted,
    SuspendBoolHigh,
    SuspendBoolLow,
    SuspendCeil,
    SuspendFloor,
    SuspendWhen,
    SuspendWhenChanged,
    SuspendWhenOutsideBand,
)
from cielo.devices import SoftSignal
from cielo.devices.sim import SimBeamCurrent


def later(seconds: float, func, *args) -> None:
    threading.Timer(seconds, func, args=args).start()


def steps(sig, n: int, dwell: float, log: list[tuple[int, float]]):
    yield Msg("open_run")
    for i in range(n):
        yield Msg("checkpoint")
        yield Msg("sleep", None, dwell)
        log.append((i, time.monotonic()))
        yield Msg("create", None, name="primary")
        yield Msg("read", sig)
        yield Msg("save")
    yield Msg("close_run")


def test_floor_suspends_while_beam_is_down_and_resumes_after_settle(RE, validate):
    beam = SimBeamCurrent(name="beam_current", nominal=500.0)
    suspender = SuspendFloor(beam, 100, resume_thresh=400, sleep=0.3)
    RE.install_suspender(suspender)
    docs: list[tuple[str, dict]] = []
    RE.subscribe(lambda n, d: docs.append((n, d)))
    states: list[bool] = []
    log: list[tuple[int, float]] = []
    restored_at: list[float] = []

    def restore() -> None:
        restored_at.append(time.monotonic())
        beam.update(450.0)

    later(0.15, beam.update, 10.0)  # the beam drops during step 1
    later(0.25, lambda: states.append(RE.suspended))
    later(0.35, beam.update, 300.0)  # not enough to resume
    later(0.5, restore)
    t0 = time.monotonic()
    RE(steps(beam, 3, 0.1, log))
    assert states == [True]
    assert RE.suspended is False
    # resumed only after the current came back and stayed for the settle time
    resumed_steps = [t for i, t in log if t > restored_at[0]]
    assert resumed_steps and min(resumed_steps) >= restored_at[0] + 0.3
    assert time.monotonic() - t0 >= 0.8
    events = [d for n, d in docs if n == "event"]
    assert len(events) == 3  # the interrupted step was rewound, not duplicated
    for name, doc in docs:
        validate(name, doc)


def test_bool_high_with_ophyd_signal_and_pre_post_plans(RE):
    interlock = Signal(name="interlock", value=0)
    ran: list[str] = []

    def pre():
        ran.append("pre")
        yield Msg("null")

    def post():
        ran.append("post")
        yield Msg("null")

    RE.install_suspender(SuspendBoolHigh(interlock, sleep=0.05, pre_plan=pre, post_plan=post))
    later(0.05, interlock.put, 1)
    later(0.3, interlock.put, 0)
    log: list[tuple[int, float]] = []
    RE(steps(interlock, 2, 0.1, log))
    assert ran == ["pre", "post"]
    assert [i for i, _ in log][-2:] == [0, 1]


def test_suspender_installed_from_a_plan_stays_installed(RE):
    permit = SoftSignal(1, name="permit")
    suspender = SuspendBoolLow(permit)

    def plan():
        yield Msg("install_suspender", None, suspender)
        yield Msg("null")

    RE(plan())
    assert RE.suspenders == (suspender,)  # as in Bluesky: until removed
    RE([Msg("remove_suspender", None, suspender)])
    assert RE.suspenders == ()
    permit.put(0)  # no engine listens any more
    RE([Msg("null")])


def test_tripped_before_plan_starts_waits(RE):
    sig = SoftSignal(5.0, name="temperature")
    RE.install_suspender(SuspendCeil(sig, 10.0, resume_thresh=8.0))
    sig.put(20.0)
    later(0.2, sig.put, 7.0)
    t0 = time.monotonic()
    RE([Msg("checkpoint"), Msg("null")])
    assert time.monotonic() - t0 >= 0.15


def test_pause_while_suspended_then_abort(RE):
    sig = SoftSignal(0.0, name="x")
    RE.install_suspender(SuspendWhenOutsideBand(sig, -1.0, 1.0))
    later(0.05, sig.put, 5.0)
    later(0.2, RE.request_pause)
    with pytest.raises(RunEngineInterrupted):
        RE(steps(sig, 3, 0.1, []))
    assert RE.state == "paused"
    result = RE.abort("gave up")
    assert result.exit_status == "abort"
    RE.remove_suspender(RE.suspenders[0])


def _flipped_during_a_plan(RE, sig, tripping, releasing) -> list[bool]:
    """Run a plan while another thread puts ``tripping`` on ``sig``, waits until the
    engine is suspended (or 10 s), then puts ``releasing``; what the thread saw."""
    seen: list[bool] = []

    def flip() -> None:
        sig.put(tripping)
        deadline = time.monotonic() + 10
        while not RE.suspended and time.monotonic() < deadline:
            time.sleep(0.005)
        seen.append(RE.suspended)
        sig.put(releasing)

    flipper = threading.Thread(target=flip)

    def plan():
        yield Msg("open_run")
        yield Msg("checkpoint")
        if not flipper.is_alive() and not seen:
            flipper.start()
        while flipper.is_alive():  # sequenced by the flip, not by timers (a loaded machine)
            yield Msg("sleep", None, 0.02)
        yield Msg("close_run")

    RE(plan())
    flipper.join(10)
    return seen


def test_when_changed_and_custom_condition(RE):
    mode = SoftSignal("A", name="mode")
    changed = SuspendWhenChanged(mode, allow_resume=True)
    RE.install_suspender(changed)
    assert changed.expected_value == "A"
    assert _flipped_during_a_plan(RE, mode, "B", "A") == [True]  # suspended until back to A
    assert not RE.suspended and not changed.tripped
    RE.remove_suspender(changed)

    level = SoftSignal(0, name="level")
    custom = SuspendWhen(level, lambda v: v == 3)
    RE.install_suspender(custom)
    assert _flipped_during_a_plan(RE, level, 3, 4) == [True]
    assert not RE.suspended and not custom.tripped


def test_request_suspend_with_a_future(RE):
    import concurrent.futures

    fut: concurrent.futures.Future[None] = concurrent.futures.Future()
    later(0.05, lambda: RE.request_suspend(fut, justification="custom"))
    later(0.3, fut.set_result, None)
    log: list[tuple[int, float]] = []
    t0 = time.monotonic()
    RE(steps(SoftSignal(0, name="s"), 2, 0.1, log))
    assert time.monotonic() - t0 >= 0.3


def test_bad_thresholds_are_refused():
    sig = SoftSignal(0.0, name="s")
    with pytest.raises(ValueError, match="resume_thresh"):
        SuspendFloor(sig, 10, resume_thresh=5)
    with pytest.raises(ValueError, match="resume_thresh"):
        SuspendCeil(sig, 10, resume_thresh=15)
    with pytest.raises(TypeError, match="subscribe"):
        SuspendFloor(42, 1)


def test_abort_while_suspended_runs_no_further_step(RE):
    from cielo.core import RunEngineInterrupted

    sig = SoftSignal(1, name="permit")
    RE.install_suspender(SuspendBoolLow(sig))
    reads: list[int] = []

    class Probe:
        name, parent = "probe", None

        def read(self):
            reads.append(1)
            return {"probe": {"value": 1, "timestamp": time.time()}}

        def describe(self):
            return {"probe": {"source": "t", "dtype": "integer", "shape": []}}

    def plan():
        yield Msg("open_run")
        for _ in range(3):
            yield Msg("checkpoint")
            yield Msg("sleep", None, 0.1)
            yield Msg("create", None, name="primary")
            yield Msg("read", Probe())
            yield Msg("save")
        yield Msg("close_run")

    later(0.05, sig.put, 0)
    later(0.3, RE.abort, "no permit")
    with pytest.raises(RunEngineInterrupted, match="aborted"):
        RE(plan())
    assert reads == []  # the suspended step was never completed
    assert RE.state == "idle" and not RE.suspended
