"""Subscribers: by name or all, slow ones never stall the engine, errors are reported."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from cielo import Msg, RunEngine
from cielo.core import RunEngineError


def run_plan(points: int):
    class Det:
        name, parent = "det", None

        def read(self):
            return {"det": {"value": 1.0, "timestamp": time.time()}}

        def describe(self):
            return {"det": {"source": "t", "dtype": "number", "shape": []}}

    det = Det()
    yield Msg("open_run")
    for _ in range(points):
        yield Msg("create", None, name="primary")
        yield Msg("read", det)
        yield Msg("save")
    yield Msg("close_run")


def test_subscribe_by_name_and_unsubscribe(RE):
    starts, everything = [], []
    t1 = RE.subscribe(lambda n, d: starts.append(n), "start")
    RE.subscribe(lambda n, d: everything.append(n))
    RE(run_plan(2))
    assert starts == ["start"]
    assert everything == ["start", "descriptor", "event", "event", "stop"]
    RE.unsubscribe(t1)
    RE(run_plan(1))
    assert starts == ["start"]
    with pytest.raises(KeyError):
        RE.unsubscribe(t1)


def test_bad_subscriptions_are_refused(RE):
    with pytest.raises(ValueError, match="evnt"):
        RE.subscribe(print, "evnt")
    with pytest.raises(TypeError, match="callable"):
        RE.subscribe("start")


def test_slow_subscriber_does_not_stall_the_engine(RE):
    slow_seen, fast_seen = [], []
    gate = threading.Event()

    def slow(name, doc):
        gate.wait(5)
        slow_seen.append(name)

    RE.subscribe(slow)
    RE.subscribe(lambda n, d: fast_seen.append(n))
    timer = threading.Timer(1.0, gate.set)
    timer.start()
    t0 = time.monotonic()
    done = threading.Event()

    def run():
        RE(run_plan(50))
        done.set()

    worker = threading.Thread(target=run)
    worker.start()
    # the plan's documents reach the fast subscriber while the slow one is still blocked
    deadline = time.monotonic() + 0.8
    while len(fast_seen) < 53 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(fast_seen) == 53 and slow_seen == []
    worker.join(10)
    assert done.is_set()
    assert time.monotonic() - t0 >= 0.9  # RE(plan) returns only once everyone has everything
    assert len(slow_seen) == 53


def test_bounded_buffer_applies_back_pressure():
    with RunEngine(scan_id_file=None, callback_buffer=5) as RE:
        seen = []

        def slow(name, doc):
            time.sleep(0.002)
            seen.append(name)

        RE.subscribe(slow)
        RE(run_plan(100))
        assert len(seen) == 103
        assert RE._dispatcher.backpressure_waits > 0


def test_a_full_buffer_stops_the_plan_not_the_loop():
    """Back-pressure waits between the plan's messages while the loop turns: a subscriber
    that needs the loop while its buffer is full gets it (the loop used to wait inside
    emit for that very subscriber: a deadlock)."""
    with RunEngine(scan_id_file=None, callback_buffer=5) as RE:
        answers: list[object] = []

        async def ping() -> str:
            return "pong"

        def slow(name, doc):
            time.sleep(0.002)
            if name == "event" and doc["seq_num"] == 10:
                start = time.monotonic()
                answers.append(asyncio.run_coroutine_threadsafe(ping(), RE.loop).result(3))
                answers.append(time.monotonic() - start)

        RE.subscribe(slow, fatal=True)
        RE(run_plan(100))
        assert RE.flush(5)
        assert RE._dispatcher.backpressure_waits > 0
    assert answers and answers[0] == "pong" and answers[1] < 1.0, answers


def test_failing_subscriber_is_reported_and_others_get_everything(RE, caplog):
    seen = []

    def broken(name, doc):
        if name == "event":
            raise ValueError("cannot plot this")

    RE.subscribe(broken)
    RE.subscribe(lambda n, d: seen.append(n))
    result = RE(run_plan(3))
    assert result.exit_status == "success"
    assert seen == ["start", "descriptor", "event", "event", "event", "stop"]
    errors = RE.callback_errors
    assert len(errors) == 3
    assert isinstance(errors[0].exception, ValueError)
    assert errors[0].name == "event" and "broken" in errors[0].callback
    assert "cannot plot this" in caplog.text


def test_fatal_callback_errors_fail_the_plan():
    with RunEngine(scan_id_file=None, fatal_callback_errors=True) as RE:
        stops = []

        def broken(name, doc):
            if name == "descriptor":
                raise ValueError("bad descriptor")

        RE.subscribe(broken, buffered=False)
        RE.subscribe(lambda n, d: stops.append(d) if n == "stop" else None)
        with pytest.raises(RunEngineError, match="bad descriptor"):
            RE(run_plan(5))
        assert stops[0]["exit_status"] == "fail"
        assert RE.state == "idle"


def test_subscribe_from_a_plan_lasts_for_the_plan_in_lock_step(RE):
    seen = []

    def plan():
        token = yield Msg("subscribe", None, lambda n, d: seen.append(n), "start")
        yield Msg("open_run")
        assert seen == ["start"]  # delivered before the plan's next step
        yield Msg("close_run")
        return token

    RE(plan())
    RE(run_plan(1))
    assert seen == ["start"]


def test_unbuffered_subscriber_runs_in_step(RE):
    threads = set()
    RE.subscribe(lambda n, d: threads.add(threading.current_thread().name), buffered=False)
    RE(run_plan(1))
    assert len(threads) == 1 and "RunEngine" in threads.pop()


def test_a_group_delivers_each_document_to_its_members_in_subscription_order(RE):
    log = []
    threads = set()

    def slow_first(name, doc):
        time.sleep(0.002)  # without the group, the second would run ahead
        threads.add(threading.current_thread().name)
        log.append(("first", name, doc["uid"]))

    def second(name, doc):
        threads.add(threading.current_thread().name)
        log.append(("second", name, doc["uid"]))

    outside = []
    RE.subscribe(slow_first, group="live")
    RE.subscribe(second, group="live")
    RE.subscribe(lambda n, d: outside.append(threading.current_thread().name))
    RE(run_plan(20))
    assert len(log) == 2 * 23
    for (who1, name1, uid1), (who2, name2, uid2) in zip(log[::2], log[1::2], strict=True):
        assert (who1, who2) == ("first", "second") and (name1, uid1) == (name2, uid2)
    assert [name for _, name, _ in log[::2]][:2] == ["start", "descriptor"]
    assert len(threads) == 1  # one shared delivery thread
    assert len(outside) == 23 and not threads & set(outside)  # others keep their own


def test_a_failing_group_member_is_reported_by_name_and_the_others_get_everything(RE):
    first, third = [], []

    def plotter_that_breaks(name, doc):
        if name == "event":
            raise ValueError("window closed")

    RE.subscribe(lambda n, d: first.append(n), group="live")
    RE.subscribe(plotter_that_breaks, group="live")
    RE.subscribe(lambda n, d: third.append(n), group="live")
    result = RE(run_plan(3))
    assert result.exit_status == "success"
    expected = ["start", "descriptor", "event", "event", "event", "stop"]
    assert first == expected and third == expected
    errors = RE.callback_errors
    assert len(errors) == 3
    assert all("plotter_that_breaks" in e.callback and e.name == "event" for e in errors)
    assert len({e.uid for e in errors}) == 3  # each failing document named


def test_a_group_member_sees_only_its_documents_and_may_leave_mid_way(RE):
    starts, everything, stops = [], [], []
    RE.subscribe(lambda n, d: starts.append(n), "start", group="g")
    token = RE.subscribe(lambda n, d: everything.append(n), group="g")
    RE(run_plan(1))
    RE.unsubscribe(token)
    RE.subscribe(lambda n, d: stops.append(n), "stop", group="g")
    RE(run_plan(1))
    assert starts == ["start", "start"]
    assert everything == ["start", "descriptor", "event", "stop"]
    assert stops == ["stop"]  # a late member sees nothing from before it joined


def test_groups_keep_back_pressure_and_fatal_errors():
    with RunEngine(scan_id_file=None, callback_buffer=5) as RE:
        seen = []

        def slow(name, doc):
            time.sleep(0.002)
            seen.append(name)

        RE.subscribe(slow, group="g")
        RE.subscribe(lambda n, d: None, group="g")
        RE(run_plan(100))
        assert len(seen) == 103 and RE._dispatcher.backpressure_waits > 0
    with RunEngine(scan_id_file=None, fatal_callback_errors=True) as RE:
        stops = []

        def broken(name, doc):
            if name == "event":
                raise ValueError("bad event")

        def paced(points):  # slow enough for the buffered error to arrive mid-plan
            for msg in run_plan(points):
                yield msg
                if msg.command == "save":
                    yield Msg("sleep", None, 0.01)

        RE.subscribe(broken, group="g")
        RE.subscribe(lambda n, d: stops.append(d) if n == "stop" else None, group="g")
        with pytest.raises(RunEngineError, match="bad event"):
            RE(paced(50))
        assert stops and stops[0]["exit_status"] == "fail"


def test_a_group_needs_a_buffered_subscriber(RE):
    with pytest.raises(ValueError, match="buffered"):
        RE.subscribe(print, group="g", buffered=False)
    with pytest.raises(TypeError, match="group"):
        RE.subscribe(print, group="")


def test_fatal_errors_of_a_buffered_subscriber_fail_a_plan_that_outran_it():
    """The plan ends before the buffered subscriber reaches the bad document: still fatal."""
    with RunEngine(scan_id_file=None, fatal_callback_errors=True) as RE:
        stops: list[dict] = []

        def broken(name, doc):
            if name == "event" and doc["seq_num"] == 150:
                raise ValueError("bad event")

        RE.subscribe(broken)  # buffered, the default
        RE.subscribe(lambda n, d: stops.append(d) if n == "stop" else None, buffered=False)
        with pytest.raises(RunEngineError, match="bad event"):
            RE(run_plan(200))
        assert stops[0]["exit_status"] == "fail" and "bad event" in stops[0]["reason"]
        assert RE.state == "idle"

        def broken_on_stop(name, doc):
            if name == "stop":
                raise ValueError("bad stop")

        RE.subscribe(broken_on_stop)
        with pytest.raises(RunEngineError, match="bad stop"):
            RE(run_plan(1))
        assert RE.state == "idle"
