"""Behaviour in messages and documents that Bluesky-written plans rely on, on cielo's engine.

Bluesky's plan stubs, suspenders and ophyd's devices and statuses drive each case.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

bluesky = pytest.importorskip("bluesky")
ophyd = pytest.importorskip("ophyd")

import bluesky.plan_stubs as bps  # noqa: E402
import bluesky.preprocessors as bpp  # noqa: E402
import bluesky.run_engine as bre  # noqa: E402
import bluesky.utils as bsu  # noqa: E402
from bluesky import Msg  # noqa: E402
from bluesky.suspenders import SuspendFloor  # noqa: E402
from ophyd.sim import SynAxis, det, motor  # noqa: E402
from ophyd.status import StatusBase  # noqa: E402

pytestmark = pytest.mark.interop


def test_monitor_records_only_what_the_signal_reports(RE, docs):
    sig = ophyd.Signal(name="temperature", value=20.0)

    @bpp.run_decorator()
    def plan():
        yield from bps.monitor(sig, name="temps")
        yield from bps.sleep(0.05)
        sig.put(21.0)
        yield from bps.sleep(0.05)
        yield from bps.unmonitor(sig)

    RE(plan())
    assert [d["data"]["temperature"] for d in docs.of("event")] == [21.0]


def test_locate_of_several_objects_runs_concurrently(RE):
    class Slow:
        def __init__(self, name):
            self.name, self.parent = name, None

        async def locate(self):
            await asyncio.sleep(0.3)
            return {"setpoint": 1.0, "readback": 1.0}

    t0 = time.monotonic()
    located = RE(bps.locate(Slow("a"), Slow("b"), Slow("c"))).plan_result
    assert len(located) == 3 and time.monotonic() - t0 < 0.75


def test_a_suspender_installed_by_a_plan_stays_installed(RE):
    beam = ophyd.Signal(name="beam", value=500.0)
    suspender = SuspendFloor(beam, 100)
    RE(bps.install_suspender(suspender))
    assert suspender in RE.suspenders
    RE(bps.remove_suspender(suspender))
    assert RE.suspenders == ()


def test_stage_needs_both_stage_and_unstage(RE):
    """Bluesky's test_need_both_stage_and_unstage_for_stagable and test_pause_resume_devices."""

    class StageOnly:
        def stage(self):
            raise RuntimeError("stage() called on an object that cannot be unstaged")

    class PauseOnly:
        name = "pause_only"

        def __init__(self):
            self.calls = []

        def pause(self):
            self.calls.append("pause")

        def resume(self):
            self.calls.append("resume")

    RE([Msg("stage", StageOnly()), Msg("unstage", StageOnly())])
    device = PauseOnly()
    with pytest.raises(bsu.RunEngineInterrupted):
        RE([Msg("stage", device), Msg("pause")])
    RE.resume()
    assert device.calls == ["pause", "resume"]


def test_refusals(RE):
    from ophyd.sim import MockFlyer

    flyer = MockFlyer("flyer", det, SynAxis(name="fx"), 0, 1, 3)
    with pytest.raises(bsu.IllegalMessageSequence, match="kickoff"):
        RE(bps.kickoff(flyer))

    @bpp.run_decorator()
    def configure_inside_a_bundle():
        yield from bps.create()
        yield from bps.configure(motor, {"velocity": 1})

    with pytest.raises(bsu.IllegalMessageSequence, match="configure"):
        RE(configure_inside_a_bundle())


def test_wait_timeouts(RE):
    slow = SynAxis(name="slow", delay=0.6)

    def plan():
        yield from bps.abs_set(slow, 1, group="move")
        done = yield from bps.wait(group="move", timeout=0.05, error_on_timeout=False)
        try:
            yield from bps.wait(group="move", timeout=0.05)
        except bre.WaitForTimeoutError:
            timed_out_again = True
        finished = yield from bps.wait(group="move")
        return done, timed_out_again, finished

    assert RE(plan()).plan_result == (False, True, True)


