"""Code written against Bluesky's RunEngine API, run on cielo's RunEngine.

Bluesky's plans, ``run_decorator`` and ``bluesky.utils`` exceptions, with ophyd's devices,
are the oracles: the call conventions, results and exceptions such code relies on.
"""

from __future__ import annotations

import pickle
import threading

import pytest

bluesky = pytest.importorskip("bluesky")
ophyd = pytest.importorskip("ophyd")

import bluesky.plan_stubs as bps  # noqa: E402
import bluesky.plans as bp  # noqa: E402
import bluesky.preprocessors as bpp  # noqa: E402
import bluesky.run_engine as bre  # noqa: E402
import bluesky.utils as bsu  # noqa: E402
from ophyd.sim import SynAxis, det  # noqa: E402
from ophyd.status import StatusBase  # noqa: E402

from cielo.core import RunEngineResult  # noqa: E402
from cielo.testing import make_run_engine  # noqa: E402

pytestmark = pytest.mark.interop


class Jammed(ophyd.Signal):
    """An ophyd signal whose moves fail (their status finishes with an exception)."""

    def set(self, value, **kwargs):
        status = StatusBase()
        threading.Timer(0.01, status.set_exception, args=(RuntimeError("jammed"),)).start()
        return status


@pytest.fixture
def RE_result():
    with make_run_engine(call_returns_result=True) as engine:
        yield engine


# -- call conventions ---------------------------------------------------------------
def test_temporary_subscriptions_callable_list_and_dict(RE):
    seen: dict[str, list[str]] = {"one": [], "list": [], "events": [], "starts": []}

    def recorder(key):
        return lambda name, doc: seen[key].append(name)

    RE(bp.count([det], 2), recorder("one"))
    assert seen["one"] == ["start", "descriptor", "event", "event", "stop"]
    RE(bp.count([det], 1), [recorder("list")], sample="Si")
    assert seen["list"][0] == "start"
    RE(bp.count([det], 3), {"event": recorder("events"), "start": [recorder("starts")]})
    assert seen["events"] == ["event"] * 3 and seen["starts"] == ["start"]
    before = {key: len(value) for key, value in seen.items()}
    RE(bp.count([det], 1))  # temporary: gone after their call
    assert {key: len(value) for key, value in seen.items()} == before


def test_temporary_subscriptions_refuse_unknown_names(RE):
    with pytest.raises(KeyError, match="evnt"):
        RE(bp.count([det]), {"evnt": print})
    with pytest.raises(TypeError, match="not callable"):
        RE(bp.count([det]), [42])
    assert RE.state == "idle"


def test_default_result_is_the_tuple_of_uids(RE, docs):
    uids = RE(bp.count([det], 1))
    assert isinstance(uids, tuple) and uids == (docs.start["uid"],)


def test_call_returns_result(RE_result):
    def plan():
        yield from bps.null()
        return "plan_result"

    assert RE_result.call_returns_result is True
    rs = RE_result(plan())
    assert isinstance(rs, RunEngineResult)
    assert (rs.run_start_uids, rs.plan_result, rs.exit_status) == ((), "plan_result", "success")
    assert rs.interrupted is False and rs.reason == "" and rs.exception is None
    rs = RE_result(bp.count([det], 1))
    assert len(rs.run_start_uids) == 1


@pytest.mark.parametrize(
    ("bail", "status"),
    [("resume", "success"), ("stop", "success"), ("abort", "abort"), ("halt", "abort")],
)
def test_run_decorator_runs_end_as_bluesky_says(RE_result, bail, status):
    """Bluesky's test_force_stop_exit_status: RequestStop/RequestAbort reach run_decorator."""
    stops = []
    RE_result.subscribe(lambda name, doc: stops.append(doc), "stop")

    @bpp.run_decorator()
    def paused_plan():
        yield from bps.checkpoint()
        yield from bps.pause()

    with pytest.raises(bsu.RunEngineInterrupted):
        RE_result(paused_plan())
    rs = getattr(RE_result, bail)()
    if bail == "resume":
        assert rs.interrupted is False  # run_decorator's plan returns the run's uid
        assert rs.plan_result == rs.run_start_uids[0]
    else:
        assert rs.plan_result is RE_result.NO_PLAN_RETURN and rs.interrupted is True
    RE_result.flush()
    assert rs.exit_status == status
    assert [s["exit_status"] for s in stops] == [status]
    assert stops[0]["run_start"] == rs.run_start_uids[0]


# -- Bluesky's exceptions -------------------------------------------------------------
def test_pause_raises_bluesky_run_engine_interrupted(RE):
    with pytest.raises(bsu.RunEngineInterrupted):
        RE(bpp.pchain(bps.checkpoint(), bps.pause()))
    assert RE.state == "paused"
    RE.abort()


def test_transition_errors_while_idle(RE):
    for call in (RE.resume, RE.abort, RE.stop, RE.halt, RE.request_pause):
        with pytest.raises(bsu.TransitionError) as info:
            call()
    assert bre.TransitionError is bsu.TransitionError
    copy = pickle.loads(pickle.dumps(info.value))  # still Bluesky's in this process
    assert isinstance(copy, bsu.TransitionError) and str(copy) == str(info.value)


def test_illegal_message_sequence(RE):
    @bpp.run_decorator()
    def save_without_create():
        yield from bps.save()

    with pytest.raises(bsu.IllegalMessageSequence):
        RE(save_without_create())


def test_failed_status_reaches_plan_and_caller_with_its_cause(RE, docs):
    jammed = Jammed(name="jammed")
    caught = []

    def tolerant():
        try:
            yield from bps.mv(jammed, 1)
        except bsu.FailedStatus as exc:
            caught.append(exc)

    RE(tolerant())
    assert isinstance(caught[0].__cause__, RuntimeError) and "jammed" in str(caught[0])
    with pytest.raises(bsu.FailedStatus) as info:
        RE(bp.scan([det], jammed, 0, 1, 2))
    assert str(info.value.__cause__) == "jammed"
    assert docs.stop["exit_status"] == "fail" and "jammed" in docs.stop["reason"]


def test_wait_timeout_raises_wait_for_timeout_error(RE):
    slow = SynAxis(name="slow", delay=2.0)

    def plan():
        yield from bps.abs_set(slow, 1, group="move")
        yield from bps.wait(group="move", timeout=0.05)

    with pytest.raises(bre.WaitForTimeoutError):
        RE(plan())
