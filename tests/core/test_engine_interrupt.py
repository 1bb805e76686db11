"""Pause, resume (with rewinding), abort, stop and halt, requested from other threads."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

from cielo import Msg, RunEngine
from cielo.core import RunEngineError, RunEngineInterrupted, Status, TransitionError


class Counter:
    """A readable, movable device that counts how often it is moved and read."""

    def __init__(self, name: str = "ctr") -> None:
        self.name = name
        self.parent = None
        self.position = 0.0
        self.sets = 0
        self.reads = 0

    def set(self, value: float) -> Status:
        self.sets += 1
        self.position = value
        st = Status(self)
        st.set_finished()
        return st

    def read(self) -> dict:
        self.reads += 1
        return {self.name: {"value": self.position, "timestamp": time.time()}}

    def describe(self) -> dict:
        return {self.name: {"source": "test", "dtype": "number", "shape": []}}


def later(seconds: float, func, *args) -> threading.Timer:
    timer = threading.Timer(seconds, func, args=args)
    timer.start()
    return timer


def step_plan(dev: Counter, points: int, dwell: float, log: list[str], during=None):
    """Steps of set, dwell, read; ``during = (step, request)`` calls ``request()`` from another
    thread shortly after that step's dwell began (so it lands inside the dwell)."""
    yield Msg("open_run")
    try:
        for i in range(points):
            yield Msg("checkpoint")
            yield Msg("set", dev, i, group="move")
            yield Msg("wait", None, group="move")
            if during is not None and during[0] == i:
                later(0.02, during[1])
            yield Msg("sleep", None, dwell)
            yield Msg("create", None, name="primary")
            yield Msg("read", dev)
            yield Msg("save")
        yield Msg("close_run")
    finally:
        log.append("finally")
    return "done"


def test_immediate_pause_rewinds_to_checkpoint_and_resumes(RE, docs, validate):
    dev, log = Counter(), []
    with pytest.raises(RunEngineInterrupted):
        RE(step_plan(dev, 3, 0.3, log, during=(1, RE.request_pause)))
    assert RE.state == "paused"
    sets_at_pause = dev.sets
    result = RE.resume()
    assert RE.state == "idle"
    assert result.plan_result == "done"
    assert log == ["finally"]
    # the interrupted step was replayed from its checkpoint: one extra set, no lost or duplicated events
    assert dev.sets == 4 and sets_at_pause == 2
    events = [d for n, d in docs if n == "event"]
    assert [e["data"]["ctr"] for e in events] == [0, 1, 2]
    assert [e["seq_num"] for e in events] == [1, 2, 3]
    for name, doc in docs:
        validate(name, doc)


def test_deferred_pause_waits_for_next_checkpoint(RE, docs):
    dev, log = Counter(), []
    with pytest.raises(RunEngineInterrupted):
        RE(step_plan(dev, 3, 0.2, log, during=(0, lambda: RE.request_pause(defer=True))))
    # the step that was running when the request came finished before the pause
    events_before = [d for n, d in docs if n == "event"]
    assert len(events_before) == 1
    assert dev.sets == 1
    RE.resume()
    assert dev.sets == 3  # nothing replayed: the pause came right at a checkpoint
    assert len([d for n, d in docs if n == "event"]) == 3


def test_abort_from_paused_runs_cleanup_and_fails_run(RE, docs, validate):
    dev, log = Counter(), []
    later(0.05, RE.request_pause)
    with pytest.raises(RunEngineInterrupted):
        RE(step_plan(dev, 5, 0.1, log))
    result = RE.abort("beam lost")
    assert log == ["finally"]
    assert RE.state == "idle"
    stop = [d for n, d in docs if n == "stop"][0]
    validate("stop", stop)
    assert stop["exit_status"] == "abort" and stop["reason"] == "beam lost"
    assert tuple(result) == (docs[0][1]["uid"],)
    assert result.exit_status == "abort"
    RE([Msg("null")])  # reusable


