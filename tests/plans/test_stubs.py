"""Plan stubs and composites: their messages (compared with Bluesky's) and on the RunEngine."""

from __future__ import annotations

from typing import Any

import bluesky.plan_stubs as bps
import pytest

from cielo import Msg
from cielo.plans import (
    abs_set,
    broadcast_msg,
    checkpoint,
    clear_checkpoint,
    close_run,
    collect,
    collect_while_completing,
    complete,
    complete_all,
    configure,
    create,
    deferred_pause,
    drop,
    input_plan,
    install_suspender,
    kickoff,
    kickoff_all,
    locate,
    monitor,
    mv,
    mvr,
    null,
    one_1d_step,
    one_nd_step,
    one_shot,
    open_run,
    pause,
    rd,
    read,
    remove_suspender,
    repeat,
    repeater,
    save,
    simulate_plan,
    sleep,
    stage,
    stage_all,
    stop,
    subscribe,
    trigger,
    trigger_and_read,
    unmonitor,
    unstage,
    unstage_all,
    unsubscribe,
    wait,
)


def shape(plan: Any) -> list[tuple[str, Any, tuple[Any, ...], dict[str, Any]]]:
    """Messages without group names (which are unique per call)."""
    out = []
    for m in simulate_plan(plan).messages:
        kwargs = {k: v for k, v in m.kwargs.items() if k != "group"}
        if m.command == "wait":
            kwargs = {}
        out.append((m.command, getattr(m.obj, "name", m.obj), tuple(m.args), kwargs))
    return out


@pytest.fixture
def devs(env: Any) -> dict[str, Any]:
    return env.devices


def test_single_message_stubs_match_bluesky(devs):
    det, motor, flyer = devs["det"], devs["motor"], devs["flyer"]

    def cb(name: str, doc: Any) -> None:
        pass

    pairs = [
        (create("baseline"), bps.create("baseline")),
        (save(), bps.save()),
        (drop(), bps.drop()),
        (read(det), bps.read(det)),
        (null(), bps.null()),
        (stop(motor), bps.stop(motor)),
        (sleep(0.5), bps.sleep(0.5)),
        (checkpoint(), bps.checkpoint()),
        (clear_checkpoint(), bps.clear_checkpoint()),
        (pause(), bps.pause()),
        (deferred_pause(), bps.deferred_pause()),
        (input_plan("x?"), bps.input_plan("x?")),
        (monitor(det, name="m"), bps.monitor(det, name="m")),
        (unmonitor(det), bps.unmonitor(det)),
        (stage(det), bps.stage(det)),
        (unstage(det), bps.unstage(det)),
        (configure(det, {"a": 1}), bps.configure(det, {"a": 1})),
        (subscribe("all", cb), bps.subscribe("all", cb)),
        (unsubscribe(3), bps.unsubscribe(3)),
        (install_suspender("s"), bps.install_suspender("s")),
        (remove_suspender("s"), bps.remove_suspender("s")),
        (open_run({"a": 1}), bps.open_run({"a": 1})),
        (close_run("fail", "x"), bps.close_run("fail", "x")),
        (collect(flyer), bps.collect(flyer)),
        (kickoff(flyer, wait=True), bps.kickoff(flyer, wait=True)),
        (complete(flyer), bps.complete(flyer)),
        (trigger(det), bps.trigger(det)),
        (abs_set(motor, 2, wait=True), bps.abs_set(motor, 2, wait=True)),
        (locate(motor), bps.locate(motor)),
    ]
    for ours, theirs in pairs:
        a, b = shape(ours), shape(theirs)
        assert [x[:3] for x in a] == [x[:3] for x in b]
        for (cmd, _, _, ka), (_, _, _, kb) in zip(a, b, strict=True):
            if cmd not in ("stage", "unstage", "trigger"):
                assert {k: v for k, v in ka.items() if v is not None} == {
                    k: v for k, v in kb.items() if v is not None
                }, cmd


def test_wait_carries_timeout_only_when_given():
    (msg,) = simulate_plan(wait("g", timeout=2, error_on_timeout=False)).messages
    assert msg == Msg("wait", None, group="g", timeout=2, error_on_timeout=False)
    (msg,) = simulate_plan(wait("g")).messages
    assert msg.kwargs == {"group": "g"}


def test_mv_moves_several_motors_at_once_and_mvr_relative(env, RE, docs):
    m1, m2 = env.devices["motor1"], env.devices["motor2"]
    msgs = simulate_plan(mv(m1, 1, m2, 2)).messages
    assert [m.command for m in msgs] == ["set", "set", "wait"]
    assert msgs[0].kwargs["group"] == msgs[1].kwargs["group"] == msgs[2].kwargs["group"]
    RE(mv(m1, 1.0, m2, 2.0))
    RE(mvr(m1, 0.5, m2, -1.0))
    assert (m1.position, m2.position) == pytest.approx((1.5, 1.0))
    with pytest.raises(ValueError, match="device, value pairs"):
        list(mv(m1, 1, m2))
    with pytest.raises(ValueError, match="more than once"):
        list(mv(m1, 1, m1, 2))


