"""The RunEngine's lifecycle, plans, results and errors, through its public interface."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from cielo import Msg, RunEngine
from cielo.core import FailedStatusError, RunEngineError, Status
from cielo.core.engine import LOOP_HOLD


class Collector:
    def __init__(self) -> None:
        self.docs: list[tuple[str, dict]] = []

    def __call__(self, name: str, doc: dict) -> None:
        self.docs.append((name, doc))

    def names(self) -> list[str]:
        return [n for n, _ in self.docs]

    def of(self, name: str) -> list[dict]:
        return [d for n, d in self.docs if n == name]


class Det:
    """A minimal readable, triggerable device."""

    def __init__(self, name: str = "det", value: float = 1.0) -> None:
        self.name = name
        self.parent = None
        self.value = value
        self.hints = {"fields": [name]}

    def read(self) -> dict:
        return {self.name: {"value": self.value, "timestamp": 1.0}}

    def describe(self) -> dict:
        return {self.name: {"source": "sim", "dtype": "number", "shape": []}}

    def trigger(self) -> Status:
        st = Status(self)
        st.set_finished()
        return st


class BadMotor(Det):
    def set(self, value: float) -> Status:
        st = Status(self)
        threading.Timer(0.01, st.set_exception, args=(RuntimeError("limit switch hit"),)).start()
        return st


@pytest.fixture
def RE(tmp_path):
    with RunEngine(scan_id_file=tmp_path / "md.json") as engine:
        yield engine


def count_plan(det, num=3):
    yield Msg("open_run", plan_name="count_plan", detectors=[det.name])
    for _ in range(num):
        yield Msg("checkpoint")
        yield Msg("trigger", det, group="t")
        yield Msg("wait", None, group="t")
        yield Msg("create", None, name="primary")
        yield Msg("read", det)
        yield Msg("save")
    yield Msg("close_run")
    return "the result"


def test_count_documents_validate_and_result(RE, validate):
    col = Collector()
    RE.subscribe(col)
    result = RE(count_plan(Det()), sample="Si")
    assert col.names() == ["start", "descriptor", "event", "event", "event", "stop"]
    for name, doc in col.docs:
        validate(name, doc)
    (start,) = col.of("start")
    assert tuple(result) == (start["uid"],)
    assert result.plan_result == "the result"
    assert result.exit_status == "success"
    assert start["sample"] == "Si" and start["plan_name"] == "count_plan"
    assert "cielo" in start["versions"]
    assert [e["seq_num"] for e in col.of("event")] == [1, 2, 3]
    assert col.of("stop")[0]["num_events"] == {"primary": 3}
    assert RE.state == "idle"


def test_scan_id_survives_restart(tmp_path):
    path = tmp_path / "state.json"
    with RunEngine(scan_id_file=path) as RE:
        RE.md["operator"] = "ada"
        RE(count_plan(Det(), 1))
        RE(count_plan(Det(), 1))
    col = Collector()
    with RunEngine(scan_id_file=path) as RE2:
        assert RE2.md["operator"] == "ada"
        RE2.subscribe(col)
        RE2(count_plan(Det(), 1))
    assert col.of("start")[0]["scan_id"] == 3
    assert col.of("start")[0]["operator"] == "ada"


def test_unknown_command_names_command_and_plan(RE):
    def my_plan():
        yield Msg("frobnicate", None)

    with pytest.raises(KeyError, match="frobnicate.*my_plan"):
        RE(my_plan())
    assert RE.state == "idle"


def test_wrong_object_type_names_command(RE):
    with pytest.raises(TypeError, match="'trigger' needs an object with trigger"):
        RE([Msg("trigger", 42)])


def test_device_failure_closes_run_with_fail(RE, validate):
    col = Collector()
    RE.subscribe(col)
    motor = BadMotor("mtr")
    finally_ran = []

    def plan():
        yield Msg("open_run")
        try:
            yield Msg("set", motor, 1.0, group="m")
            yield Msg("wait", None, group="m")
        finally:
            finally_ran.append(True)

    with pytest.raises(FailedStatusError, match="limit switch hit") as info:
        RE(plan())
    assert isinstance(info.value.__cause__, RuntimeError)
    assert finally_ran == [True]
    stop = col.of("stop")[0]
    validate("stop", stop)
    assert stop["exit_status"] == "fail"
    assert "'mtr'.set()" in stop["reason"] and "limit switch hit" in stop["reason"]
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "test_engine.py" in notes  # the plan location reaches the caller
    assert RE.state == "idle"
    RE(count_plan(Det(), 1))  # reusable


def test_engine_is_not_reentrant_and_closes(tmp_path):
    RE = RunEngine(scan_id_file=None)
    RE.close()
    RE.close()
    with pytest.raises(RunEngineError, match="closed"):
        RE([Msg("null")])


def test_plain_iterable_plan_and_return(RE):
    assert tuple(RE([Msg("null"), Msg("null")])) == ()

    def returns():
        yield Msg("null")
        return 42

    assert RE(returns()).plan_result == 42


def test_engine_in_a_worker_process(tmp_path):
    import subprocess
    import sys
    import textwrap

    script = tmp_path / "worker.py"
    script.write_text(
        textwrap.dedent(
            """
            import multiprocessing as mp

            def work(queue):
                from cielo import Msg, RunEngine
                with RunEngine(scan_id_file=None) as RE:
                    queue.put(len(RE([Msg("open_run"), Msg("close_run")])))

            if __name__ == "__main__":
                ctx = mp.get_context("spawn")
                queue = ctx.Queue()
                proc = ctx.Process(target=work, args=(queue,))
                proc.start()
                print(queue.get(timeout=60))
                proc.join(60)
                print(proc.exitcode)
            """
        )
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=90)
    assert out.stdout.split() == ["1", "0"], out.stderr


def test_staged_devices_are_paused_and_resumed(RE):
    from cielo.core import RunEngineInterrupted

    class Pausable(Det):
        def __init__(self):
            super().__init__("p")
            self.calls: list[str] = []

        def stage(self):
            self.calls.append("stage")
            return [self]

        def unstage(self):
            self.calls.append("unstage")
            return [self]

        def pause(self):
            self.calls.append("pause")

        def resume(self):
            self.calls.append("resume")

    dev = Pausable()
    with pytest.raises(RunEngineInterrupted):
        RE([Msg("stage", dev), Msg("checkpoint"), Msg("pause"), Msg("null")])
    RE.resume()
    assert dev.calls == ["stage", "pause", "resume", "unstage"]  # unstaged at the end anyway


def test_async_status_from_another_thread(RE):
    import asyncio

    from cielo.core import AsyncStatus

    async def work():
        await asyncio.sleep(0.01)
        return 7

    st = AsyncStatus(work(), loop=RE.loop)
    st.wait(5)
    assert st.success and st.result == 7

    async def boom():
        raise ValueError("nope")

    failed = AsyncStatus(boom(), loop=RE.loop)
    with pytest.raises(ValueError, match="nope"):
        failed.wait(5)
    with pytest.raises(RuntimeError, match="loop="):
        AsyncStatus(work())


def test_close_from_another_thread_halts_a_running_plan():
    from cielo.core import RunEngineInterrupted

    RE = RunEngine(scan_id_file=None)
    stops: list[dict] = []
    RE.subscribe(lambda n, d: stops.append(d), "stop")
    threading.Timer(0.1, RE.close).start()
    with pytest.raises(RunEngineInterrupted, match="halted"):
        RE([Msg("open_run"), Msg("sleep", None, 10), Msg("close_run")])
    assert stops and stops[0]["exit_status"] == "abort"


def test_second_caller_is_refused_while_a_plan_runs(RE):
    errors: list[BaseException] = []

    def intruder():
        try:
            RE([Msg("null")])
        except RunEngineError as exc:
            errors.append(exc)

    threading.Timer(0.05, intruder).start()
    RE([Msg("sleep", None, 0.2)])
    assert len(errors) == 1 and "running" in str(errors[0])


def test_md_can_be_replaced_and_stays_persistent(tmp_path):
    path = tmp_path / "md.json"
    with RunEngine({"a": 1}, scan_id_file=path) as RE:
        RE.md = {"b": 2}
        assert dict(RE.md) == {"b": 2}
    with RunEngine(scan_id_file=path) as RE:  # a new engine records the package versions
        assert dict(RE.md) == {"b": 2, "versions": RE.md["versions"]}


def test_caller_hooks_run_in_the_callers_thread(RE):
    calls: list[str] = []
    RE.add_caller_hook(lambda: calls.append(threading.current_thread().name))
    RE([Msg("sleep", None, 0.2)])
    assert len(calls) >= 3 and set(calls) == {threading.current_thread().name}


def _loop_turns(RE, steps):
    """Run the messages of ``steps()`` after a ticker counting loop turns has started;
    return (loop turns, seconds) while they ran."""
    turns = [0]
    running = [True]

    def tick():
        turns[0] += 1
        if running[0]:
            RE.loop.call_soon(tick)

    def plan():
        RE.loop.call_soon_threadsafe(tick)
        yield Msg("sleep", None, 0.01)  # let the ticker start: the loop turns here
        before, start = turns[0], time.perf_counter()
        yield from steps()
        after, elapsed = turns[0], time.perf_counter() - start
        running[0] = False
        return after - before, elapsed

    return RE(plan()).plan_result


def _sync_plan_turns(RE, points: int):
    """Run ``points`` synchronous steps; return (loop turns, seconds) while they ran."""
    det = Det()

    def steps():
        yield Msg("open_run")
        for _ in range(points):
            yield Msg("checkpoint")
            yield Msg("trigger", det, group="t")
            yield Msg("wait", None, group="t")
            yield Msg("create", None, name="primary")
            yield Msg("read", det)
            yield Msg("save")
        yield Msg("close_run")

    return _loop_turns(RE, steps)


def test_synchronous_messages_turn_the_loop_only_when_they_held_it_long(RE):
    """Done statuses, plain values and dict readings never wait for the event loop: the
    plan lets it turn once per LOOP_HOLD of synchronous messages (two loop iterations: one
    runs what is due, one what that woke), not once per message."""
    turns, elapsed = _sync_plan_turns(RE, 500)
    assert turns <= 2 * (elapsed / LOOP_HOLD + 1), (turns, elapsed)
    assert turns < 3000  # 3,000 messages


def test_a_task_a_timer_wakes_runs_before_the_plan_goes_on(RE):
    """When a fast plan lets the loop turn, a task woken by a timer that came due runs
    before the plan's next message, not one hold later (it waited 2 x LOOP_HOLD)."""
    done = [0]
    pairs: list[tuple[int, int]] = []
    running = [True]

    def count_it(msg):
        done[0] += 1

    def fire(fired: list[int], woken: asyncio.Future[None]) -> None:
        fired.append(done[0])
        woken.set_result(None)

    async def waker():
        loop = asyncio.get_running_loop()
        while running[0]:
            woken = loop.create_future()
            fired: list[int] = []
            loop.call_later(0.001, fire, fired, woken)
            await woken
            pairs.append((fired[0], done[0]))

    RE.register_command("count_it", count_it)

    def plan():
        task = asyncio.run_coroutine_threadsafe(waker(), RE.loop)
        yield Msg("sleep", None, 0.01)  # the waker is waiting on its first timer
        start = time.perf_counter()
        while time.perf_counter() - start < 20 * LOOP_HOLD:
            yield Msg("count_it")
        running[0] = False
        yield Msg("sleep", None, 0.01)
        return task

    RE(plan())
    during = [p for p in pairs if 0 < p[0] < done[0]]
    assert len(during) >= 5, pairs
    assert all(fired == woke for fired, woke in during), during


