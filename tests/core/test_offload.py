"""Device calls that block the engine's loop are made in worker threads (issue 14)."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from cielo import Msg, RunEngine
from cielo.core import RunEngineInterrupted, Status
from cielo.core.engine import BLOCKING_CALL, BLOCKING_STRIKES, FAST_TO_RETURN
from cielo.testing import DocumentCollector


@pytest.fixture
def RE(tmp_path):
    with RunEngine(scan_id_file=tmp_path / "md.json", offload_blocking=True) as engine:
        yield engine


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


def test_the_loop_turns_after_each_read_that_held_it(RE):
    # The hold counts messages between two clock reads, so slow reads in a row (those
    # before the device moves to a thread) would each add to one long stall; each read
    # that held the loop is followed by a turn instead.
    det = SlowDet([3 * BLOCKING_CALL])
    log: list[str] = []
    running = [True]

    def tick():
        log.append("tick")
        if running[0]:
            RE.loop.call_later(0.001, tick)

    def plan():
        yield Msg("open_run")
        for _ in range(BLOCKING_STRIKES):
            yield Msg("create", None, name="primary")
            yield Msg("read", det)
            log.append("read")
            yield Msg("save")
        yield Msg("close_run")

    RE.loop.call_soon_threadsafe(tick)
    try:
        RE(plan())
    finally:
        running[0] = False
    reads = [i for i, what in enumerate(log) if what == "read"]
    assert len(reads) == BLOCKING_STRIKES
    assert all("tick" in log[a:b] for a, b in itertools.pairwise(reads)), log


def test_by_default_every_call_stays_on_the_loop():
    with RunEngine(scan_id_file=None) as RE:
        det = SlowDet([3 * BLOCKING_CALL])
        RE(_points(det, BLOCKING_STRIKES + 2))
        assert RE.offloaded == [] and len(set(det.threads)) == 1


def test_an_offloaded_call_that_turns_quick_goes_back_on_the_loop(RE):
    det = SlowDet([3 * BLOCKING_CALL] * BLOCKING_STRIKES + [0.0])
    RE(_points(det, BLOCKING_STRIKES + 10 * FAST_TO_RETURN))  # room for slow calls under load
    loop_thread, threads = det.threads[0], det.threads[BLOCKING_STRIKES:]
    assert threads[0].startswith("cielo-device"), threads
    offloaded = sum(1 for name in threads if name.startswith("cielo-device"))
    # back on the loop after FAST_TO_RETURN quick calls (more if the machine was loaded)
    assert FAST_TO_RETURN <= offloaded and loop_thread in threads, threads


class BlockingMotor:
    """A motor whose ``set()`` blocks (a put that waits) and whose ``read()`` blocks."""

    def __init__(self) -> None:
        self.name, self.parent = "motor", None
        self.position = 0.0
        self.threads: dict[str, set[str]] = {"set": set(), "read": set()}

    def set(self, value: float) -> Status:
        self.threads["set"].add(threading.current_thread().name)
        time.sleep(3 * BLOCKING_CALL)
        self.position = value
        status = Status(self)
        status.set_finished()
        return status

    def read(self) -> dict:
        self.threads["read"].add(threading.current_thread().name)
        time.sleep(3 * BLOCKING_CALL)
        return {"motor": {"value": self.position, "timestamp": time.time()}}

    def describe(self) -> dict:
        return {"motor": {"source": "sim", "dtype": "number", "shape": []}}


def test_what_moves_a_device_stays_on_the_loop_in_order_even_when_it_blocks(RE):
    """Only reads move to threads: a stop() must never overtake the set() it stops."""
    motor = BlockingMotor()

    def plan():
        yield Msg("open_run")
        for i in range(BLOCKING_STRIKES + 3):
            yield Msg("set", motor, float(i), group="m")
            yield Msg("wait", None, group="m")
            yield Msg("create", None, name="primary")
            yield Msg("read", motor)
            yield Msg("save")
        yield Msg("close_run")

    RE(plan())
    assert RE.offloaded == [("motor", "read")]
    assert len(motor.threads["set"]) == 1 and not any(
        name.startswith("cielo-device") for name in motor.threads["set"]
    )
    assert any(name.startswith("cielo-device") for name in motor.threads["read"])


def test_offload_sends_a_devices_reads_to_threads_and_refuses_what_moves_it(RE):
    motor = BlockingMotor()
    RE.offload(motor)
    assert RE.offloaded == [("motor", "*")]
    assert RE([Msg("read", motor)]) == () and motor.threads["read"] == {"cielo-device_0"}
    with pytest.raises(ValueError, match=r"set\(\) cannot be called in a worker thread"):
        RE.offload(motor, "set")


class IoDet(SlowDet):
    """A detector whose class says its reads wait on I/O: read in threads from the first."""

    blocking_reads = True

    def __init__(self, delays) -> None:
        super().__init__(delays, name="io")
        self.config_threads: list[str] = []

    def read_configuration(self) -> dict:
        self.config_threads.append(threading.current_thread().name)
        return {"io_gain": {"value": 2.0, "timestamp": time.time()}}

    def describe_configuration(self) -> dict:
        return {"io_gain": {"source": "sim", "dtype": "number", "shape": []}}


def test_a_device_whose_reads_block_is_read_in_a_thread_from_its_first_call(validate):
    """``blocking_reads = True`` on the class (EPICS devices): no slow call on the loop first,
    even with offload_blocking off; the loop turns while each read waits."""
    det = IoDet([0.05])
    docs = DocumentCollector()
    with RunEngine(scan_id_file=None) as RE:
        RE.subscribe(docs)
        result, turns = _ticking(RE, _points(det, 3))
        assert RE.offloaded == []  # what the engine or the user moved; det asked for it
        RE.flush(5)
    assert det.threads and all(name.startswith("cielo-device") for name in det.threads)
    assert det.config_threads and all(n.startswith("cielo-device") for n in det.config_threads)
    assert turns >= 3 * 10, turns  # 3 reads of 50 ms, a tick every 1 ms (many lost to load)
    assert [e["data"]["io"] for e in docs.of("event")] == [1.0, 2.0, 3.0]
    descriptor = docs.of("descriptor")[0]
    assert descriptor["configuration"]["io"]["data"] == {"io_gain": 2.0}
    for name, doc in docs:
        validate(name, doc)


class GatedDet(SlowDet):
    """Read in threads (``blocking_reads``); its first read waits until ``gate`` opens."""

    blocking_reads = True

    def __init__(self) -> None:
        super().__init__([0.0], name="gated")
        self.gate = threading.Event()
        self.reading = threading.Event()
        self.finished: list[float] = []

    def read(self) -> dict:
        first = self.calls == 0
        self.reading.set()
        if first:
            self.gate.wait(10)
        reading = super().read()
        self.finished.append(reading["gated"]["value"])
        return reading


class OrderedMotor(BlockingMotor):
    """Records the order of its set() and stop() calls, and their threads."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str]] = []

    def set(self, value: float) -> Status:
        self.calls.append(("set", threading.current_thread().name))
        self.position = value
        status = Status(self)
        status.set_finished()
        return status

    def stop(self, success: bool = False) -> None:
        self.calls.append(("stop", threading.current_thread().name))