def test_a_pause_where_the_plan_cannot_rewind_aborts_it(RE, docs):
    @bpp.run_decorator()
    def plan():
        yield from bps.clear_checkpoint()
        yield from bps.pause()

    with pytest.raises(bsu.RunEngineInterrupted):
        RE(plan())
    assert RE.state == "idle" and docs.stop["exit_status"] == "abort"


def test_a_status_done_before_it_is_finished_does_not_freeze_the_engine(RE):
    """The freeze: ophyd's exception() without a timeout waits for the outcome forever."""

    class EarlyDone(StatusBase):
        @property
        def done(self):
            return True

    class Quirky(ophyd.Signal):
        def set(self, value, **kwargs):
            return EarlyDone()

    outcome: list[object] = []

    def run():
        try:
            outcome.append(RE(bps.mv(Quirky(name="quirky"), 1)))
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "RE() froze on a status that reported done early"
    assert len(outcome) == 1  # it reports success, so the plan goes on (as the status says)


def test_keyboard_interrupt_in_a_plan_aborts_the_run(RE, docs):
    @bpp.run_decorator()
    def plan():
        yield from bps.null()
        raise KeyboardInterrupt

    with pytest.raises(bsu.RunEngineInterrupted):
        RE(plan())
    assert RE.state == "idle" and docs.stop["exit_status"] == "abort"


def test_a_failing_suspender_pre_plan_is_thrown_into_the_plan(RE):
    cleaned = []
    beam = ophyd.Signal(name="beam", value=500.0)

    def broken_pre_plan():
        yield from bps.null()
        raise RuntimeError("shutter would not close")

    RE.install_suspender(SuspendFloor(beam, 100, resume_thresh=400, pre_plan=broken_pre_plan))

    def plan():
        try:
            yield from bps.checkpoint()
            beam.put(10.0)  # trips the suspender
            yield from bps.sleep(0.5)
        finally:
            cleaned.append(True)

    with pytest.raises(RuntimeError, match="shutter"):
        RE(plan())
    assert cleaned == [True]
    beam.put(500.0)


def test_wait_for_reports_every_failure(RE):
    async def fails(text):
        await asyncio.sleep(0.01)
        raise ValueError(text)

    with pytest.raises(ValueError, match="first") as info:
        RE(bps.wait_for([lambda: fails("first"), lambda: fails("second")]))
    assert any("second" in note for note in info.value.__notes__)


def test_a_failing_describe_inside_a_bundle_leaves_the_cleanup_free(RE, docs):
    class Broken(ophyd.Signal):
        def describe(self):
            raise ConnectionError("detector went away")

    broken = Broken(name="broken")

    @bpp.run_decorator()
    def plan():
        try:
            yield from bps.trigger_and_read([det, broken])
        finally:
            yield from bps.trigger_and_read([det], name="cleanup")

    with pytest.raises(ConnectionError, match="went away"):
        RE(plan())
    assert [d["name"] for d in docs.of("descriptor")] == ["cleanup"]


def test_an_old_style_flyer_gives_configuration_and_asset_documents(RE, docs):
    import bluesky.plans as bp
    from ophyd.sim import MockFlyer

    class FileWritingFlyer(MockFlyer):
        def read_configuration(self):
            return {"f_rate": {"value": 10.0, "timestamp": 0.0}}

        def describe_configuration(self):
            return {"f_rate": {"source": "SIM:rate", "dtype": "number", "shape": []}}

        def collect_asset_docs(self):
            resource = {
                "uid": "r1",
                "spec": "AD_HDF5",
                "root": "/",
                "resource_path": "f.h5",
                "resource_kwargs": {},
                "path_semantics": "posix",
            }
            yield "resource", resource
            yield "datum", {"datum_id": "r1/0", "resource": "r1", "datum_kwargs": {}}

    flyer = FileWritingFlyer("f", det, SynAxis(name="fx"), 0, 1, 3)
    RE(bp.fly([flyer]))
    names = [n for n, _ in docs]
    assert names.index("resource") < names.index("datum") < names.index("event_page")
    descriptor = docs.of("descriptor")[0]
    assert descriptor["configuration"]["f"]["data"] == {"f_rate": 10.0}
    assert docs.of("resource")[0]["run_start"] == docs.start["uid"]


