"""The command vocabulary, plugin commands, and devices returning values, statuses, awaitables."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from cielo import Msg, RunEngine, hookimpl
from cielo.core import (
    AsyncStatus,
    FailedStatusError,
    RunEngineError,
    Status,
    StatusTimeoutError,
    make_plugin_manager,
)
from cielo.core.engine import CommandContext


class ThreadMotor:
    """ophyd style: set() returns a status finished later from another thread."""

    def __init__(self, name="m", delay=0.05, fail=None):
        self.name, self.parent, self.delay, self.fail = name, None, delay, fail
        self.position = 0.0

    def set(self, value):
        st = Status(self)

        def done():
            if self.fail:
                st.set_exception(RuntimeError(self.fail))
            else:
                self.position = value
                st.set_finished()

        threading.Timer(self.delay, done).start()
        return st

    def read(self):
        return {self.name: {"value": self.position, "timestamp": time.time()}}

    def describe(self):
        return {self.name: {"source": "t", "dtype": "number", "shape": []}}

    def locate(self):
        return {"setpoint": self.position, "readback": self.position}


class AsyncDevice:
    """ophyd-async style: coroutines everywhere."""

    def __init__(self, name="adev"):
        self.name, self.parent = name, None
        self.value = 0.0

    async def _move(self, value):
        await asyncio.sleep(0.01)
        self.value = value

    def set(self, value):
        return self._move(value)  # a bare coroutine: the engine wraps it in an AsyncStatus

    async def read(self):
        await asyncio.sleep(0)
        return {self.name: {"value": self.value, "timestamp": time.time()}}

    async def describe(self):
        return {self.name: {"source": "t", "dtype": "number", "shape": []}}

    async def locate(self):
        return {"setpoint": self.value, "readback": self.value}

    def stage(self):
        return AsyncStatus(asyncio.sleep(0))

    def unstage(self):
        return AsyncStatus(asyncio.sleep(0))


def test_status_from_another_thread_and_locate(RE):
    m = ThreadMotor()

    def plan():
        st = yield Msg("set", m, 3.0, group="g")
        assert not st.done
        yield Msg("wait", None, group="g")
        return (yield Msg("locate", m))

    assert RE(plan()).plan_result == {"setpoint": 3.0, "readback": 3.0}


def test_awaitable_device_methods(RE, docs, validate):
    dev = AsyncDevice()

    def plan():
        yield Msg("stage", dev, group="s")
        yield Msg("wait", None, group="s")
        yield Msg("open_run")
        st = yield Msg("set", dev, 7.0, group="g")
        assert isinstance(st, AsyncStatus)
        yield Msg("wait", None, group="g")
        yield Msg("create", None, name="primary")
        reading = yield Msg("read", dev)
        yield Msg("save")
        yield Msg("close_run")
        yield Msg("unstage", dev)
        return reading, (yield Msg("locate", dev))

    reading, location = RE(plan()).plan_result
    assert reading["adev"]["value"] == 7.0 and location["readback"] == 7.0
    for n, d in docs:
        validate(n, d)
    assert [d for n, d in docs if n == "event"][0]["data"] == {"adev": 7.0}


def test_wait_timeout_names_the_pending_device(RE, docs):
    m = ThreadMotor("slowpoke", delay=2.0)

    def plan():
        yield Msg("open_run")
        yield Msg("set", m, 1, group="g")
        yield Msg("wait", None, group="g", timeout=0.1)

    with pytest.raises(StatusTimeoutError, match="'slowpoke'.set"):
        RE(plan())
    stop = [d for n, d in docs if n == "stop"][0]
    assert stop["exit_status"] == "fail" and "slowpoke" in stop["reason"]


def test_wait_move_on(RE):
    m = ThreadMotor("slow", delay=0.5)
    t0 = time.monotonic()
    RE([Msg("set", m, 1, group="g"), Msg("wait", None, group="g", timeout=0.05, move_on=True)])
    assert time.monotonic() - t0 < 0.45


def test_failed_status_fails_the_run_naming_device(RE, docs, validate):
    m = ThreadMotor("mono", fail="encoder error")

    def plan():
        yield Msg("open_run")
        yield Msg("set", m, 1, group="g")
        yield Msg("wait", None, group="g")

    with pytest.raises(
        FailedStatusError, match="'mono'.set.. failed: RuntimeError: encoder"
    ) as info:
        RE(plan())
    assert isinstance(info.value.__cause__, RuntimeError)  # the status's own failure
    stop = [d for n, d in docs if n == "stop"][0]
    validate("stop", stop)
    assert "'mono'.set()" in stop["reason"] and "encoder error" in stop["reason"]


def test_plan_can_catch_a_device_failure(RE):
    m = ThreadMotor("m", fail="bump")

    def plan():
        try:
            yield Msg("set", m, 1, group="g")
            yield Msg("wait", None, group="g")
        except FailedStatusError as exc:  # as Bluesky's FailedStatus, the cause chained
            return f"recovered from {exc.__cause__}"

    assert RE(plan()).plan_result == "recovered from bump"


def test_wait_for_sleep_rewindable_input(RE, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt="": f"answer to {prompt}")

    async def ready():
        await asyncio.sleep(0.01)
        return 1

    def plan():
        yield Msg("wait_for", None, [ready, ready])
        t0 = time.monotonic()
        yield Msg("sleep", None, 0.05)
        slept = time.monotonic() - t0
        was = yield Msg("rewindable", None, None)
        now = yield Msg("rewindable", None, False)
        answer = yield Msg("input", None, prompt="q?")
        return slept, was, now, answer

    slept, was, now, answer = RE(plan()).plan_result
    assert slept >= 0.045 and was is True and now is False and answer == "answer to q?"


def test_wait_for_timeout(RE):
    async def never():
        await asyncio.sleep(10)

    with pytest.raises(StatusTimeoutError, match="wait_for"):
        RE([Msg("wait_for", None, [never], timeout=0.05)])


def test_sleep_needs_a_number(RE):
    with pytest.raises(ValueError, match="seconds"):
        RE([Msg("sleep", None, "soon")])


def test_register_command_with_context(RE, docs):
    seen: list[object] = []

    def mark(ctx: CommandContext, msg: Msg):
        seen.append(ctx.run(msg).uid)
        return msg.args[0] * 2

    async def slow_echo(ctx, msg):
        await asyncio.sleep(0.01)
        return msg.args[0]

    RE.register_command("mark", mark)
    RE.register_command("echo", slow_echo)
    with pytest.raises(RunEngineError, match="already provided by RE.register_command"):
        RE.register_command("mark", mark)
    with pytest.raises(RunEngineError, match="'set' is already provided by cielo"):
        RE.register_command("set", mark)

    def plan():
        yield Msg("open_run")
        doubled = yield Msg("mark", None, 21)
        echoed = yield Msg("echo", None, "hi")
        yield Msg("close_run")
        return doubled, echoed

    assert RE(plan()).plan_result == (42, "hi")
    assert seen == [docs[0][1]["uid"]]
    assert "mark" in RE.commands


class CommandPlugin:
    @hookimpl
    def cielo_msg_commands(self):
        async def beep(ctx, msg):
            await asyncio.sleep(0)
            return "beep"

        return {"beep": beep}


class ClashingPlugin:
    @hookimpl
    def cielo_msg_commands(self):
        return {"beep": lambda ctx, msg: None}


def test_plugin_adds_a_command():
    pm = make_plugin_manager(autoload=False, bundled=(), plugins=[("beeper", CommandPlugin())])
    with RunEngine(plugin_manager=pm, scan_id_file=None) as RE:
        assert RE([Msg("beep")]).plan_result is None
        assert RE(iter_reply()).plan_result == "beep"


def iter_reply():
    return (yield Msg("beep"))


def test_two_plugins_offering_one_command_are_named():
    pm = make_plugin_manager(
        autoload=False,
        bundled=(),
        plugins=[("beeper", CommandPlugin()), ("clasher", ClashingPlugin())],
    )
    with pytest.raises(
        RunEngineError, match="'beep'.*'beeper'.*'clasher'|'beep'.*'clasher'.*'beeper'"
    ):
        RunEngine(plugin_manager=pm, scan_id_file=None)


def test_plan_that_yields_something_else(RE):
    def plan():
        yield "open_run"

    with pytest.raises(TypeError, match="yielded 'open_run'.*must yield Msg"):
        RE(plan())


def test_not_a_plan(RE):
    with pytest.raises(TypeError, match="call it to make the plan"):
        RE(test_not_a_plan)
    with pytest.raises(TypeError, match="needs a plan"):
        RE(42)


def test_bluesky_style_waiting_hook_sees_pending_statuses(RE):
    calls: list[object] = []
    RE.waiting_hook = lambda statuses: calls.append(None if statuses is None else len(statuses))
    m1, m2 = ThreadMotor("a"), ThreadMotor("b")
    RE([Msg("set", m1, 1, group="g"), Msg("set", m2, 2, group="g"), Msg("wait", None, group="g")])
    assert calls == [2, None]


def test_prepare_stop_configure_and_stage_return_values(RE):
    class Box:
        name, parent = "box", None

        def __init__(self):
            self.log = []

        def prepare(self, value):
            self.log.append(("prepare", value))
            return ThreadMotor("p", delay=0.02).set(value)

        def stop(self, *, success=False):
            self.log.append(("stop", success))

        def configure(self, **kwargs):
            self.log.append(("configure", kwargs))
            return {}, kwargs

        def stage(self):
            self.log.append(("stage",))
            return [self]

        def unstage(self):
            self.log.append(("unstage",))
            return [self]

    box = Box()

    def plan():
        staged = yield Msg("stage", box)
        st = yield Msg("prepare", box, {"frames": 3}, group="p")
        yield Msg("wait", None, group="p")
        _old, new = yield Msg("configure", box, gain=4)
        yield Msg("stop", box, success=True)
        yield Msg("unstage", box)
        return staged, st.success, new

    staged, prepared, new = RE(plan()).plan_result
    assert staged == [box] and prepared and new == {"gain": 4}
    assert box.log == [
        ("stage",),
        ("prepare", {"frames": 3}),
        ("configure", {"gain": 4}),
        ("stop", True),
        ("unstage",),
    ]


def test_staged_devices_are_unstaged_when_a_plan_fails(RE):
    class Stager:
        name, parent = "stager", None
        unstaged = False

        def stage(self):
            return [self]

        def unstage(self):
            Stager.unstaged = True
            return [self]

    def plan():
        yield Msg("stage", Stager())
        raise RuntimeError("plan bug")

    with pytest.raises(RuntimeError, match="plan bug"):
        RE(plan())
    assert Stager.unstaged


def test_plugin_command_status_joins_a_wait_group(RE):
    def start_slow(ctx, msg):
        st = ThreadMotor("slow", delay=0.05).set(1)
        ctx.add_to_group(msg.kwargs["group"], st, msg.obj, "start_slow")
        return st

    RE.register_command("start_slow", start_slow)

    def plan():
        st = yield Msg("start_slow", None, group="g")
        yield Msg("wait", None, group="g")
        return st.done

    assert RE(plan()).plan_result is True


def test_a_device_method_that_raises_fails_the_run_and_keeps_the_events(RE, docs, caplog):
    class Flaky(ThreadMotor):
        reads = 0

        def read(self):
            self.reads += 1
            if self.reads == 3:
                raise ConnectionError("detector went away")
            return super().read()

    det = Flaky("flaky")

    def plan():
        yield Msg("open_run")
        for _ in range(5):
            yield Msg("create", None, name="primary")
            yield Msg("read", det)
            yield Msg("save")
        yield Msg("close_run")

    with caplog.at_level("ERROR", logger="cielo.engine"):
        with pytest.raises(ConnectionError, match="detector went away") as info:
            RE(plan())
    assert any("test_commands.py" in note for note in info.value.__notes__)
    assert docs.names == ["start", "descriptor", "event", "event", "stop"]
    assert docs.stop["exit_status"] == "fail" and docs.stop["num_events"] == {"primary": 2}
    # the stop document says what Bluesky's says (str(exception)); the log names the device
    assert docs.stop["reason"] == "detector went away"
    assert "('flaky'.read()): ConnectionError: detector went away" in caplog.text