def _step(det, motor):
    yield Msg("open_run")
    yield Msg("checkpoint")
    yield Msg("set", motor, 1.0, group="m")
    yield Msg("wait", None, group="m")
    yield Msg("create", None, name="primary")
    yield Msg("read", det)
    yield Msg("save")
    yield Msg("close_run")


async def _thread_name() -> str:
    return threading.current_thread().name


@pytest.mark.parametrize("then", ["resume", "abort"])
def test_a_read_in_flight_in_its_thread_when_the_plan_pauses(then, validate):
    """The plan pauses while a read waits in its worker thread: the engine stops the motor
    on its loop at once (not after the read), the late reading is dropped, and resuming
    reads again."""
    det, motor = GatedDet(), OrderedMotor()
    docs = DocumentCollector()
    with RunEngine(scan_id_file=None, handle_sigint=False) as RE:
        RE.subscribe(docs)
        loop_thread = RE.run_coroutine(_thread_name())

        def pause_while_reading() -> None:
            assert det.reading.wait(10)
            RE.request_pause()

        threading.Thread(target=pause_while_reading, daemon=True).start()
        with pytest.raises(RunEngineInterrupted):
            RE(_step(det, motor))
        assert det.finished == []  # paused with the read still in its thread
        assert motor.calls == [("set", loop_thread), ("stop", loop_thread)]
        det.gate.set()
        deadline = time.monotonic() + 10
        while not det.finished and time.monotonic() < deadline:
            time.sleep(0.01)
        assert det.finished == [1.0]  # the late read ended in its thread...
        getattr(RE, then)()
        RE.flush(5)
    events = docs.of("event")
    stop = docs.of("stop")[0]
    if then == "resume":  # ...and was dropped: the resumed plan read again
        assert [e["data"]["gated"] for e in events] == [2.0]
        assert stop["exit_status"] == "success"
        assert motor.calls[2:] == [("set", loop_thread)]  # the move made again
    else:
        assert events == [] and stop["exit_status"] == "abort"
    for name, doc in docs:
        validate(name, doc)