def test_flyers_never_collected_are_collected_when_the_run_closes(RE, docs):
    from ophyd.sim import MockFlyer

    flyer = MockFlyer("f", det, SynAxis(name="fx"), 0, 1, 3)

    @bpp.run_decorator()
    def kickoff_only():
        yield from bps.kickoff(flyer, wait=True)
        yield from bps.complete(flyer, wait=True)

    RE(kickoff_only())
    assert len(docs.of("event_page")) == 1 and docs.stop["num_events"] == {"f": 3}


def test_wait_with_watch_ends_when_a_watched_group_fails(RE):
    slow, watched = StatusBase(), StatusBase()

    class Stager:
        def __init__(self, name, status):
            self.name, self.parent, self._status = name, None, status

        def stage(self):
            return self._status

        def unstage(self):
            return []

    def plan():
        yield Msg("stage", Stager("slow", slow), group="main")
        yield Msg("stage", Stager("watched", watched), group="watch")
        threading.Timer(0.1, watched.set_exception, (RuntimeError("beam dump"),)).start()
        yield from bps.wait(group="main", watch=("watch",), timeout=5)

    start = time.monotonic()
    with pytest.raises(bsu.FailedStatus):
        RE(plan())
    assert time.monotonic() - start < 3 and not slow.done


def test_the_stop_reason_is_what_bluesky_writes(RE, docs):
    @bpp.run_decorator()
    def plan():
        yield from bps.null()
        raise ValueError("the sample fell off")

    with pytest.raises(ValueError):
        RE(plan())
    assert docs.stop["reason"] == str(ValueError("the sample fell off"))


def test_md_versions_name_bluesky_and_ophyd(RE, docs):
    from bluesky.plans import count

    assert RE.md["versions"]["bluesky"] == bluesky.__version__
    assert RE.md["versions"]["ophyd"] == ophyd.__version__
    RE(count([det]))
    versions = docs.start["versions"]
    assert versions["bluesky"] == bluesky.__version__ and versions["ophyd"] == ophyd.__version__
    assert "cielo" in versions and "event_model" in versions


def test_one_data_key_in_two_streams_is_refused_as_bluesky_does(RE, docs):
    class MultiKeyOldCollectable:
        """An old-style flyer (Bluesky's own test double) putting one key in two streams."""

        name, parent = "det", None

        def kickoff(self):
            return StatusBase(success=True, done=True)

        def complete(self):
            return StatusBase(success=True, done=True)

        def describe_collect(self):
            key = {"source": "pv", "dtype": "number", "shape": []}
            return {"stream1": {"det-pv1": key}, "stream2": {"det-pv1": key}}

        def collect(self):
            yield {"data": {"det-pv1": 1}, "timestamps": {"det-pv1": 100}, "time": 100}

    def collect_plan(flyer):
        yield from bps.open_run()
        yield from bps.collect(flyer)
        yield from bps.close_run()

    with pytest.raises(RuntimeError, match="Can't use identical data keys in multiple streams"):
        RE(collect_plan(MultiKeyOldCollectable()))
    assert docs.of("descriptor") == []


def test_a_read_returning_none_and_an_expired_wait_for(RE):
    class Dummy:
        name, parent = "broken read", None

        def read(self): ...

        def describe(self):
            return {}

    with pytest.raises(RuntimeError):
        RE([Msg("read", Dummy())])

    async def never():
        await asyncio.sleep(10)

    with pytest.raises(bre.WaitForTimeoutError, match="Plan failed to complete in the specified"):
        RE(bps.wait_for([never], timeout=0.01))
