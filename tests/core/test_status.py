"""Status objects: settable, thread-safe, awaitable, combinable, with timeouts."""

import asyncio
import threading

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