class SerialMotor(OrderedMotor):
    """One serial line for every call: a read blocks on it (the engine moves the reads to a
    thread), and a stop() that comes while a read holds the line garbles both."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.in_read = threading.Event()
        self.gate = threading.Event()
        self.overlaps: list[str] = []

    def read(self) -> dict:
        self.reads += 1
        self.in_read.set()
        try:
            time.sleep(3 * BLOCKING_CALL)
            if self.reads > BLOCKING_STRIKES:
                self.gate.wait(10)  # this one holds the line until the test opens it
        finally:
            self.in_read.clear()
        return {"motor": {"value": self.position, "timestamp": time.time()}}

    def stop(self, success: bool = False) -> None:
        if self.in_read.is_set():
            self.overlaps.append("stop() while a read held the line")
        super().stop(success)


def test_a_moved_read_in_flight_ends_before_the_engine_stops_its_device(RE):
    """offload_blocking moved the reads of a device that never asked for it: when a pause cuts
    such a read short, its stop() waits for the read to end (as on the loop), never runs
    beside it. A device declaring ``blocking_reads`` is stopped at once instead."""
    motor = SerialMotor()

    def plan():
        yield Msg("open_run")
        for i in range(BLOCKING_STRIKES + 1):
            yield Msg("checkpoint")
            yield Msg("set", motor, float(i), group="m")
            yield Msg("wait", None, group="m")
            yield Msg("create", None, name="primary")
            yield Msg("read", motor)
            yield Msg("save")
        yield Msg("close_run")

    def pause_in_the_gated_read() -> None:
        deadline = time.monotonic() + 10
        while motor.reads <= BLOCKING_STRIKES and time.monotonic() < deadline:
            time.sleep(0.005)
        RE.request_pause()
        time.sleep(0.3)  # the engine has had time to stop the motor, were it not waiting
        motor.gate.set()

    threading.Thread(target=pause_in_the_gated_read, daemon=True).start()
    with pytest.raises(RunEngineInterrupted):
        RE(plan())
    assert RE.offloaded == [("motor", "read")]
    assert motor.overlaps == []
    assert [name for name, _thread in motor.calls][-1] == "stop"
    RE.abort()


class Staged:
    """A device that logs, with their threads, its stage(), unstage() and read() calls;
    its stage() blocks for ``stage_delay`` seconds and can fail."""

    def __init__(self, log: list, name: str = "dev", stage_delay: float = 0.0) -> None:
        self.name, self.parent, self.hints = name, None, {"fields": [name]}
        self.log, self.stage_delay, self.fail_stage = log, stage_delay, False

    def _note(self, what: str) -> None:
        self.log.append((self.name, what, threading.current_thread().name))

    def stage(self) -> list:
        time.sleep(self.stage_delay)
        self._note("stage")
        if self.fail_stage:
            raise RuntimeError(f"{self.name}: staging failed")
        return [self]

    def unstage(self) -> list:
        self._note("unstage")
        return [self]

    def read(self) -> dict:
        self._note("read")
        return {self.name: {"value": 1.0, "timestamp": time.time()}}

    def describe(self) -> dict:
        return {self.name: {"source": "sim", "dtype": "number", "shape": []}}


class BlockingStaged(Staged):
    blocking_reads = True


def _staged_points(dev, n: int = 2):
    yield Msg("stage", dev)
    yield from _points(dev, n)
    yield Msg("unstage", dev)


def test_a_device_whose_staging_waits_on_io_is_staged_in_a_thread_in_order(RE):
    """A device declaring blocking_reads is staged and unstaged in a worker thread, the
    plan awaiting each (stage before the first read, unstage after the last), the loop
    turning while stage() blocks; a plain device is staged on the loop's thread."""
    log: list = []
    blocking = BlockingStaged(log, stage_delay=0.1)
    _result, turns = _ticking(RE, _staged_points(blocking))
    assert [what for _, what, _ in log] == ["stage", "read", "read", "unstage"]
    assert all(log[i][2].startswith("cielo-device") for i in (0, -1)), log
    assert turns >= 10, turns  # the loop went on during the 0.1 s stage()
    log.clear()
    RE(_staged_points(Staged(log)))
    assert [what for _, what, _ in log] == ["stage", "read", "read", "unstage"]
    threads = {thread for _, _, thread in log}
    assert len(threads) == 1 and not threads.pop().startswith("cielo-device")  # the loop's