def test_stop_from_paused_is_success(RE, docs):
    log: list[str] = []
    later(0.05, RE.request_pause)
    with pytest.raises(RunEngineInterrupted):
        RE(step_plan(Counter(), 5, 0.1, log))
    result = RE.stop()
    assert result.exit_status == "success"
    assert [d for n, d in docs if n == "stop"][0]["exit_status"] == "success"
    assert log == ["finally"]


def test_halt_skips_cleanup_messages(RE, docs):
    dev = Counter()
    cleanup_ran: list[str] = []

    def plan():
        yield Msg("open_run")
        try:
            yield Msg("sleep", None, 5)
        finally:
            cleanup_ran.append("entered")
            yield Msg("set", dev, 99)  # a cleanup message: not run on halt
            cleanup_ran.append("after")

    later(0.05, RE.request_pause)
    with pytest.raises(RunEngineInterrupted):
        RE(plan())
    result = RE.halt()
    assert result.exit_status == "abort"
    assert dev.sets == 0
    assert cleanup_ran == ["entered"]
    assert [d for n, d in docs if n == "stop"][0]["exit_status"] == "abort"
    assert RE.state == "idle"


def test_abort_requested_while_running_interrupts_a_long_wait(RE, docs):
    log: list[str] = []
    later(0.1, RE.abort, "operator")
    t0 = time.monotonic()
    with pytest.raises(RunEngineInterrupted, match="aborted"):
        RE(step_plan(Counter(), 2, 10.0, log))
    assert time.monotonic() - t0 < 5
    assert log == ["finally"]
    assert [d for n, d in docs if n == "stop"][0]["exit_status"] == "abort"
    assert RE.state == "idle"


def test_interrupted_call_does_not_run_the_next_plan(RE):
    ran: list[str] = []

    def second():
        ran.append("second")
        yield Msg("null")

    def script():
        RE([Msg("checkpoint"), Msg("pause"), Msg("null")])
        RE(second())

    with pytest.raises(RunEngineInterrupted):
        script()
    assert ran == []
    with pytest.raises(RunEngineError, match="paused"):
        RE(second())
    RE.resume()
    assert RE.state == "idle"


def test_plan_pause_message_then_resume(RE):
    dev = Counter()
    plan = [Msg("checkpoint"), Msg("set", dev, 1), Msg("pause"), Msg("set", dev, 2)]
    with pytest.raises(RunEngineInterrupted):
        RE(plan)
    RE.resume()  # replays set(1) since the checkpoint, not the pause itself
    assert dev.sets == 3 and dev.position == 2


def test_resume_and_abort_need_a_paused_engine(RE):
    for call in (RE.resume, RE.abort, RE.stop, RE.halt, RE.request_pause):
        with pytest.raises(TransitionError, match="idle") as info:
            call()
        assert isinstance(info.value, RunEngineError)  # what cielo's callers caught before


def test_state_hook_sees_every_transition(RE):
    seen: list[tuple[str, str]] = []
    RE.add_state_hook(lambda new, old: seen.append((str(old), str(new))))
    with pytest.raises(RunEngineInterrupted):
        RE([Msg("checkpoint"), Msg("pause"), Msg("null")])
    RE.resume()
    assert seen == [
        ("idle", "running"),
        ("running", "paused"),
        ("paused", "running"),
        ("running", "idle"),
    ]


def test_engine_runs_in_a_worker_thread_and_is_reusable():
    results: list[object] = []

    def worker():
        with RunEngine(scan_id_file=None) as RE:
            results.append(tuple(RE([Msg("open_run"), Msg("close_run")])))
            results.append(tuple(RE([Msg("open_run"), Msg("close_run")])))

    t = threading.Thread(target=worker)
    t.start()
    t.join(10)
    assert len(results) == 2 and all(len(r) == 1 for r in results)


def test_engine_works_while_an_asyncio_loop_runs_in_the_caller():
    import asyncio

    async def notebook_cell():
        with RunEngine(scan_id_file=None) as RE:
            return RE([Msg("open_run"), Msg("sleep", None, 0.01), Msg("close_run")])

    assert len(asyncio.run(notebook_cell())) == 1


