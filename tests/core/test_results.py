"""What ``RE(plan)`` returns and raises, with cielo alone (no bluesky in the process).

The same conventions with Bluesky's code are in tests/interop/test_bluesky_run_engine_api.py.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap

import pytest

from cielo import Msg
from cielo.core import (
    FailedStatusError,
    RunEngineInterrupted,
    RunEngineResult,
    TransitionError,
    WaitTimeoutError,
)
from cielo.core.engine import NO_PLAN_RETURN, RunResult
from cielo.testing import make_run_engine


def _open_close():
    yield Msg("open_run")
    yield Msg("close_run")
    return "returned"


def test_subs_argument_is_temporary(RE):
    seen: list[str] = []
    stops: list[str] = []
    result = RE(_open_close(), lambda name, doc: seen.append(name), sample="Si")
    assert seen == ["start", "stop"] and isinstance(result, RunResult)
    RE(_open_close(), {"stop": [lambda n, d: stops.append(d["exit_status"])]})
    RE(_open_close())
    assert seen == ["start", "stop"] and stops == ["success"]


def test_default_result_is_a_tuple_with_the_outcome(RE):
    result = RE(_open_close())
    assert isinstance(result, tuple) and len(result) == 1
    assert result.run_start_uids == tuple(result)
    assert (result.plan_result, result.exit_status, result.interrupted) == (
        "returned",
        "success",
        False,
    )


def test_call_returns_result_on_finish_and_abort():
    with make_run_engine(call_returns_result=True) as RE:
        rs = RE(_open_close())
        assert isinstance(rs, RunEngineResult) and rs.plan_result == "returned"
        with pytest.raises(RunEngineInterrupted):
            RE([Msg("open_run"), Msg("checkpoint"), Msg("pause"), Msg("close_run")])
        rs = RE.abort("sample lost")
        assert rs.plan_result is NO_PLAN_RETURN and rs.plan_result is RE.NO_PLAN_RETURN
        assert (rs.exit_status, rs.interrupted, rs.reason) == ("abort", True, "sample lost")
        assert len(rs.run_start_uids) == 1


def test_errors_are_plain_cielo_classes_without_bluesky():
    # a fresh interpreter in which bluesky cannot be imported: nothing changes, nothing breaks
    script = textwrap.dedent(
        """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "bluesky":
                    raise ImportError("bluesky is blocked in this test")

        sys.meta_path.insert(0, Block())
        from cielo import Msg
        from cielo.core import RunEngineInterrupted, TransitionError, Status
        from cielo.core import FailedStatusError
        from cielo.testing import make_run_engine

        RE = make_run_engine(call_returns_result=True)
        try:
            RE([Msg("checkpoint"), Msg("pause")])
        except RunEngineInterrupted as exc:
            print(type(exc) is RunEngineInterrupted)
        print(RE.abort().exit_status)
        try:
            RE.resume()
        except TransitionError as exc:
            print(type(exc).__name__)
        failing = Status()
        failing.set_exception(RuntimeError("jammed"))
        try:
            RE([Msg("wait_for", None, [lambda: failing])])
        except Exception as exc:
            print(type(exc).__name__)
        RE.close()
        print(sorted(m for m in sys.modules if m.startswith("bluesky")))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    assert out == ["True", "abort", "TransitionError", "RuntimeError", "[]"]


def test_failed_status_and_wait_timeout(RE):
    from cielo.core import Status

    failing = Status()
    failing.set_exception(RuntimeError("jammed"))
    with pytest.raises(FailedStatusError, match="jammed") as info:
        RE([Msg("set", _Settable(failing), 1, group="g"), Msg("wait", None, group="g")])
    assert isinstance(info.value.__cause__, RuntimeError)
    with pytest.raises(WaitTimeoutError) as timeout:
        RE([Msg("set", _Settable(Status()), 1, group="g"), Msg("wait", group="g", timeout=0.01)])
    assert isinstance(timeout.value, TimeoutError)


def test_errors_pickle_as_their_cielo_class():
    # with bluesky loaded the instance's class is a blend made at run time; it pickles by
    # the cielo class's name
    error = TransitionError("resume() needs a paused RunEngine")
    error.add_note("a note")
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, TransitionError) and type(copy).__name__ == "TransitionError"
    assert str(copy).startswith("resume()") and copy.__notes__ == ["a note"]


class _Settable:
    name = "settable"

    def __init__(self, status):
        self.status = status

    def set(self, value):
        return self.status
