"""plan_mutator, msg_mutator, make_decorator and the wrappers, mostly on the RunEngine."""

from __future__ import annotations

from typing import Any

import pytest

from cielo import Msg
from cielo.plans import (
    SupplementalData,
    baseline_wrapper,
    configure_count_time_wrapper,
    contingency_wrapper,
    finalize_wrapper,
    fly_during_wrapper,
    inject_md_wrapper,
    make_decorator,
    monitor_during_wrapper,
    msg_mutator,
    mv,
    null,
    plan_mutator,
    relative_set_wrapper,
    reset_positions_wrapper,
    run_wrapper,
    set_run_key_wrapper,
    simulate_plan,
    single_gen,
    stage_wrapper,
    subs_wrapper,
    suspend_wrapper,
    trigger_and_read,
)


def commands(plan: Any) -> list[str]:
    return [m.command for m in simulate_plan(plan).messages]


# -- plan_mutator ---------------------------------------------------------------


def test_plan_mutator_routes_the_reply_of_heads_last_message():
    seen: list[Any] = []

    def host():
        seen.append((yield Msg("read", "x")))

    def proc(msg):
        if msg.command == "read":
            return (iter([Msg("null"), Msg("locate", "x")]), None)
        return None, None

    summary = simulate_plan(plan_mutator(host(), proc))
    assert [m.command for m in summary.messages] == ["null", "locate"]
    assert seen == [{"setpoint": 0.0, "readback": 0.0}]


def test_plan_mutator_processes_inserted_messages_but_not_the_replaced_one():
    calls: list[str] = []

    def proc(msg):
        calls.append(msg.command)
        if msg.command == "sleep":
            return single_gen(msg), iter([Msg("null")])
        return None, None

    assert commands(plan_mutator([Msg("sleep", None, 1)], proc)) == ["sleep", "null"]
    assert calls == ["sleep", "null"]


def test_plan_mutator_throws_errors_into_the_host_plan():
    caught: list[str] = []

    def host():
        try:
            yield Msg("read", "x")
        except ValueError as exc:
            caught.append(str(exc))
            yield Msg("null")

    gen = plan_mutator(host(), lambda msg: (None, iter([Msg("sleep", None, 1)])))
    assert next(gen).command == "read"
    assert gen.throw(ValueError("bad")).command == "null"
    assert caught == ["bad"]


def test_plan_mutator_close_closes_the_host():
    closed: list[bool] = []

    def host():
        try:
            yield Msg("null")
            yield Msg("null")
        finally:
            closed.append(True)

    gen = plan_mutator(host(), lambda msg: (None, None))
    next(gen)
    gen.close()
    assert closed == [True]


def test_msg_mutator_replaces_and_drops():
    plan = [Msg("sleep", None, 1), Msg("null"), Msg("sleep", None, 2)]
    out = simulate_plan(
        msg_mutator(plan, lambda m: None if m.command == "null" else m._replace(args=(0,)))
    ).messages
    assert [(m.command, m.args) for m in out] == [("sleep", (0,)), ("sleep", (0,))]


def test_make_decorator_gives_a_decorator_factory():
    staged = make_decorator(run_wrapper)

    @staged(md={"sample": "Fe"})
    def my_plan(n: int):
        """My plan."""
        for _ in range(n):
            yield Msg("null")

    assert my_plan.__doc__ == "My plan."
    summary = simulate_plan(my_plan(2))
    assert [m.command for m in summary.messages] == ["open_run", "null", "null", "close_run"]
    assert summary.runs == [{"sample": "Fe"}]


# -- wrappers on the RunEngine ----------------------------------------------------


def test_run_wrapper_closes_failed_runs_with_the_reason(env, RE, docs):
    def failing():
        yield Msg("null")
        raise RuntimeError("detector on fire")

    with pytest.raises(RuntimeError, match="on fire"):
        RE(run_wrapper(failing(), md={"purpose": "test"}))
    assert docs.start["purpose"] == "test"
    assert docs.stop["exit_status"] == "fail" and "on fire" in docs.stop["reason"]


