"""EPICS devices on the RunEngine: a scan with validated documents; a dying IOC fails the run."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from typing import Any

import pytest

from cielo import Msg
from cielo.core import DeviceError, RunEngineInterrupted, Status, SuspendFloor
from cielo.devices import Cpt, Device, connect_all
from cielo.plans import (
    abs_set,
    checkpoint,
    configure,
    install_suspender,
    monitor,
    mv,
    run_wrapper,
    sleep,
    stage,
    stage_wrapper,
    trigger_and_read,
    wait,
)
from cielo.plugins.epics import EpicsMotor, EpicsScaler, EpicsSignal, EpicsSignalRO
from cielo.plugins.scans import count, scan
from cielo.testing import DocumentCollector, make_run_engine

pytestmark = pytest.mark.epics


def collect(RE):
    """The documents of ``RE``, each validated by event-model as it arrives."""
    docs = DocumentCollector(validate=True)
    RE.subscribe(docs)
    return docs


def test_scan_motor_and_detector_pv(ioc):
    motor = EpicsMotor("CIELO:m1", separator=":", name="motor")
    det = EpicsSignalRO("CIELO:det", name="det")
    connect_all([motor, det], timeout=5)
    motor.velocity.put(20.0)
    with make_run_engine() as RE:
        docs = collect(RE)
        RE(scan([det], motor, -1.0, 1.0, num=11))
        RE.flush(5)
    names = [n for n, _ in docs]
    assert names[0] == "start" and names[-1] == "stop" and names.count("event") == 11
    descriptor = next(d for n, d in docs if n == "descriptor")
    keys = descriptor["data_keys"]
    assert keys["motor"]["source"] == "ca://CIELO:m1:RBV" and keys["motor"]["units"] == "mm"
    assert keys["det"]["source"] == "ca://CIELO:det" and keys["det"]["precision"] == 1
    assert "motor_velocity" in descriptor["configuration"]["motor"]["data"]
    events = [d for n, d in docs if n == "event"]
    positions = [e["data"]["motor"] for e in events]
    assert positions == pytest.approx([-1.0 + 0.2 * i for i in range(11)], abs=1e-6)
    peak = max(events, key=lambda e: e["data"]["det"])
    assert peak["data"]["motor"] == pytest.approx(0.6, abs=0.21)  # the IOC's peak is at 0.5
    stop = docs[-1][1]
    assert stop["exit_status"] == "success" and stop["num_events"] == {"primary": 11}
    motor.move(0.0, timeout=5)
    motor.velocity.put(10.0)


def test_count_with_the_scaler(ioc):
    scaler = EpicsScaler(
        "CIELO:scaler1", separator=":", channels={"det": 2, "clock": 1}, preset_time=0.05, name="sc"
    )
    connect_all([scaler], timeout=5)
    with make_run_engine() as RE:
        docs = collect(RE)
        RE(count([scaler], num=3))
        RE.flush(5)
    events = [d for n, d in docs if n == "event"]
    assert len(events) == 3
    assert all(e["data"]["sc_clock"] == 500_000 for e in events)
    assert docs[-1][1]["exit_status"] == "success"


@pytest.mark.filterwarnings("ignore:get_complete without initial get:UserWarning")
def test_ioc_dying_mid_scan_fails_the_run_naming_the_pv(victim_ioc):
    p = victim_ioc.prefix
    motor = EpicsMotor(p + "m1", separator=":", name="vmotor")
    det = EpicsSignalRO(p + "det", name="vdet")
    connect_all([motor, det], timeout=5)
    motor.velocity.put(50.0)
    with make_run_engine() as RE:
        docs = collect(RE)
        killed = threading.Event()

        def kill_after_third_event(name, doc):
            if name == "event" and doc["seq_num"] == 3 and not killed.is_set():
                killed.set()
                victim_ioc.kill()

        RE.subscribe(kill_after_third_event)
        with pytest.raises(Exception) as info:
            RE(scan([det], motor, 0.0, 2.0, num=200))
        RE.flush(5)
    assert killed.is_set()
    assert p in str(info.value)
    stop = docs[-1][1]
    assert docs[-1][0] == "stop"
    assert stop["exit_status"] == "fail"
    assert p in stop["reason"] and "disconnected" in stop["reason"], stop["reason"]
    assert 3 <= stop["num_events"].get("primary", 0) < 200


def test_a_hung_ioc_fails_the_run_naming_the_pv_while_the_loop_goes_on(victim_ioc):
    """SIGSTOP: the IOC's circuit stays up but nothing answers. The read waits its 2 s in a
    worker thread (EPICS devices declare ``blocking_reads``), not on the engine's loop."""
    det = EpicsSignalRO(victim_ioc.prefix + "det", name="vdet")
    connect_all([det], timeout=5)
    ticks: list[float] = []
    with make_run_engine() as RE:
        docs = collect(RE)
        hung = threading.Event()

        def hang_after_third_event(name, doc):
            if name == "event" and doc["seq_num"] == 3 and not hung.is_set():
                hung.set()
                os.kill(victim_ioc.pid, signal.SIGSTOP)

        def tick() -> None:
            ticks.append(time.monotonic())
            RE.loop.call_later(0.01, tick)

        RE.subscribe(hang_after_third_event)
        RE.loop.call_soon_threadsafe(tick)
        try:
            with pytest.raises(DeviceError) as info:
                RE(count([det], num=200, delay=0.01))
        finally:
            os.kill(victim_ioc.pid, signal.SIGCONT)
        RE.flush(5)
    assert hung.is_set()
    assert f"{victim_ioc.prefix}det: the read failed: no answer within 2 s" in str(info.value)
    stop = docs[-1][1]
    assert stop["exit_status"] == "fail" and f"{victim_ioc.prefix}det" in stop["reason"]
    assert 3 <= stop["num_events"]["primary"] < 200
    worst = max(b - a for a, b in itertools.pairwise(ticks))
    assert worst < 1.0, f"the loop stood still for {worst:.2f} s (the read blocks it: 2 s)"