def test_a_device_given_whole_to_offload_is_staged_in_a_thread(RE):
    log: list = []
    dev = Staged(log)
    RE.offload(dev)
    RE(_staged_points(dev, 1))
    assert [what for _, what, _ in log] == ["stage", "read", "unstage"]
    assert all(thread.startswith("cielo-device") for _, _, thread in log), log


def test_a_plan_that_fails_while_a_device_stages_in_a_thread_unstages_it_after(RE):
    """The clean-up's unstage() waits for a stage() still running in its thread, and goes
    to a thread too: the device sees stage, then unstage, never both at once."""
    log: list = []
    dev = BlockingStaged(log, stage_delay=0.2)
    other = BlockingStaged(log, name="other")
    other.fail_stage = True

    def plan():
        yield Msg("stage", dev, group="staging")  # not awaited here: runs in its thread
        yield Msg("stage", other)  # fails while dev's stage() still runs
        yield Msg("wait", group="staging")

    with pytest.raises(RuntimeError, match="other: staging failed"):
        RE(plan())
    calls = [(name, what) for name, what, _ in log]
    assert calls == [("other", "stage"), ("dev", "stage"), ("other", "unstage"), ("dev", "unstage")]
    assert all(thread.startswith("cielo-device") for _, _, thread in log)


def test_a_device_says_its_reads_and_staging_wait_on_io_when_its_parts_do():
    """A Device class with a component whose class declares blocking_reads (EPICS)
    declares it too; Device.blocking_stage: a signal in stage_sigs, or a sub-device,
    declares it (for children made in __init__). Sim devices stay on the loop."""
    from cielo.devices import Cpt, Device, SoftSignal

    class IoSignal(SoftSignal):
        blocking_reads = True

    class Declared(Device):
        mode = Cpt(IoSignal, 0)

    class Quiet(Declared):
        blocking_reads = False  # said by the class itself: kept

    class Built(Device):  # its I/O signal made in __init__: the class cannot tell
        gain = Cpt(SoftSignal, 1)

        def __init__(self, **kwargs) -> None:
            super().__init__(**kwargs)
            self.mode = IoSignal(0)

    class Holder(Device):
        built = Cpt(Built)

    assert Declared.blocking_reads and not Quiet.blocking_reads
    assert not (Device.blocking_reads or Built.blocking_reads or Holder.blocking_reads)
    built = Built(name="built")
    assert not built.blocking_stage  # nothing staged
    built.stage_sigs = {"gain": 2}
    assert not built.blocking_stage  # a sim signal
    built.stage_sigs = {"gain": 2, "mode": 1}
    assert built.blocking_stage
    holder = Holder(name="holder")
    assert not holder.blocking_stage
    holder.built.stage_sigs = {"mode": 1}
    assert holder.blocking_stage
    assert Holder(name="other").blocking_stage is False