def test_rd_reads_single_values(env, RE):
    motor, det = env.devices["motor"], env.devices["det"]
    RE(mv(motor, 0.75))
    values: list[Any] = []

    def plan():
        values.append((yield from rd(motor)))
        values.append((yield from rd(det)))

    RE(plan())
    assert values[0] == pytest.approx(0.75)
    assert isinstance(values[1], float)
    assert list(rd(motor))[0].command == "locate"
    # without a RunEngine the default comes back
    assert simulate_plan(rd(det)).reads == {"det": 1}


def test_trigger_and_read_bundles_one_event(env, RE, docs):
    det, motor = env.devices["det"], env.devices["motor"]

    def plan():
        yield Msg("open_run")
        readings = yield from trigger_and_read([det, motor, det])
        assert set(readings) >= {"det", "motor"}
        yield Msg("close_run")

    RE(plan())
    assert len(docs.of("event")) == 1
    assert [m.command for m in simulate_plan(trigger_and_read([])).messages] == ["null"]


def test_trigger_and_read_drops_the_bundle_when_a_read_fails():
    class Broken:
        name = "broken"

        def read(self):
            raise RuntimeError

        def describe(self):
            return {}

    def plan():
        gen = trigger_and_read([Broken()])
        msg = next(gen)
        assert msg.command == "create"
        assert gen.send(None).command == "read"
        assert gen.throw(RuntimeError("boom")).command == "drop"
        with pytest.raises(RuntimeError, match="boom"):
            gen.send(None)

    plan()


def test_inner_loops(env):
    det, motor = env.devices["det"], env.devices["motor"]
    assert [m.command for m in simulate_plan(one_shot([det])).messages] == [
        "checkpoint",
        "trigger",
        "wait",
        "create",
        "read",
        "save",
    ]
    cmds = [m.command for m in simulate_plan(one_1d_step([det], motor, 1.0)).messages]
    assert cmds[:3] == ["checkpoint", "set", "wait"] and cmds.count("read") == 2
    cache: dict[Any, Any] = {}
    s1 = simulate_plan(one_nd_step([det], {motor: 1.0}, cache))
    s2 = simulate_plan(one_nd_step([det], {motor: 1.0}, cache))
    assert len(s1.moves) == 1 and len(s2.moves) == 0  # already there


def test_repeat_returns_the_last_result_and_keeps_no_others():
    shots = iter(range(100))

    def one_shot_plan():
        yield Msg("null")
        return next(shots)

    plan = repeat(one_shot_plan, num=100)
    msg = next(plan)
    try:
        while True:
            msg = plan.send(None)
    except StopIteration as done:
        assert done.value == 99
    assert msg.command == "null"


def test_repeat_with_delays_and_errors(env):
    det = env.devices["det"]
    summary = simulate_plan(repeat(lambda: trigger_and_read([det]), num=3, delay=[0.2, 0.4]))
    assert summary.events["primary"] == 3
    assert summary.duration == pytest.approx(0.6, abs=0.05)
    with pytest.raises(ValueError, match="needs 2 delays"):
        list(repeat(lambda: null(), num=3, delay=[0.1]))
    assert simulate_plan(repeat(lambda: null(), num=None), max_messages=50).commands["null"] > 10
    assert simulate_plan(repeater(4, null)).commands["null"] == 4


def test_staging_and_flying_composites(env):
    det, motor, flyer = env.devices["det"], env.devices["motor"], env.devices["flyer"]
    staged = [m.obj.name for m in simulate_plan(stage_all(det, motor, det)).messages]
    assert staged == ["det", "motor"]
    unstaged = [m.obj.name for m in simulate_plan(unstage_all(det, motor)).messages]
    assert unstaged == ["motor", "det"]
    cmds = [m.command for m in simulate_plan(kickoff_all(flyer)).messages]
    assert cmds == ["kickoff", "wait"]
    assert [m.command for m in simulate_plan(complete_all(flyer, wait=True)).messages] == [
        "complete",
        "wait",
    ]
    cmds = [
        m.command for m in simulate_plan(collect_while_completing([flyer], [flyer], 0.1)).messages
    ]
    assert cmds == ["complete", "wait", "collect"]
    assert [m.obj for m in simulate_plan(broadcast_msg("stage", [det, motor])).messages] == [
        det,
        motor,
    ]


def test_separate_devices_drops_children_of_listed_devices(env):
    from cielo.plans import separate_devices

    motor, det = env.devices["motor"], env.devices["det"]
    assert separate_devices([motor.readback, det, motor, det]) == [det, motor]
    assert separate_devices([motor.readback, det]) == [motor.readback, det]