def test_pause_inside_an_event_bundle_rewinds_it(RE, docs, validate):
    dev = Counter()

    def plan():
        yield Msg("open_run")
        for i in range(2):
            yield Msg("checkpoint")
            yield Msg("set", dev, i)
            yield Msg("create", None, name="primary")
            yield Msg("read", dev)
            yield Msg("sleep", None, 0.2)  # paused here, between read and save
            yield Msg("save")
        yield Msg("close_run")

    later(0.05, RE.request_pause)
    with pytest.raises(RunEngineInterrupted):
        RE(plan())
    RE.resume()
    events = [d for n, d in docs if n == "event"]
    assert [e["data"]["ctr"] for e in events] == [0, 1]
    for name, doc in docs:
        validate(name, doc)


def test_bluesky_style_state_hook_is_replaced_not_added(RE):
    first: list[str] = []
    second: list[str] = []
    RE.state_hook = lambda new, old: first.append(str(new))
    RE.state_hook = lambda new, old: second.append(str(new))
    RE([Msg("null")])
    assert first == [] and second == ["running", "idle"]
    RE.state_hook = None
    RE([Msg("null")])
    assert second == ["running", "idle"]


def test_retaken_point_reuses_its_seq_num_and_engine_commands_are_not_replayed(RE, docs, validate):
    dev = Counter()

    class Stageable(Counter):
        stages = 0

        def stage(self):
            Stageable.stages += 1
            return [self]

        def unstage(self):
            return [self]

    staged = Stageable("s")

    def plan():
        yield Msg("open_run")
        for i in range(2):
            yield Msg("checkpoint")
            yield Msg("stage", staged)
            yield Msg("set", dev, i)
            yield Msg("create", None, name="primary")
            yield Msg("read", dev)
            yield Msg("save")
            yield Msg("sleep", None, 0.2)  # paused here, after the point was saved
        yield Msg("close_run")

    later(0.05, RE.request_pause)
    with pytest.raises(RunEngineInterrupted):
        RE(plan())
    RE.resume()
    events = [d for n, d in docs if n == "event"]
    assert [(e["seq_num"], e["data"]["ctr"]) for e in events] == [(1, 0), (1, 0), (2, 1)]
    assert Stageable.stages == 1  # stage is not replayed (and staging twice is a no-op anyway)
    assert [d for n, d in docs if n == "stop"][0]["num_events"] == {"primary": 2}
    for name, doc in docs:
        validate(name, doc)


def test_many_pauses_lose_and_duplicate_nothing(RE, docs, validate):
    """Pause requests at arbitrary moments, resumed each time: every point once, in order."""
    import random

    dev = Counter()
    rng = random.Random(7)
    points = 40

    def plan():
        yield Msg("open_run")
        for i in range(points):
            yield Msg("checkpoint")
            yield Msg("set", dev, i, group="m")
            yield Msg("wait", None, group="m")
            yield Msg("sleep", None, 0.002)
            yield Msg("create", None, name="primary")
            yield Msg("read", dev)
            yield Msg("save")
        yield Msg("close_run")

    stop = threading.Event()

    def pester():
        while not stop.is_set():
            time.sleep(rng.uniform(0.001, 0.02))
            with contextlib.suppress(TransitionError):  # between the pauses it makes
                RE.request_pause()

    thread = threading.Thread(target=pester)
    thread.start()
    pauses = 0
    try:
        try:
            RE(plan())
        except RunEngineInterrupted:
            pauses += 1
            while True:
                try:
                    RE.resume()
                    break
                except RunEngineInterrupted:
                    pauses += 1
    finally:
        stop.set()
        thread.join()
    assert pauses >= 3
    events = [d for n, d in docs if n == "event"]
    latest = {e["seq_num"]: e["data"]["ctr"] for e in events}  # re-taken points replace
    assert latest == {i + 1: i for i in range(points)}
    assert [d for n, d in docs if n == "stop"][0]["num_events"] == {"primary": points}
    for name, doc in docs:
        validate(name, doc)