def test_a_run_that_cannot_connect_is_refused_before_it_opens(ioc, tmp_path, capsys):
    """`profile check` fails naming the PV; `cielo run` refuses (exit 2), spending no scan id."""
    import json

    from cielo.cli import main
    from cielo.core.engine import default_state_file

    path = tmp_path / "ghost.toml"
    path.write_text(
        '[devices.det]\ntype = "epics.signal"\npv = "CIELO:det"\nread_only = true\n'
        '[devices.ghost]\ntype = "epics.signal"\npv = "CIELO:nosuch"\nread_only = true\n'
    )
    assert main(["profile", "check", str(path), "--timeout", "1"]) == 1
    err = capsys.readouterr().err
    assert "ghost.toml: devices did not connect: 1 of 2 signals" in err
    assert "ca://CIELO:nosuch: timed out" in err and "CIELO:det" not in err
    state = default_state_file()
    before = json.loads(state.read_text()).get("scan_id") if state.exists() else None
    assert main(["run", "-q", "--profile", str(path), "count([ghost, det])"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "ca://CIELO:nosuch: timed out" in captured.err
    after = json.loads(state.read_text()).get("scan_id") if state.exists() else None
    assert after == before  # no run was opened
    assert main(["run", "-q", "--profile", str(path), "count([det])"]) == 0  # det alone runs


def _loop_ticks(RE) -> list[float]:
    """Times at which a 10 ms ticker on the engine's loop ran (filled while plans run)."""
    ticks: list[float] = []

    def tick() -> None:
        ticks.append(time.monotonic())
        RE.loop.call_later(0.01, tick)

    RE.loop.call_soon_threadsafe(tick)
    return ticks


def _fails_on_hung_ioc(victim_ioc, plan):
    """Run ``plan`` on a fresh RunEngine whose loop a 10 ms ticker watches, resuming the
    IOC whatever happens: (the error it raised, when, the documents, the loop's worst gap)."""
    return _fails_watched(plan, lambda: os.kill(victim_ioc.pid, signal.SIGCONT))


def _fails_watched(plan, finally_=lambda: None):
    """``plan`` on a fresh RunEngine whose loop a 10 ms ticker watches; ``finally_()``
    whatever happens: (the error it raised, when, the documents, the loop's worst gap)."""
    with make_run_engine() as RE:
        docs = collect(RE)
        ticks = _loop_ticks(RE)
        try:
            with pytest.raises(Exception) as info:
                RE(plan)
            failed_at = time.monotonic()
        finally:
            finally_()
        RE.flush(5)
    return info.value, failed_at, docs, max(b - a for a, b in itertools.pairwise(ticks))


def test_a_move_on_a_hung_ioc_fails_in_bounded_time_naming_the_pv(victim_ioc):
    """SIGSTOP mid-move: the put never completes and DMOV never changes. The motor asks
    its IOC for DMOV every half second; no answer within answer_timeout fails the move
    naming the PV (libca alone takes EPICS_CA_CONN_TMO, 30 s by default), and the run
    ends with exit status fail."""
    p = victim_ioc.prefix
    motor = EpicsMotor(p + "m1", separator=":", name="hmotor", answer_timeout=0.5)
    connect_all([motor], timeout=5)
    motor.velocity.put(1.0)  # 5 s to the target: still moving when the IOC stops
    hung_at: list[float] = []

    def plan():
        yield from abs_set(motor, 5.0, group="move")
        yield from sleep(0.3)
        assert motor.motor_done_move.get() == 0  # moving
        os.kill(victim_ioc.pid, signal.SIGSTOP)
        hung_at.append(time.monotonic())
        yield from wait(group="move")

    error, failed_at, docs, worst = _fails_on_hung_ioc(victim_ioc, run_wrapper(plan()))
    failed_after = failed_at - hung_at[0]
    message = str(error)
    assert f"{p}m1:DMOV did not answer within 0.5 s" in message, message
    assert "the move to 5 was abandoned" in message and "answer_timeout" in message
    assert failed_after < 1.9, failed_after  # before libca's own 2 s (this suite's CONN_TMO)
    stop = docs[-1][1]
    assert docs[-1][0] == "stop" and stop["exit_status"] == "fail"
    assert f"{p}m1:DMOV" in stop["reason"]
    assert worst < 0.4, f"the loop stood still for {worst:.2f} s"


def test_setting_a_motor_whose_ioc_hung_never_blocks_the_loop(victim_ioc):
    """The soft limits and start position are read with gets the loop does not wait for:
    on a hung IOC the move fails after answer_timeout naming the PV, the loop turning
    meanwhile (it stood still 2 s per read when set() read them itself)."""
    p = victim_ioc.prefix
    motor = EpicsMotor(p + "m1", separator=":", name="hmotor", answer_timeout=0.5)
    connect_all([motor], timeout=5)

    def plan():
        os.kill(victim_ioc.pid, signal.SIGSTOP)
        yield from mv(motor, 1.0)

    error, _, docs, worst = _fails_on_hung_ioc(victim_ioc, run_wrapper(plan()))
    message = str(error)
    assert "did not answer within 0.5 s, so the move to 1 was not started" in message
    assert p + "m1:" in message and "is the IOC hung?" in message
    assert docs[-1][0] == "stop" and docs[-1][1]["exit_status"] == "fail"
    assert worst < 0.4, f"the loop stood still for {worst:.2f} s (a get on it waits 0.5 s)"
    # once the IOC answers again, the same motor moves (and a target outside the limits
    # fails the move with the limits named, from the loop as from a script)
    with make_run_engine() as RE:
        RE(mv(motor, 0.5))
        assert motor.position == pytest.approx(0.5, abs=1e-3)
        with pytest.raises(Exception, match=r"outside the soft limits \[-10, 10\]"):
            RE(mv(motor, 25.0))


def test_a_count_on_a_hung_ioc_fails_in_bounded_time_naming_the_pv(victim_ioc):
    """The scaler checks its IOC while counting as the motor does while moving."""
    p = victim_ioc.prefix
    scaler = EpicsScaler(
        p + "scaler1", separator=":", preset_time=3.0, name="hscaler", answer_timeout=0.5
    )
    connect_all([scaler], timeout=5)
    scaler.stage()
    try:
        status = scaler.trigger()  # 3 s of counting
        time.sleep(0.3)
        os.kill(victim_ioc.pid, signal.SIGSTOP)
        hung_at = time.monotonic()
        with pytest.raises(DeviceError) as info:
            status.wait(10)
        failed_after = time.monotonic() - hung_at
    finally:
        os.kill(victim_ioc.pid, signal.SIGCONT)
    message = str(info.value)
    assert f"hscaler: {p}scaler1:CNT did not answer within 0.5 s" in message, message
    assert "the count was abandoned" in message
    assert failed_after < 1.9, failed_after
    with pytest.raises(ValueError, match=r"answer_timeout=0: give a positive number"):
        EpicsScaler(p + "scaler1", separator=":", answer_timeout=0)


def test_staging_a_scaler_whose_ioc_hung_never_blocks_the_loop(victim_ioc):
    """stage() writes the preset time; on the loop the engine awaits that write, which a
    hung IOC fails after answer_timeout naming the PV (the loop used to wait in put())."""
    p = victim_ioc.prefix
    scaler = EpicsScaler(
        p + "scaler1", separator=":", preset_time=0.1, name="hscaler", answer_timeout=0.5
    )
    connect_all([scaler], timeout=5)
    os.kill(victim_ioc.pid, signal.SIGSTOP)
    error, _, _, worst = _fails_on_hung_ioc(victim_ioc, count([scaler], num=2))
    message = str(error)
    assert f"{p}scaler1:TP did not complete the write of 0.1 within 0.5 s" in message, message
    assert worst < 0.4, f"the loop stood still for {worst:.2f} s"


def test_triggering_a_scaler_whose_ioc_hung_never_blocks_the_loop(victim_ioc):
    """trigger() watches CNT with a CA monitor (no get first) and writes CNT=1, waiting
    for nothing: on an IOC that hung before the count, it fails after answer_timeout naming
    the PV, the loop turning (watching CNT used to read it first, on the loop: 2 s)."""
    p = victim_ioc.prefix
    scaler = EpicsScaler(p + "scaler1", separator=":", name="hscaler", answer_timeout=0.5)
    connect_all([scaler], timeout=5)  # no preset time: staging writes nothing
    os.kill(victim_ioc.pid, signal.SIGSTOP)
    error, _, docs, worst = _fails_on_hung_ioc(victim_ioc, count([scaler], num=2))
    message = str(error)
    assert f"hscaler: {p}scaler1:CNT did not answer within 0.5 s" in message, message
    assert "the count was abandoned" in message and "is the IOC hung?" in message
    assert docs[-1][0] == "stop" and docs[-1][1]["exit_status"] == "fail"
    assert f"{p}scaler1:CNT" in docs[-1][1]["reason"]
    assert worst < 0.4, f"the loop stood still for {worst:.2f} s (a get on it waits 2 s)"


def test_monitoring_an_epics_signal_records_its_updates_off_the_loop(ioc, victim_ioc):
    """Msg('monitor') of an EPICS signal subscribes in a worker thread (subscribing reads
    the current value: on a hung IOC 2 s, once on the loop) and records each update's own
    value, reading nothing more; a hung IOC fails the run naming the PV."""
    ai = EpicsSignalRO(ioc.prefix + "ai", name="ai")
    ao = EpicsSignal(ioc.prefix + "ao", name="ao")
    connect_all([ai, ao], timeout=5)
    ao.put(0.0)
    with make_run_engine() as RE:
        docs = collect(RE)

        def plan():
            yield from monitor(ai)
            for value in (1.0, 2.0, 3.0):
                yield from mv(ao, value)
                yield from sleep(0.05)

        RE(run_wrapper(plan()))
        RE.flush(5)
    values = [doc["data"]["ai"] for name, doc in docs if name == "event"]
    assert values == [0.0, 1.0, 2.0, 3.0]
    hung = EpicsSignalRO(victim_ioc.prefix + "det", name="hung")
    connect_all([hung], timeout=5)
    os.kill(victim_ioc.pid, signal.SIGSTOP)
    error, _, docs, worst = _fails_on_hung_ioc(victim_ioc, run_wrapper(monitor(hung)))
    assert f"{victim_ioc.prefix}det: the read failed: no answer within 2 s" in str(error)
    assert docs[-1][0] == "stop" and docs[-1][1]["exit_status"] == "fail"
    assert worst < 0.4, f"the loop stood still for {worst:.2f} s (subscribing on it: 2 s)"


def test_a_suspender_and_a_resumed_monitor_on_a_hung_ioc_never_block_the_loop(ioc, victim_ioc):
    """Installing a suspender on an EPICS signal, and resuming a paused plan's monitor of
    one, subscribe in a worker thread (subscribing reads the value: 2 s on the loop for a
    hung IOC). The suspender fails the plan naming the PV; the monitor that cannot be
    restored is logged and the plan goes on."""
    p = victim_ioc.prefix
    beam = EpicsSignalRO(p + "det", name="beam")
    det = EpicsSignalRO(ioc.prefix + "det", name="det")
    connect_all([beam, det], timeout=5)
    os.kill(victim_ioc.pid, signal.SIGSTOP)
    plan = run_wrapper(install_suspender(SuspendFloor(beam, 0.5)))
    error, _, docs, worst = _fails_on_hung_ioc(victim_ioc, plan)
    assert f"{p}det: the read failed: no answer within 2 s" in str(error), error
    assert docs[-1][0] == "stop" and docs[-1][1]["exit_status"] == "fail"
    assert worst < 0.4, f"the loop stood still for {worst:.2f} s (subscribing on it: 2 s)"

    def paused_plan():
        yield from monitor(beam)
        yield from checkpoint()
        yield Msg("pause")
        yield from trigger_and_read([det])

    with make_run_engine() as RE:
        docs = collect(RE)
        with pytest.raises(RunEngineInterrupted):
            RE(run_wrapper(paused_plan()))
        os.kill(victim_ioc.pid, signal.SIGSTOP)
        ticks = _loop_ticks(RE)
        try:
            RE.resume()
        finally:
            os.kill(victim_ioc.pid, signal.SIGCONT)
        RE.flush(5)
    worst = max(b - a for a, b in itertools.pairwise(ticks))
    assert docs[-1][0] == "stop" and docs[-1][1]["exit_status"] == "success"
    assert worst < 0.4, f"the loop stood still for {worst:.2f} s (resubscribing on it: 2 s)"


class _Settings(Device):
    """Two settings of the demo IOC that a plan stages (as a detector's gain and mode)."""

    ao = Cpt(EpicsSignal, suffix="ao", kind="config")
    bo = Cpt(EpicsSignal, suffix="bo", kind="config")


def test_reading_a_device_of_epics_signals_whose_ioc_hung_never_blocks_the_loop(victim_ioc):
    """A plain Device declaring EPICS components declares blocking_reads with them, so the
    engine reads it in a worker thread: the read's 2 s pass with the loop turning."""

    class Readings(Device):
        det = Cpt(EpicsSignalRO, suffix="det")

    assert Readings.blocking_reads
    dev = Readings(victim_ioc.prefix, name="readings")
    connect_all([dev], timeout=5)
    os.kill(victim_ioc.pid, signal.SIGSTOP)
    error, _, docs, worst = _fails_on_hung_ioc(victim_ioc, count([dev], num=2))
    assert f"{victim_ioc.prefix}det: the read failed: no answer within 2 s" in str(error)
    assert docs[-1][0] == "stop" and docs[-1][1]["exit_status"] == "fail"
    assert worst < 0.4, f"the loop stood still for {worst:.2f} s (a read on it waits 2 s)"


def test_staging_a_device_whose_ioc_hung_never_blocks_the_loop(ioc, victim_ioc):
    """stage() reads each stage_sigs signal before writing it; the RunEngine calls it in a
    worker thread (the signals are EPICS ones), so on a hung IOC the read's 2 s pass with
    the loop turning (it stood still 2 s per signal), and the run fails naming the PV."""
    p = victim_ioc.prefix
    settings = _Settings(p, name="settings")
    settings.stage_sigs = {"ao": 2.5, "bo": "On"}
    det = EpicsSignalRO(ioc.prefix + "det", name="det")
    connect_all([settings, det], timeout=5)
    assert settings.blocking_stage

    def plan():
        yield from stage(settings)
        yield from trigger_and_read([det])

    os.kill(victim_ioc.pid, signal.SIGSTOP)
    error, _, docs, worst = _fails_on_hung_ioc(victim_ioc, run_wrapper(plan()))
    message = str(error)
    assert f"{p}ao: the read failed: no answer within 2 s" in message, message
    assert f"is the IOC hung? check it, e.g. caget {p}ao" in message
    stop = docs[-1][1]
    assert docs[-1][0] == "stop" and stop["exit_status"] == "fail", docs[-1]
    assert f"{p}ao" in stop["reason"] and stop["num_events"] == {}
    assert worst < 0.4, f"the loop stood still for {worst:.2f} s (a get on it waits 2 s)"


def test_configuring_a_device_whose_ioc_hung_never_blocks_the_loop(victim_ioc):
    """configure() reads the configuration before and after writing: the RunEngine calls
    it in a worker thread, as it stages the device; a hung IOC fails it naming the PV."""
    p = victim_ioc.prefix
    settings = _Settings(p, name="settings")
    connect_all([settings], timeout=5)
    assert _Settings.blocking_reads  # its components are EPICS signals
    os.kill(victim_ioc.pid, signal.SIGSTOP)
    plan = run_wrapper(configure(settings, {"ao": 1.5}))
    error, _, docs, worst = _fails_on_hung_ioc(victim_ioc, plan)
    assert f"{p}ao: the read failed: no answer within 2 s" in str(error), error
    assert docs[-1][0] == "stop" and docs[-1][1]["exit_status"] == "fail"
    assert worst < 0.4, f"the loop stood still for {worst:.2f} s (a get on it waits 2 s)"


def test_unstaging_a_device_whose_ioc_hung_never_blocks_the_loop(ioc, victim_ioc):
    """unstage() restores the old values in reverse order, each write waiting at most
    stage_timeout: on an IOC that hung mid-run it tries both, in a worker thread, and one
    error names both PVs and the fix (a write used to wait on the loop until libca gave
    up on the circuit). The run itself had ended: its exit status is success."""
    p = victim_ioc.prefix
    settings = _Settings(p, name="settings")
    det = EpicsSignalRO(ioc.prefix + "det", name="det")
    connect_all([settings, det], timeout=5)
    settings.ao.put(1.0)
    settings.bo.put("Off")
    settings.stage_sigs = {"ao": 2.5, "bo": "On"}
    settings.stage_timeout = 0.5

    def events():
        for _ in range(3):
            yield from trigger_and_read([det])
        assert (settings.ao.get(), settings.bo.get()) == (2.5, "On")  # staged
        os.kill(victim_ioc.pid, signal.SIGSTOP)

    plan = stage_wrapper(run_wrapper(events()), [settings])
    error, _, docs, worst = _fails_on_hung_ioc(victim_ioc, plan)
    message = str(error)
    for signal_name, pv, old in (("bo", "bo", "'Off'"), ("ao", "ao", "1.0")):
        assert (
            f"the write of {old} to settings_{signal_name} (ca://{p}{pv}) did not complete "
            f"within 0.5 s, so settings_{signal_name} was not restored to {old}"
        ) in message, message
    assert message.index("settings_bo") < message.index("settings_ao")  # reverse order
    assert "settings.stage_timeout waits longer" in message
    stop = docs[-1][1]
    assert docs[-1][0] == "stop" and stop["exit_status"] == "success"
    assert stop["num_events"] == {"primary": 3}
    assert worst < 0.4, f"the loop stood still for {worst:.2f} s"
    time.sleep(0.2)  # the IOC resumed: the restores it had been sent complete
    assert (settings.ao.get(), settings.bo.get()) == (1.0, "Off")


@pytest.mark.parametrize("kind", ["signal", "motor"])
def test_setting_a_pv_that_never_connected_never_blocks_the_loop(ioc, monkeypatch, kind):
    """set() of a PV no IOC serves: the connection is waited for with callbacks (set()
    used to wait for it on the loop, 5 s), and the run fails naming the PV."""
    monkeypatch.setattr("cielo.plugins.epics._backend.AUTO_CONNECT_TIMEOUT", 1.0)
    if kind == "signal":
        target: Any = EpicsSignal("NOSUCH:setting", name="ghost")
    else:
        target = EpicsMotor("NOSUCH:m9", separator=":", name="ghost")
    error, _, docs, worst = _fails_watched(run_wrapper(mv(target, 1.0)))
    message = str(error)
    assert "NOSUCH:" in message and "is not connected: it never connected" in message, message
    assert "no IOC answered for it within 1 s" in message and "EPICS_CA_ADDR_LIST" in message
    assert docs[-1][0] == "stop" and docs[-1][1]["exit_status"] == "fail"
    assert "NOSUCH:" in docs[-1][1]["reason"]
    assert worst < 0.4, f"the loop stood still for {worst:.2f} s (it waited 1 s for the PV)"


def test_checking_a_done_flag_never_holds_the_callback_threads(victim_ioc):
    """A put that completed with the done flag never seen busy is checked by getting the
    flag (and the position) with callbacks: on a hung IOC, the dispatcher thread, which
    delivers every monitor update and put completion, and the timer thread go on (each
    used to wait 2 s in a get)."""
    from cielo.plugins.epics._done import DoneWatcher
    from cielo.plugins.epics._transport import dispatch, schedule

    motor = EpicsMotor(victim_ioc.prefix + "m1", separator=":", name="vm")
    connect_all([motor], timeout=5)
    flag = motor.motor_done_move
    at_target, grace = Status(), Status()  # two moves' statuses, and their puts
    DoneWatcher(
        at_target, flag, busy=0, done=1, position=motor.user_readback, arrived=lambda _: True
    ).track_put(at_target_put := Status())
    DoneWatcher(grace, flag, busy=0, done=1).track_put(grace_put := Status())
    marks: list[float] = []
    os.kill(victim_ioc.pid, signal.SIGSTOP)
    try:
        start = time.monotonic()
        dispatch(at_target_put.set_finished)  # put completions come on the dispatcher
        dispatch(grace_put.set_finished)
        dispatch(lambda: marks.append(time.monotonic()))
        schedule(0.6, lambda: marks.append(time.monotonic()))  # after the 0.5 s grace
        deadline = time.monotonic() + 6
        while len(marks) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        os.kill(victim_ioc.pid, signal.SIGCONT)
    assert len(marks) == 2
    assert marks[0] - start < 0.3, f"the dispatcher was held {marks[0] - start:.2f} s"
    assert marks[1] - start < 0.9, f"the timer thread was held {marks[1] - start - 0.6:.2f} s"
    # the IOC answers again: the flag reads done, so both end as moves that needed no motion
    at_target.wait(5)
    grace.wait(5)