def test_a_long_synchronous_plan_lets_the_loop_turn(RE):
    """A fast plan never holds the loop for good: callbacks, timeouts and requests on the
    loop run at least once every LOOP_HOLD (here: some turns over a long plan)."""
    turns, elapsed = _sync_plan_turns(RE, 5000)
    assert elapsed > 4 * LOOP_HOLD, elapsed  # the plan held the loop long enough to count
    assert turns >= 1, (turns, elapsed)


def test_handlers_that_finish_without_waiting_still_let_the_loop_turn(RE):
    """An awaitable handler that never suspends (a done status, an ``async def`` with
    nothing to wait for) holds the loop like a synchronous one: it turns anyway."""

    async def at_once(msg):
        return None

    RE.register_command("at_once", at_once)

    def steps():
        start = time.perf_counter()
        while time.perf_counter() - start < 20 * LOOP_HOLD:
            yield Msg("at_once")

    turns, elapsed = _loop_turns(RE, steps)
    assert turns >= 2, (turns, elapsed)


def test_full_garbage_collections_skip_what_existed_before_the_plan():
    """While a plan runs the heap from before it is frozen (a full collection of a large
    session held the loop for 180-240 ms); its cyclic garbage is collected afterwards."""
    import gc
    import weakref

    class Node:
        pass

    def frozen_during(RE):
        def plan():
            return gc.get_freeze_count()
            yield  # pragma: no cover

        return RE(plan()).plan_result

    with RunEngine(scan_id_file=None) as RE:
        cycle = Node()
        cycle.me = cycle  # type: ignore[attr-defined]
        gone = weakref.ref(cycle)
        del cycle

        def plan():
            gc.collect()
            yield Msg("null")
            return gone() is not None  # frozen: not collected during the plan

        assert RE(plan()).plan_result is True
        assert gc.get_freeze_count() == 0
        gc.collect()
        assert gone() is None  # collected once the plan returned
        assert frozen_during(RE) > 0
    with RunEngine(scan_id_file=None, freeze_gc=False) as RE:
        assert frozen_during(RE) == 0


def test_preprocessors_apply_to_every_plan(RE):
    seen: list[str] = []

    def tag(plan):
        def wrapped():
            seen.append("before")
            result = yield from plan
            seen.append("after")
            return result

        return wrapped()

    RE.preprocessors.append(tag)

    def my_plan():
        yield Msg("null")
        return 5

    assert RE(my_plan()).plan_result == 5
    assert seen == ["before", "after"]


def test_msg_hook_sees_every_message(RE):
    seen: list[str] = []
    RE.msg_hook = lambda msg: seen.append(msg.command)
    RE([Msg("open_run"), Msg("null"), Msg("close_run")])
    RE.msg_hook = None
    RE([Msg("null")])
    assert seen == ["open_run", "null", "close_run"]


def test_errors_in_a_message_list_plan_name_the_list_not_an_engine_wrapper(RE):
    with pytest.raises(KeyError, match="frob.*the list of messages given to RE") as info:
        RE([Msg("frob")])
    with pytest.raises(
        TypeError, match=r"42.*\(in the list of messages given to RE\(\)\)"
    ) as info2:
        RE([Msg("trigger", 42)])
    for text in (str(info.value), *getattr(info2.value, "__notes__", [])):
        assert "_runner.py" not in text and "wrap" not in text
