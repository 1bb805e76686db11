"""Bluesky's RunEngine attributes with cielo alone (cielo's devices and messages, no bluesky).

The same attributes driven by Bluesky's code: tests/interop/test_bluesky_run_engine_attributes.py.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from cielo import Msg
from cielo.core import FailedStatusError, RunEngineInterrupted
from cielo.devices.sim import SimMotor


def _one_run(**md):
    yield Msg("open_run", **md)
    yield Msg("close_run")


def test_metadata_hooks_and_scan_id_source(RE, docs):
    RE.md_validator = lambda md: md["operator"]  # a KeyError refuses the run
    with pytest.raises(KeyError, match="operator"):
        RE(_one_run())
    assert docs.of("start") == []
    RE.md_normalizer = lambda md: {**md, "operator": md["operator"].title()}
    RE.scan_id_source = lambda md: 100 + md.get("scan_id", 0)
    RE(_one_run(operator="ada lovelace"))
    start = docs.start
    assert start["operator"] == "Ada Lovelace" and start["scan_id"] == 100
    assert start["plan_type"] == "generator"
    RE.scan_id_source = None
    RE(_one_run(operator="ada"))
    assert docs.of("start")[-1]["scan_id"] == 101  # counts on from the source's last


def test_context_managers_and_max_depth(RE):
    entered: list[object] = []

    class Tracking:
        def __init__(self, engine):
            self.engine = engine

        def __enter__(self):
            entered.append(self.engine)

        def __exit__(self, *exc):
            entered.append(None)

    RE.context_managers = [Tracking]
    RE(_one_run())
    assert entered == [RE, None]
    RE.max_depth = 1
    with pytest.raises(RuntimeError, match="max_depth"):
        RE(_one_run())


def test_one_argument_handlers_and_hooks(RE):
    async def echo(msg):
        return msg.args

    RE.register_command("echo", echo)
    hooks: list[object] = []
    RE.waiting_hook = hooks.append
    motor = SimMotor(name="m")

    def plan():
        echoed = yield Msg("echo", None, 1, 2)
        yield Msg("set", motor, 1.0, group="g")
        yield Msg("wait", group="g")
        return echoed

    assert RE(plan()).plan_result == (1, 2)
    assert len(hooks) == 2 and hooks[1] is None


def test_rewindable_false_aborts_a_pause_and_is_the_default_of_each_plan(RE, docs):
    RE.rewindable = False
    with pytest.raises(RunEngineInterrupted):
        RE([Msg("open_run"), Msg("checkpoint"), Msg("pause"), Msg("close_run")])
    assert docs.stop["exit_status"] == "abort" and RE.rewindable is False
    RE.rewindable = True
    with pytest.raises(RunEngineInterrupted):
        RE([Msg("open_run"), Msg("checkpoint"), Msg("pause"), Msg("close_run")])
    assert RE.state == "paused"
    assert RE.resume().exit_status == "success"


def test_ignore_callback_exceptions_is_the_opposite_of_fatal_callback_errors(RE):
    assert RE.ignore_callback_exceptions and not RE.fatal_callback_errors
    RE.ignore_callback_exceptions = False
    assert RE.fatal_callback_errors


class _Flyer:
    name = "flyer"
    parent = None

    def kickoff(self):
        return None


def test_refusals_and_the_stage_protocol(RE):
    from cielo.core import IllegalMessageSequence

    with pytest.raises(IllegalMessageSequence, match="kickoff.*outside a run"):
        RE([Msg("kickoff", _Flyer())])
    motor = SimMotor(name="m")
    bundle = [Msg("open_run"), Msg("create", name="primary"), Msg("configure", motor, velocity=2)]
    with pytest.raises(IllegalMessageSequence, match="configure.*between 'create' and 'save'"):
        RE(bundle)

    class StageOnly:
        def stage(self):
            raise AssertionError("staged although it cannot be unstaged")

    assert RE([Msg("stage", StageOnly()), Msg("unstage", StageOnly())]).exit_status == "success"


class _NeverDecided:
    """A status that says it is done but never sets its outcome: ``exception()`` without a
    timeout would block for ever (ophyd's does), so the engine must not call it so."""

    done = True
    success = False

    def add_callback(self, callback):
        callback(self)

    def exception(self, timeout=None):
        if timeout is None:
            threading.Event().wait()
        raise TimeoutError("not decided")


def test_a_status_done_before_its_outcome_fails_instead_of_freezing(RE):
    from cielo.core import FailedStatusError

    class Quirky:
        name = "quirky"
        parent = None

        def set(self, value):
            return _NeverDecided()

    with pytest.raises(FailedStatusError, match="no outcome"):
        RE([Msg("set", Quirky(), 1, group="g"), Msg("wait", group="g")])


def test_locate_runs_concurrently_and_wait_keeps_what_is_not_done(RE):
    import asyncio
    import time

    class Slow:
        name = "slow"
        parent = None

        async def locate(self):
            await asyncio.sleep(0.3)
            return {"setpoint": 0.0, "readback": 0.0}

    def locate_three():
        return (yield Msg("locate", Slow(), Slow(), Slow()))

    t0 = time.monotonic()
    assert len(RE(locate_three()).plan_result) == 3
    assert time.monotonic() - t0 < 0.75
    motor = SimMotor(name="m", velocity=2.0)

    def plan():
        yield Msg("set", motor, 1.0, group="g")
        first = yield Msg("wait", group="g", timeout=0.05, error_on_timeout=False)
        last = yield Msg("wait", group="g")
        return first, last

    assert RE(plan()).plan_result == (False, True)


def test_keyboard_interrupt_wait_for_and_a_failing_describe(RE, docs):
    def interrupted():
        yield Msg("open_run")
        raise KeyboardInterrupt

    with pytest.raises(RunEngineInterrupted):
        RE(interrupted())
    assert docs.stop["exit_status"] == "abort" and RE.state == "idle"

    async def fails(text):
        raise ValueError(text)

    with pytest.raises(ValueError, match="one") as info:
        RE([Msg("wait_for", None, [lambda: fails("one"), lambda: fails("two")])])
    assert any("two" in note for note in info.value.__notes__)

    class Undescribable:
        name = "undescribable"
        parent = None

        def read(self):
            return {"u": {"value": 1, "timestamp": 0.0}}

        def describe(self):
            raise ConnectionError("no description")

    good = SimMotor(name="good")

    def plan():
        yield Msg("open_run")
        try:
            yield Msg("create", name="primary")
            yield Msg("read", Undescribable())
            yield Msg("save")
        finally:
            yield Msg("create", name="cleanup")
            yield Msg("read", good)
            yield Msg("save")
            yield Msg("close_run")

    with pytest.raises(ConnectionError, match="no description"):
        RE(plan())


class _StreamFlyer:
    """A flyer whose collect gives three events and a stream_datum for the same three rows."""

    name = "sf"
    parent = None

    def kickoff(self):
        return None

    def complete(self):
        return None

    def describe_collect(self):
        return {
            "sf_x": {"source": "sim", "dtype": "number", "shape": []},
            "sf_img": {"source": "sim", "dtype": "array", "shape": [2], "external": "STREAM:"},
        }

    def collect(self):
        return [
            {"data": {"sf_x": float(i)}, "timestamps": {"sf_x": 0.0}, "time": 0.0} for i in range(3)
        ]

    def collect_asset_docs(self):
        yield (
            "stream_resource",
            {
                "uid": "sr1",
                "data_key": "sf_img",
                "mimetype": "application/x-hdf5",
                "uri": "file://localhost/tmp/sf.h5",
                "parameters": {},
            },
        )
        yield (
            "stream_datum",
            {
                "uid": "sr1/0",
                "stream_resource": "sr1",
                "indices": {"start": 0, "stop": 3},
            },
        )


def test_stream_datum_sequence_numbers_match_the_events_of_the_same_collect(RE):
    seen: list[tuple[str, dict]] = []
    RE.subscribe(lambda name, doc: seen.append((name, doc)))
    flyer = _StreamFlyer()
    RE(
        [
            Msg("open_run"),
            Msg("kickoff", flyer),
            Msg("declare_stream", None, flyer, name="fly", collect=True),
            Msg("complete", flyer),
            Msg("collect", flyer, name="fly"),
            Msg("close_run"),
        ]
    )
    RE.flush()
    datum = next(d for n, d in seen if n == "stream_datum")
    page = next(d for n, d in seen if n == "event_page")
    assert datum["seq_nums"] == {"start": page["seq_num"][0], "stop": page["seq_num"][-1] + 1}


class _OldStyleFlyer(_StreamFlyer):
    def describe_collect(self):
        return {"sf": {"sf_x": {"source": "sim", "dtype": "number", "shape": []}}}

    def collect_asset_docs(self):
        return []


def test_a_flyer_never_collected_is_collected_when_its_run_closes(RE, docs):
    flyer = _OldStyleFlyer()
    RE([Msg("open_run"), Msg("kickoff", flyer), Msg("complete", flyer), Msg("close_run")])
    assert docs.stop["num_events"] == {"sf": 3}


class _Stager:
    """Hands out the status its ``stage()`` returns, so the test finishes or fails it."""

    def __init__(self, name):
        self.name, self.parent, self.status = name, None, None

    def stage(self):
        from cielo.core import Status

        self.status = Status()
        return self.status

    def unstage(self):
        return []


def test_wait_ends_early_when_a_watched_group_fails(RE):
    slow, watched = _Stager("slow"), _Stager("watched")

    def plan():
        yield Msg("stage", slow, group="main")
        yield Msg("stage", watched, group="watch")
        timer = threading.Timer(0.1, watched.status.set_exception, (RuntimeError("beam dump"),))
        timer.start()
        yield Msg("wait", None, group="main", watch=("watch",), timeout=5)

    start = time.monotonic()
    with pytest.raises(FailedStatusError, match="beam dump"):
        RE(plan())
    assert time.monotonic() - start < 3  # the wait for 'main' (5 s) ended with the failure
    assert not slow.status.done


def test_a_watched_group_that_succeeds_changes_nothing(RE):
    slow, watched = _Stager("slow"), _Stager("watched")

    def plan():
        yield Msg("stage", slow, group="main")
        yield Msg("stage", watched, group="watch")
        watched.status.set_finished()
        threading.Timer(0.2, slow.status.set_finished).start()
        return (yield Msg("wait", None, group="main", watch=("watch",), timeout=5))

    RE(plan())
    assert slow.status.done


def test_the_stop_reason_of_a_failure_is_the_exception_text(RE, docs, caplog):
    def plan():
        yield Msg("open_run")
        raise ValueError("the sample fell off")

    with caplog.at_level("ERROR", logger="cielo.engine"), pytest.raises(ValueError):
        RE(plan())
    assert docs.stop["exit_status"] == "fail" and docs.stop["reason"] == "the sample fell off"
    assert "ValueError: the sample fell off" in caplog.text  # the log keeps the kind


def test_md_versions_are_in_every_start_document(RE, docs):
    versions = RE.md["versions"]
    assert versions["cielo"] and versions["numpy"] == np.__version__
    RE(_one_run())
    assert docs.start["versions"]["numpy"] == np.__version__
    assert docs.start["versions"]["cielo"] == versions["cielo"]


def test_md_versions_without_bluesky_name_no_bluesky():
    script = textwrap.dedent(
        """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("bluesky", "ophyd", "ophyd_async"):
                    raise ImportError("blocked in this test")

        sys.meta_path.insert(0, Block())
        from cielo.testing import make_run_engine

        RE = make_run_engine()
        print(" ".join(sorted(RE.md["versions"])))
        RE.close()
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    assert "cielo" in out and "numpy" in out
    assert not {"bluesky", "ophyd", "ophyd_async"} & set(out)


def test_a_data_key_in_two_streams_is_refused(RE, docs):
    class TwoStreams:
        name, parent = "flyer", None

        def kickoff(self):
            from cielo.core import finished_status

            return finished_status()

        def complete(self):
            return self.kickoff()

        def describe_collect(self):
            key = {"source": "sim", "dtype": "number", "shape": []}
            return {"fast": {"x": key, "y": key}, "slow": {"x": key}}

        def collect(self):
            return [{"data": {"x": 1, "y": 2}, "timestamps": {"x": 0, "y": 0}, "time": 0}]

    flyer = TwoStreams()
    plan = [Msg("open_run"), Msg("kickoff", flyer), Msg("complete", flyer),
            Msg("collect", flyer), Msg("close_run")]  # fmt: skip
    with pytest.raises(RuntimeError, match=r"identical data keys in multiple streams.*'x'"):
        RE(plan)
    assert docs.of("descriptor") == [] and docs.stop["exit_status"] == "fail"


def test_a_read_returning_none_is_refused_naming_the_device(RE):
    class Broken:
        name, parent = "broken", None

        def read(self):
            return None

        def describe(self):
            return {}

    with pytest.raises(RuntimeError, match=r"'broken'.read\(\) returned None"):
        RE([Msg("read", Broken())])


def test_an_expired_wait_for_says_what_bluesky_says(RE):
    async def never():
        await asyncio.sleep(10)

    with pytest.raises(TimeoutError, match="Plan failed to complete in the specified time"):
        RE([Msg("wait_for", None, [never], timeout=0.01)])
