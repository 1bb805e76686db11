"""Device calls that block the engine's loop are made in worker threads (issue 14)."""

from __future__ import annotations

import threading
import time

import pytest

from cielo import Msg, RunEngine
from cielo.core import FailedStatusError, Status
from cielo.core.engine import BLOCKING_CALL, BLOCKING_STRIKES, FAST_TO_RETURN


class SlowDet:
    """A detector whose ``read()`` blocks for ``delays[i]`` seconds on its i-th call."""

    def __init__(self, delays, name: str = "slow") -> None:
        self.name, self.parent, self.hints = name, None, {"fields": [name]}
        self.delays = list(delays)
        self.threads: list[str] = []
        self.calls = 0

    def read(self) -> dict:
        self.threads.append(threading.current_thread().name)
        delay = self.delays[min(self.calls, len(self.delays) - 1)]
        self.calls += 1
        time.sleep(delay)
        return {self.name: {"value": float(self.calls), "timestamp": time.time()}}

    def describe(self) -> dict:
        return {self.name: {"source": "sim", "dtype": "number", "shape": []}}


def _points(det, n: int):
    yield Msg("open_run")
    for _ in range(n):
        yield Msg("create", None, name="primary")
        yield Msg("read", det)
        yield Msg("save")
    yield Msg("close_run")


def _ticking(RE, plan):
    """Run ``plan`` while a ticker on the loop counts turns; (result, turns while it ran)."""
    turns = [0]
    running = [True]

    def tick():
        turns[0] += 1
        if running[0]:
            RE.loop.call_later(0.001, tick)

    RE.loop.call_soon_threadsafe(tick)
    try:
        return RE(plan), turns[0]
    finally:
        running[0] = False


def test_a_read_that_blocks_the_loop_is_made_in_a_worker_thread_from_then_on(RE, docs, validate):
    det = SlowDet([3 * BLOCKING_CALL])
    RE(_points(det, BLOCKING_STRIKES - 1))
    assert RE.offloaded == []  # a call or two measured slow may be the machine's load
    RE(_points(det, 1))  # so many slow calls in a row: the device blocks
    assert RE.offloaded == [("slow", "read")]
    result, turns = _ticking(RE, _points(det, 5))
    on_loop = det.threads[0]
    assert det.threads[:BLOCKING_STRIKES] == [on_loop] * BLOCKING_STRIKES
    assert all(name.startswith("cielo-device") for name in det.threads[BLOCKING_STRIKES:])
    # the loop went on while each read blocked: a ticker every 1 ms turned many times
    assert turns >= 5, turns
    values = [e["data"]["slow"] for e in docs.of("event")]
    assert values == [float(i) for i in range(1, BLOCKING_STRIKES + 6)]
    for name, doc in docs:
        validate(name, doc)


def test_offload_blocking_off_keeps_every_call_on_the_loop():
    with RunEngine(scan_id_file=None, offload_blocking=False) as RE:
        det = SlowDet([3 * BLOCKING_CALL])
        RE(_points(det, BLOCKING_STRIKES + 2))
        assert RE.offloaded == [] and len(set(det.threads)) == 1


def test_an_offloaded_call_that_turns_quick_goes_back_on_the_loop(RE):
    det = SlowDet([3 * BLOCKING_CALL] * BLOCKING_STRIKES + [0.0])
    RE(_points(det, BLOCKING_STRIKES + 3 * FAST_TO_RETURN))
    loop_thread, threads = det.threads[0], det.threads[BLOCKING_STRIKES:]
    assert threads[0].startswith("cielo-device"), threads
    offloaded = sum(1 for name in threads if name.startswith("cielo-device"))
    # back on the loop after FAST_TO_RETURN quick calls (more if the machine was loaded)
    assert FAST_TO_RETURN <= offloaded and loop_thread in threads, threads


class StatusMotor:
    """``set()`` blocks a little, then returns a status that finishes (or fails) later."""

    def __init__(self, fail: bool = False) -> None:
        self.name, self.parent, self.fail = "motor", None, fail
        self.position = 0.0

    def set(self, value: float) -> Status:
        status = Status(self)

        def finish() -> None:
            self.position = value
            if self.fail:
                status.set_exception(RuntimeError("limit switch hit"))
            else:
                status.set_finished()

        threading.Timer(0.05, finish).start()
        return status

    def read(self) -> dict:
        return {"motor": {"value": self.position, "timestamp": time.time()}}

    def describe(self) -> dict:
        return {"motor": {"source": "sim", "dtype": "number", "shape": []}}


def test_offload_sends_a_device_to_threads_and_waits_for_its_statuses(RE):
    motor = StatusMotor()
    RE.offload(motor)
    assert RE.offloaded == [("motor", "*")]

    def plan():
        yield Msg("set", motor, 2.5, group="move")
        yield Msg("wait", None, group="move")
        return motor.position

    assert RE(plan()).plan_result == 2.5  # the wait lasted until the status finished


def test_an_offloaded_status_failure_fails_the_wait_naming_the_device(RE):
    motor = StatusMotor(fail=True)
    RE.offload(motor, "set")

    def plan():
        yield Msg("set", motor, 1.0, group="move")
        yield Msg("wait", None, group="move")

    with pytest.raises(FailedStatusError, match="limit switch hit"):
        RE(plan())