def test_finalize_and_contingency(env):
    log: list[str] = []

    def failing():
        yield Msg("null")
        raise KeyError("x")

    def cleanup():
        log.append("final")
        yield Msg("sleep", None, 0)

    with pytest.raises(KeyError):
        simulate_plan(finalize_wrapper(failing(), cleanup))
    assert log == ["final"]

    def on_error(exc):
        log.append(f"except {type(exc).__name__}")
        yield Msg("null")

    simulate_plan(
        contingency_wrapper(failing(), except_plan=on_error, final_plan=cleanup, auto_raise=False)
    )
    assert log == ["final", "except KeyError", "final"]
    simulate_plan(contingency_wrapper([Msg("null")], else_plan=lambda: iter([Msg("null")])))


def test_stage_wrapper_unstages_even_on_failure(env, RE, docs):
    det, motor = env.devices["det"], env.devices["motor"]

    def failing():
        yield Msg("null")
        raise RuntimeError("stop")

    plan = stage_wrapper(failing(), [det, motor])
    cmds: list[tuple[str, str]] = []
    with pytest.raises(RuntimeError):
        RE(msg_mutator(plan, lambda m: cmds.append((m.command, getattr(m.obj, "name", ""))) or m))
    assert cmds == [
        ("stage", "det"),
        ("stage", "motor"),
        ("null", ""),
        ("unstage", "motor"),
        ("unstage", "det"),
    ]


def test_subs_wrapper_subscribes_for_one_plan(env, RE, docs):
    det = env.devices["det"]
    mine: list[str] = []
    RE(subs_wrapper(run_wrapper(trigger_and_read([det])), {"all": lambda n, d: mine.append(n)}))
    RE(run_wrapper(trigger_and_read([det])))
    assert mine == ["start", "descriptor", "event", "stop"]
    assert len(docs.of("start")) == 2


def test_inject_md_and_run_key():
    summary = simulate_plan(
        inject_md_wrapper(run_wrapper([Msg("null")], md={"a": 1}), {"a": 0, "b": 2})
    )
    assert summary.runs == [{"a": 1, "b": 2}]
    assert {m.run for m in simulate_plan(set_run_key_wrapper([Msg("null")], "r1")).messages} == {
        "r1"
    }
    with pytest.raises(ValueError, match="run key"):
        list(set_run_key_wrapper([Msg("null")], None))


def test_suspend_wrapper_installs_and_removes():
    assert commands(suspend_wrapper([Msg("null")], ["s1", "s2"])) == [
        "install_suspender",
        "install_suspender",
        "null",
        "remove_suspender",
        "remove_suspender",
    ]


def test_relative_and_reset_positions(env, RE, docs):
    motor = env.devices["motor"]
    RE(mv(motor, 1.0))
    RE(relative_set_wrapper(mv(motor, 0.5)))
    assert motor.position == pytest.approx(1.5)
    RE(reset_positions_wrapper(mv(motor, -3.0)))
    assert motor.position == pytest.approx(1.5)


def test_configure_count_time_wrapper(env):
    det = env.devices["det"]
    plan = configure_count_time_wrapper(stage_wrapper([Msg("null")], [det]), 0.25)
    summary = simulate_plan(plan)
    assert [(m.device, m.target) for m in summary.moves] == [
        ("det_count_time", 0.25),
        ("det_count_time", 0.0),
    ]


def test_baseline_and_supplemental_data_on_the_runengine(env, RE, docs):
    det, motor, beam = env.devices["det"], env.devices["motor"], env.devices["beam_current"]
    RE(baseline_wrapper(run_wrapper(trigger_and_read([det])), [motor, beam]))
    streams = [d["name"] for d in docs.of("descriptor")]
    assert sorted(streams) == ["baseline", "primary"]
    assert docs.stop["num_events"] == {"baseline": 2, "primary": 1}

    docs.clear()
    sd = SupplementalData(baseline=[motor])
    RE(sd(run_wrapper(trigger_and_read([det]))))
    assert docs.stop["num_events"] == {"baseline": 2, "primary": 1}
    assert "SupplementalData(baseline=['motor']" in repr(sd)