def test_a_stage_cut_short_by_a_pause_is_redone(RE):
    class SlowStage(Counter):
        stages = 0

        def stage(self):
            SlowStage.stages += 1
            st = Status(self)
            threading.Timer(0.3, st.set_finished).start()
            return st

        def unstage(self):
            return [self]

    dev = SlowStage("slow")
    later(0.05, RE.request_pause)
    with pytest.raises(RunEngineInterrupted):
        RE([Msg("checkpoint"), Msg("stage", dev), Msg("set", dev, 1)])
    RE.resume()
    assert SlowStage.stages == 1  # redone, but staging twice is a no-op for the engine
    assert dev.sets == 1


def test_interruptions_are_recorded_when_asked(validate):
    with RunEngine(scan_id_file=None, record_interruptions=True) as RE:
        docs: list[tuple[str, dict]] = []
        RE.subscribe(lambda n, d: docs.append((n, d)))
        with pytest.raises(RunEngineInterrupted):
            RE([Msg("open_run"), Msg("checkpoint"), Msg("pause"), Msg("close_run")])
        RE.resume()
    (desc,) = [d for n, d in docs if n == "descriptor"]
    assert desc["name"] == "interruptions"
    kinds = [d["data"]["interruption"] for n, d in docs if n == "event"]
    assert kinds == ["pause", "resume"]
    assert docs[-1][1]["num_events"] == {"interruptions": 2}
    for n, d in docs:
        validate(n, d)


@pytest.mark.parametrize(
    "marker",
    [None, Msg("clear_checkpoint"), Msg("rewindable", None, False)],
    ids=["rewindable", "clear_checkpoint", "rewindable_false"],
)
def test_a_pause_rewinds_or_aborts_where_it_cannot(RE, docs, validate, marker):
    dev = Counter()

    def plan():
        yield Msg("open_run")
        yield Msg("checkpoint")
        if marker is not None:
            yield marker
        yield Msg("set", dev, 1)
        later(0.05, RE.request_pause)
        yield Msg("sleep", None, 0.3)
        yield Msg("create", None, name="primary")
        yield Msg("read", dev)
        yield Msg("save")
        yield Msg("close_run")

    with pytest.raises(RunEngineInterrupted):
        RE(plan())
    assert dev.sets == 1
    if marker is None:  # paused: resuming redoes the set since the checkpoint
        assert RE.resume().exit_status == "success"
        assert dev.sets == 2 and [n for n, _ in docs].count("event") == 1
    else:  # as Bluesky: a plan that cannot be rewound is aborted, not paused
        assert RE.state == "idle" and dev.sets == 1
        assert docs.stop["exit_status"] == "abort" and "rewound" in docs.stop["reason"]
    for name, doc in docs:
        validate(name, doc)


def test_the_start_of_a_plan_is_a_checkpoint(RE):
    dev = Counter()

    def plan():
        yield Msg("set", dev, 1)
        yield Msg("pause")
        return dev.sets

    with pytest.raises(RunEngineInterrupted):
        RE(plan())
    assert RE.resume().plan_result == 2  # replayed from the start: no checkpoint before


def test_a_plan_too_long_since_its_start_goes_on_from_where_it_paused(RE):
    """The start of a plan remembers at most 10,000 messages; past that a pause goes on
    from where it stopped (nothing is replayed) instead of keeping every message."""
    dev = Counter()

    def plan():
        for _ in range(10_050):
            yield Msg("set", dev, 1)
        yield Msg("pause")
        return dev.sets

    with pytest.raises(RunEngineInterrupted):
        RE(plan())
    assert RE.resume().plan_result == 10_050


def test_a_pause_now_clears_a_pending_deferred_pause(RE):
    def plan():
        yield Msg("pause", None, defer=True)
        yield Msg("pause")
        assert not RE.deferred_pause_requested
        yield Msg("checkpoint")  # would pause again if the deferred pause were still pending
        return "done"

    with pytest.raises(RunEngineInterrupted):
        RE(plan())
    assert RE.resume().plan_result == "done"
