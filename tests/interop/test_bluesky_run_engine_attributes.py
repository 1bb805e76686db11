"""The RunEngine attributes Bluesky documents, set by Bluesky-style code on cielo's engine.

Bluesky's plans, plan stubs and ophyd's simulated devices drive each attribute; the
behaviour expected is Bluesky's (see docs/engine/coming-from-bluesky.md).
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

bluesky = pytest.importorskip("bluesky")
pytest.importorskip("ophyd")

import bluesky.plan_stubs as bps  # noqa: E402
import bluesky.plans as bp  # noqa: E402
import bluesky.preprocessors as bpp  # noqa: E402
import bluesky.utils as bsu  # noqa: E402
from bluesky import Msg  # noqa: E402
from ophyd.sim import SynAxis, det, motor  # noqa: E402

pytestmark = pytest.mark.interop


def test_md_validator_refuses_before_anything_is_spent(RE, docs):
    def needs_proposal(md):
        if "proposal" not in md:
            raise ValueError("a run needs a proposal number")

    RE.md_validator = needs_proposal
    with pytest.raises(ValueError, match="proposal"):
        RE(bp.count([det]))
    assert docs.of("start") == [] and RE.md.get("scan_id", 0) == 0
    RE(bp.count([det]), proposal=7)
    assert docs.start["proposal"] == 7 and docs.start["scan_id"] == 1


def test_md_normalizer_rewrites_the_start_document(RE, docs):
    RE.md_normalizer = lambda md: {**md, "sample": str(md.get("sample", "")).upper()}
    RE(bp.count([det]), sample="si")
    assert docs.start["sample"] == "SI"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_scan_id_source(RE, docs, kind):
    """Bluesky's test_async_scan_id_source, with a plain function as well."""

    def sync_source(md):
        return 42

    async def async_source(md):
        await asyncio.sleep(0)
        return 42

    RE.scan_id_source = sync_source if kind == "sync" else async_source
    RE(bp.count([det]))
    assert docs.start["scan_id"] == 42 and RE.md["scan_id"] == 42


def test_plan_type_and_unknown_document_names(RE, docs):
    plan = bp.count([det])
    RE(plan)
    assert docs.start["plan_type"] == type(plan).__name__
    with pytest.raises(KeyError):
        RE.subscribe(print, "evnt")
    with pytest.warns(UserWarning, match="subscribe"):
        token = RE.subscribe("all", print)
    RE.unsubscribe(token)


def test_context_managers_wrap_every_call(RE):
    seen: list[str] = []

    @contextlib.contextmanager
    def announce(engine):
        seen.append(f"enter {engine.state}")
        try:
            yield
        finally:
            seen.append(f"exit {engine.state}")

    RE.context_managers.append(announce)
    with pytest.raises(bsu.RunEngineInterrupted):
        RE(bpp.pchain(bps.checkpoint(), bps.pause()))
    RE.resume()
    assert seen == ["enter idle", "exit paused", "enter paused", "exit idle"]


def test_max_depth_refuses_deep_calls(RE):
    RE.max_depth = 2

    def nested():
        return RE(bp.count([det]))

    with pytest.raises(RuntimeError, match="max_depth"):
        nested()
    RE.max_depth = None
    assert len(nested()) == 1


def test_a_subscriber_exception_reaches_the_plan_when_not_ignored(RE, docs):
    class Broken(Exception):
        pass

    def broken(name, doc):
        raise Broken("callback failed")

    assert RE.ignore_callback_exceptions is True  # cielo's default, unlike Bluesky's
    RE.ignore_callback_exceptions = False
    RE.subscribe(broken, "event")
    with pytest.raises(Exception) as info:
        RE(bp.count([det], 3))
    assert isinstance(info.value.__cause__, Broken)
    assert docs.stop["exit_status"] == "fail"


def test_lossless_subscription_is_in_step_with_the_plan(RE):
    seen: list[str] = []
    token = RE.subscribe_lossless(lambda name, doc: seen.append(name))

    def plan():
        yield from bp.count([det], 2)
        return list(seen)  # already delivered when the plan goes on

    assert RE(plan()).plan_result[-1] == "stop"
    RE.unsubscribe_lossless(token)
    RE(bp.count([det]))
    assert seen.count("start") == 1


def test_rewindable_false_makes_a_pause_abort(RE, docs):
    assert RE.rewindable is True
    RE.rewindable = False
    with pytest.raises(bsu.RunEngineInterrupted):
        RE(_paused_count())
    assert RE.state == "idle" and docs.stop["exit_status"] == "abort"


def _paused_count():
    yield from bpp.run_wrapper(bpp.pchain(bps.checkpoint(), bps.pause()))


def test_register_command_with_blueskys_handler_signature(RE):
    async def double(msg):
        await asyncio.sleep(0)
        return 2 * msg.args[0]

    RE.register_command("double", double)

    def plan():
        return (yield Msg("double", None, 21))

    assert RE(plan()).plan_result == 42


def test_waiting_hook_sees_statuses_even_when_already_done(RE):
    calls: list[object] = []
    RE.waiting_hook = calls.append
    RE(bps.mv(motor, 1))  # ophyd's SynAxis finishes at once
    assert len(calls) == 2 and calls[1] is None and len(calls[0]) == 1
    calls.clear()
    RE(bps.mv(SynAxis(name="slow", delay=0.05), 1))
    assert len(calls) == 2 and calls[1] is None


def test_msg_hook_sees_replayed_messages(RE):
    commands: list[str] = []
    RE.msg_hook = lambda msg: commands.append(msg.command)

    def plan():
        yield from bps.checkpoint()
        yield from bps.mv(motor, 2)
        yield from bps.pause()

    with pytest.raises(bsu.RunEngineInterrupted):
        RE(plan())
    RE.resume()
    assert commands.count("set") == 2  # once, then again when rewound


def test_deferred_pause_requested(RE):
    def plan():
        yield Msg("pause", defer=True)
        requested = RE.deferred_pause_requested
        yield from bps.checkpoint()
        return requested

    with pytest.raises(bsu.RunEngineInterrupted):
        RE(plan())
    assert RE.deferred_pause_requested is False
    assert RE.resume().plan_result is True