def test_monitor_during_wrapper_records_updates(env, RE, docs):
    det, motor = env.devices["det"], env.devices["motor"]

    def plan():
        yield from trigger_and_read([det])
        yield from mv(motor, motor.position + 1)
        yield from trigger_and_read([det])

    RE(monitor_during_wrapper(run_wrapper(plan()), [motor.readback]))
    names = {d["name"] for d in docs.of("descriptor")}
    assert f"{motor.readback.name}_monitor" in names


def test_fly_during_wrapper_messages(env):
    flyer = env.devices["flyer"]
    cmds = commands(fly_during_wrapper(run_wrapper([Msg("null")]), [flyer]))
    assert cmds == [
        "open_run",
        "kickoff",
        "wait",
        "declare_stream",  # the sim flyer describes one stream: it must be declared
        "null",
        "complete",
        "wait",
        "collect",
        "close_run",
    ]
    assert commands(fly_during_wrapper([Msg("null")], [])) == ["null"]
    assert commands(baseline_wrapper(null(), [])) == ["null"]


def test_supplemental_data_from_profile_names(env):
    sd = SupplementalData.from_names(env.devices, baseline=["motor", "beam_current"])
    assert [d.name for d in sd.baseline] == ["motor", "beam_current"]
    with pytest.raises(Exception, match="unknown device 'moter'; did you mean 'motor'"):
        SupplementalData.from_names(env.devices, monitors=["moter"])


def test_supplemental_data_in_the_engines_preprocessors_applies_to_every_plan(env, RE, docs):
    """The issue's "supplemental data configured on the engine": baseline, monitors and
    flyers reach every plan given to RE, as RE.preprocessors finds the lists then."""
    det, motor = env.devices["det"], env.devices["motor"]
    beam, flyer = env.devices["beam_current"], env.devices["flyer"]
    sd = SupplementalData(baseline=[env.devices["motor2"]], monitors=[beam], flyers=[flyer])
    RE.preprocessors.append(sd)
    count, scan = env.plans["count"], env.plans["scan"]
    for plan in (count([det], num=3), scan([det], motor, -1, 1, 3)):
        docs.clear()
        RE(plan)
        assert docs.stop["exit_status"] == "success"
        num = docs.stop["num_events"]
        assert num["primary"] == 3 and num["baseline"] == 2
        assert num["beam_current_monitor"] >= 1 and num["flyer"] > 0

    sd.baseline.append(env.devices["motor1"])  # edited lists apply to the next plan
    docs.clear()
    RE(count([det]))
    (baseline,) = [d for d in docs.of("descriptor") if d["name"] == "baseline"]
    assert {"motor1", "motor2"} <= set(baseline["data_keys"])

    def failing():
        yield from trigger_and_read([det])
        raise RuntimeError("detector on fire")

    docs.clear()
    with pytest.raises(RuntimeError, match="on fire"):
        RE(run_wrapper(failing()))
    assert docs.stop["exit_status"] == "fail"  # closed, with what was read kept
    assert docs.stop["num_events"]["primary"] == 1 and docs.stop["num_events"]["baseline"] == 2


def test_suspend_wrapper_on_the_runengine(env, RE, docs):
    from cielo.core import SuspendFloor

    beam, det = env.devices["beam_current"], env.devices["det"]
    suspender = SuspendFloor(beam, 1.0)  # the sim beam is far above: never trips
    during: list[tuple[Any, ...]] = []

    def plan():
        yield from trigger_and_read([det])
        during.append(RE.suspenders)

    RE(suspend_wrapper(run_wrapper(plan()), suspender))
    assert during == [(suspender,)]
    assert RE.suspenders == ()
    assert docs.stop["exit_status"] == "success"
