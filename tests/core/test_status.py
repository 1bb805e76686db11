"""Status objects: settable, thread-safe, awaitable, combinable, with timeouts."""

import asyncio
import threading
import time

import pytest

from cielo.core import (
    FailedStatusError,
    Status,
    StatusTimeoutError,
    failed_status,
    finished_status,
    status_all,
)


def test_callbacks_run_once_done_and_at_once_when_already_done():
    st = Status()
    seen = []
    st.add_callback(seen.append)
    assert not st.done and seen == []
    st.set_finished()
    assert st.done and st.success and seen == [st]
    st.add_callback(seen.append)
    assert seen == [st, st]


def test_failure_is_reported_and_raised_by_wait():
    st = failed_status(RuntimeError("jammed"))
    assert st.done and not st.success
    assert isinstance(st.exception(), RuntimeError)
    with pytest.raises(RuntimeError, match="jammed"):
        st.wait(1)


def test_timeout_fails_the_status_and_names_the_device():
    class Dev:
        name = "slow_motor"

    st = Status(Dev(), timeout=0.05)
    with pytest.raises(StatusTimeoutError, match="slow_motor"):
        st.wait(2)


def test_finished_from_another_thread_wakes_an_awaiting_loop():
    st = Status()

    async def main():
        threading.Timer(0.02, st.set_finished).start()
        await st
        return st.success

    assert asyncio.run(main())


def test_await_raises_the_failure():
    async def main():
        await failed_status(ValueError("bad"))

    with pytest.raises(ValueError, match="bad"):
        asyncio.run(main())


def test_status_all_waits_for_all_and_fails_on_first_failure():
    a, b = Status(), Status()
    both = status_all([a, b])
    a.set_finished()
    assert not both.done
    b.set_finished()
    assert both.success
    c = Status()
    combined = c & finished_status()
    c.set_exception(FailedStatusError("limit switch"))
    assert combined.done and not combined.success


def test_progress_watchers_receive_updates():
    st = Status()
    updates = []
    st.watch(lambda **kw: updates.append(kw))
    st.update_progress(current=0.5, target=1.0, initial=0.0, name="m")
    assert updates[0]["current"] == 0.5 and "time_elapsed" in updates[0]


def _add_callbacks_while_finishing(n: int) -> tuple[Status, list[int]]:
    st = Status()
    calls: list[int] = []
    start = threading.Barrier(2)

    def add_many() -> None:
        start.wait()
        for i in range(n):
            st.add_callback(lambda _st, i=i: calls.append(i))

    def finish() -> None:
        start.wait()
        st.set_finished()

    threads = [threading.Thread(target=add_many), threading.Thread(target=finish)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    return st, calls


def test_callbacks_added_while_another_thread_finishes_each_run_exactly_once():
    for _ in range(200):
        st, calls = _add_callbacks_while_finishing(50)
        assert st.done and st.success
        assert sorted(calls) == list(range(50))  # none lost, none called twice


def test_wait_on_an_already_finished_status_returns_at_once():
    st = finished_status("motor")
    st.wait(0)  # no blocking, no timeout error
    st.wait()
    assert st.exception(None) is None and st.exception(1) is None
    failed = failed_status(ValueError("bad"))
    with pytest.raises(ValueError, match="bad"):
        failed.wait(0)
    assert isinstance(failed.exception(None), ValueError)


def test_wait_started_before_another_thread_finishes_wakes_up():
    st = Status()
    waiting = threading.Event()
    results: list[object] = []

    def waiter() -> None:
        waiting.set()
        st.wait(10)
        results.append("woke")

    def exc_waiter() -> None:
        results.append(st.exception(10))

    threads = [threading.Thread(target=waiter), threading.Thread(target=exc_waiter)]
    for t in threads:
        t.start()
    waiting.wait(5)
    time.sleep(0.05)  # let both block on the status
    assert not st.done and results == []
    threading.Thread(target=st.set_finished).start()
    for t in threads:
        t.join(5)
    assert sorted(results, key=str) == [None, "woke"]


def test_wait_times_out_when_nobody_finishes_and_exception_zero_never_blocks():
    st = Status("det")
    t0 = time.monotonic()
    assert st.exception() is None  # timeout 0: a peek
    assert time.monotonic() - t0 < 0.05
    with pytest.raises(StatusTimeoutError, match="det"):
        st.wait(0.05)
    st.set_exception(RuntimeError("late"))
    with pytest.raises(RuntimeError, match="late"):
        st.wait(0.05)
