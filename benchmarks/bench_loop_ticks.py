"""The engine's event loop while a plan runs: the worst gap between two ticks, cielo and
Bluesky side by side in the same process.

Run: ``.venv/bin/python benchmarks/bench_loop_ticks.py [--points N] [--only LABEL]
[--engines cielo,cielo/own,bluesky] [--stacks MS]``. Figures are printed, not asserted.
``cielo/own`` is cielo running its own plans (the scans plugin's ``count``, cielo's
``Msg``) on the same detectors; ``--stacks 10`` prints, for every tick over 10 ms late,
where the loop's thread was (and its scheduler state: R waits for a core) and what the
process's other threads were running.

A ticker coroutine on the engine's loop asks to wake every millisecond and records how
late each wake-up is; the worst gap is how long nothing else on the loop ran (no status
callback, no pause request, no timeout). Next to it: the CPU time the loop's thread used
during that gap (a gap with little CPU is the thread waiting: for a core or the GIL, which
is load on the machine, or in a blocking call), how many gaps were longer than 10 ms, and
the longest garbage collection that ran on the loop's thread during the plan. The same Bluesky plans (``bluesky.plans.count`` of
ophyd's simulated detector) run on both engines:

* ``no subscriber``: the engine alone;
* ``slow subscriber``: a subscriber taking 2 ms per document (a live plot, a slow disk);
  Bluesky calls it on the loop thread, cielo in its own thread with a buffer;
* ``slow subscriber, small buffer``: cielo with ``callback_buffer=20``, so the buffer
  fills and back-pressure applies;
* ``1 kHz count, 20 ms subscriber``: a count with ``delay=0.001`` and a subscriber
  taking 20 ms per document (issue 14's workload);
* ``300k null messages``: a plan of ``Msg("null")`` only;
* ``blocking read (20 ms)``: a detector whose ``read()`` sleeps 20 ms (a blocking
  device call);
* ``EPICS scan, IOC killed`` and ``EPICS scan, IOC hung``: ``bluesky.plans.scan`` of the
  demo IOC's motor (softioc on loopback) reading a detector PV served by a second demo
  IOC, which is killed (SIGKILL: its TCP circuit drops) or stopped (SIGSTOP: the circuit
  stays up and nothing answers) after the third event. cielo reads its EPICS devices in a
  worker thread (they declare ``blocking_reads``); Bluesky reads ophyd's ``EpicsSignalRO``
  on its loop. The row is followed by how the run ended and when: it must fail naming the
  PV. ``--only EPICS`` runs these alone; they need softioc, pyepics and ophyd.
* ``EPICS scan, motor's IOC hung``: the same scan with the motor on the victim IOC (at
  1 mm/s, half a second per step) and the detector on the other; the IOC is stopped
  mid-move. cielo's ``EpicsMotor`` checks that its IOC answers while it moves
  (``answer_timeout``, 2 s); ophyd's positioner waits for libca to give up on the circuit
  (``EPICS_CA_CONN_TMO``, 30 s by default).
* ``EPICS scan, stage on a hung IOC``: the scan (motor and detector on the first IOC)
  also stages a device of two settings served by the victim IOC (``stage_sigs``: ``ao``
  and ``str``), which is stopped before the scan starts: ``stage()`` reads each setting
  before writing it. cielo stages an EPICS device in a worker thread; Bluesky calls
  ophyd's ``stage()`` on its loop.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_epics import _free_port, start_ioc, stop  # noqa: PLC2701 (a sibling script)

#: the EPICS workloads: (label, signal sent to the victim IOC after the third event)
EPICS_CASES = (
    ("EPICS scan, IOC killed", signal.SIGKILL),
    ("EPICS scan, IOC hung", signal.SIGSTOP),
    (MOTOR_HUNG := "EPICS scan, motor's IOC hung", signal.SIGSTOP),
    (STAGE_HUNG := "EPICS scan, stage on a hung IOC", signal.SIGSTOP),  # before the scan
)
#: the engines of the non-EPICS rows: cielo running Bluesky's plans, cielo running its own
ENGINES = ("cielo", "cielo/own", "bluesky")
#: a run still going after this long is stopped by the benchmark (seconds)
EPICS_CAP = 90.0


class Ticker:
    """Wakes every ``period`` seconds on ``loop``; records each gap between wake-ups, the
    CPU time of the loop's thread in it, and the garbage collections on that thread.

    With ``stacks``, a watchdog thread grabs the loop thread's stack whenever the ticker is
    more than ``stacks`` seconds late (once per gap): where the loop was held."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, period: float = 0.001, stacks: float = 0.0
    ) -> None:
        self.loop, self.period = loop, period
        self.gaps: list[tuple[float, float]] = []
        self.collections: list[tuple[int, float]] = []
        self.stacks: list[str] = []
        self._gc_start = 0.0
        self._thread: int | None = None
        self._native = 0
        self._running = True
        self._last = time.perf_counter()
        gc.callbacks.append(self._on_gc)
        self._future = asyncio.run_coroutine_threadsafe(self._tick(), loop)
        self._watchdog: threading.Thread | None = None
        if stacks:
            self._watchdog = threading.Thread(target=self._watch, args=(stacks,), daemon=True)
            self._watchdog.start()

    async def _tick(self) -> None:
        self._thread, self._native = threading.get_ident(), threading.get_native_id()
        last, last_cpu = time.perf_counter(), time.thread_time()
        while self._running:
            await asyncio.sleep(self.period)
            now, cpu = time.perf_counter(), time.thread_time()
            self.gaps.append((now - last, cpu - last_cpu))
            last, last_cpu = now, cpu
            self._last = now

    def _watch(self, late: float) -> None:
        sampled = 0.0
        while self._running:
            time.sleep(late / 4)
            last = self._last
            if last != sampled and time.perf_counter() - last > late and self._thread:
                self.stacks.append(_where(self._thread, self._native))
                sampled = last

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if threading.get_ident() != self._thread:
            return
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.collections.append((info["generation"], time.perf_counter() - self._gc_start))

    def stop(self) -> None:
        self._running = False
        self._future.result(5)
        gc.callbacks.remove(self._on_gc)
        if self._watchdog is not None:
            self._watchdog.join()


def _where(loop_thread: int, native: int) -> str:
    """Where the loop's thread is (its innermost frames and scheduler state, R: running or
    waiting for a core, S: sleeping, e.g. for the GIL) and what the other threads run."""
    frames = sys._current_frames()  # noqa: SLF001 (the documented way to sample threads)
    lines = []
    for ident, frame in frames.items():
        if ident == threading.get_ident():
            continue
        inner = traceback.extract_stack(frame)[-3:]
        where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in inner[::-1])
        if ident == loop_thread:
            try:
                stat = Path(f"/proc/self/task/{native}/stat").read_text()
                state = stat.rsplit(")", 1)[1].split()[0]
            except OSError:
                state = "?"
            lines.insert(0, f"  loop [{state}]: {where}")
        else:
            lines.append(f"  other: {where}")
    return "\n".join(lines)


def _slow(seconds: float) -> Callable[[str, dict[str, Any]], None]:
    def slow_subscriber(name: str, doc: dict[str, Any]) -> None:
        time.sleep(seconds)

    return slow_subscriber


def _null_plan(n: int, own: bool = False) -> Any:
    if own:
        from cielo import Msg
    else:
        from bluesky import Msg  # type: ignore[assignment]

    msg = Msg("null")
    for _ in range(n):
        yield msg


#: with ``--stacks``, how late the ticker must be for the loop thread's stack to be taken
STACKS_LATE = 0.0


def _measure(engine: Any, loop: asyncio.AbstractEventLoop, plan: Any) -> tuple[str, str]:
    """The row's figures, and how the run ended (``success``, or the error and when)."""
    ticker = Ticker(loop, stacks=STACKS_LATE)
    time.sleep(0.05)  # the ticker is running before the plan starts
    start = time.perf_counter()
    try:
        engine(plan)
        ended = "success"
    except Exception as exc:
        text = str(exc).splitlines()[0] if str(exc) else ""
        ended = f"{type(exc).__name__}: {text[:110]}"
    ended += f" (after {time.perf_counter() - start:.1f} s)"
    if hasattr(engine, "flush"):
        engine.flush()
    ticker.stop()
    worst, cpu = max(ticker.gaps)
    long_gaps = sum(1 for gap, _cpu in ticker.gaps if gap > 0.01)
    gen, pause = max(ticker.collections, key=lambda c: c[1], default=(0, 0.0))
    collected = f"{pause * 1e3:6.1f} ms (gen {gen})" if ticker.collections else "     --"
    for stack in ticker.stacks:
        print(f"--- {STACKS_LATE * 1e3:g} ms after a tick:\n{stack}", flush=True)
    return f"{worst * 1e3:8.1f} ms {cpu * 1e3:9.1f} ms {long_gaps:8d} {collected}", ended


def _epics_ports() -> tuple[int, int] | None:
    """Ports for the motor's IOC and the detectors' IOCs, set in the Channel Access client
    environment before anything loads libca; ``None`` without softioc, pyepics or ophyd."""
    import importlib.util

    if any(importlib.util.find_spec(m) is None for m in ("softioc", "epics", "ophyd")):
        return None
    ports = (_free_port(), _free_port())
    os.environ["EPICS_CA_ADDR_LIST"] = " ".join(f"127.0.0.1:{p}" for p in ports)
    os.environ["EPICS_CA_AUTO_ADDR_LIST"] = "NO"
    return ports


@contextmanager
def _victim(port: int, workdir: Path, prefix: str) -> Iterator[Any]:
    """A demo IOC to kill or stop; whatever is done to it, it ends with the block."""
    ioc, _ = start_ioc(port, workdir, extra_pvs=0, prefix=prefix, repeater=False)
    try:
        yield ioc
    finally:
        if ioc.poll() is None:
            os.kill(ioc.pid, signal.SIGCONT)
        stop(ioc)


def _cap(engine: Any, pid: int, fired: threading.Event) -> None:
    """A run still going after ``EPICS_CAP``: ask its engine to pause, and resume the IOC,
    whose answers unblock an engine's loop stuck waiting for it (a pause request never
    reaches a blocked loop: one Bluesky run waited over 10 minutes)."""
    fired.set()
    engine.request_pause()
    try:
        os.kill(pid, signal.SIGCONT)
    except ProcessLookupError:  # killed, not stopped
        pass


def _signal_after_third(pid: int, sig: int) -> Callable[[str, dict[str, Any]], None]:
    """A subscriber sending ``sig`` to process ``pid`` once the third event is out."""
    sent = threading.Event()

    def after_third(name: str, doc: dict[str, Any]) -> None:
        if name == "event" and doc["seq_num"] == 3 and not sent.is_set():
            sent.set()
            os.kill(pid, sig)

    return after_third


def _epics_rows(ports: tuple[int, int], only: str | None) -> None:
    """The EPICS scans whose detector IOC dies or hangs after the third event."""
    import logging

    from bluesky import RunEngine as BlueskyRunEngine
    from bluesky.plans import scan
    from ophyd import Component, Device, EpicsSignal, EpicsSignalRO, PVPositioner

    from cielo import RunEngine
    from cielo.devices import Cpt, connect_all
    from cielo.devices import Device as CieloDevice
    from cielo.plugins.epics import EpicsMotor
    from cielo.plugins.epics import EpicsSignal as CieloSignal
    from cielo.plugins.epics import EpicsSignalRO as CieloSignalRO

    class DemoMotor(PVPositioner):  # the demo motor's fields as an ophyd PV positioner
        setpoint = Component(EpicsSignal, ":VAL")
        readback = Component(EpicsSignalRO, ":RBV", kind="hinted")
        done = Component(EpicsSignalRO, ":DMOV")
        stop_signal = Component(EpicsSignal, ":STOP")
        done_value = 1

    class Settings(Device):  # two settings a plan stages, as ophyd devices
        ao = Component(EpicsSignal, "ao", kind="config")
        text = Component(EpicsSignal, "str", kind="config", string=True)

    class CieloSettings(CieloDevice):  # the same, as cielo devices
        ao = Cpt(CieloSignal, suffix="ao", kind="config")
        text = Cpt(CieloSignal, suffix="str", kind="config")

    staging = {"ao": 2.5, "text": "staged"}

    logging.getLogger("bluesky").setLevel(logging.CRITICAL)
    logging.getLogger("cielo").setLevel(logging.CRITICAL)
    workdir = Path(tempfile.mkdtemp(prefix="bench-loop-"))
    motor_ioc, repeater = start_ioc(ports[0], workdir, extra_pvs=0)
    victims = iter(range(1, 100))
    try:
        motor = EpicsMotor("BENCH:m1", separator=":", name="motor")
        connect_all([motor], timeout=10)
        motor.velocity.put(100.0)
        o_motor = DemoMotor("BENCH:m1", name="motor", timeout=10)
        o_motor.wait_for_connection(timeout=10)
        for label, sig in EPICS_CASES:
            if only and only not in label:
                continue
            for kind in ("cielo", "bluesky"):
                prefix = f"VIC{next(victims)}:"
                with _victim(ports[1], workdir, prefix) as ioc:
                    engine: Any
                    # the victim serves the detector, or the motor (the detector then
                    # being the first IOC's)
                    det_pv = "BENCH:det" if label in (MOTOR_HUNG, STAGE_HUNG) else prefix + "det"
                    motor_prefix = prefix + "m1" if label == MOTOR_HUNG else "BENCH:m1"
                    staged: list[Any] = []  # the victim's device the scan stages
                    if kind == "cielo":
                        engine = RunEngine(scan_id_file=None, handle_sigint=False)
                        det: Any = CieloSignalRO(det_pv, name="det")
                        mot: Any = motor
                        if label == MOTOR_HUNG:
                            mot = EpicsMotor(motor_prefix, separator=":", name="motor")
                        if label == STAGE_HUNG:
                            staged = [CieloSettings(prefix, name="settings")]
                        connect_all([det, mot, *staged], timeout=10)
                    else:
                        engine = BlueskyRunEngine({})
                        engine.context_managers = []
                        det = EpicsSignalRO(det_pv, name="det")
                        det.wait_for_connection(timeout=10)
                        mot = o_motor
                        if label == MOTOR_HUNG:
                            mot = DemoMotor(motor_prefix, name="motor", timeout=10)
                            mot.wait_for_connection(timeout=10)
                        if label == STAGE_HUNG:
                            staged = [Settings(prefix, name="settings")]
                            staged[0].wait_for_connection(timeout=10)
                    for device in staged:
                        device.stage_sigs = dict(staging)
                    start, stop_at, velocity = (
                        (0.0, 100.0, 1.0) if label == MOTOR_HUNG else (0.0, 1.0, 100.0)
                    )
                    velo = EpicsSignal(motor_prefix + ":VELO", name="velo")
                    velo.wait_for_connection(timeout=10)
                    velo.put(velocity, wait=True)
                    if label != MOTOR_HUNG:
                        motor.move(0.0, timeout=10)
                    if label == STAGE_HUNG:
                        os.kill(ioc.pid, sig)  # stage() meets it hung
                    else:
                        engine.subscribe(_signal_after_third(ioc.pid, sig))
                    fired = threading.Event()
                    cap = threading.Timer(EPICS_CAP, _cap, (engine, ioc.pid, fired))
                    cap.start()
                    points = 201 if label == MOTOR_HUNG else 200
                    plan = scan([det, *staged], mot, start, stop_at, points)
                    row, ended = _measure(engine, engine.loop, plan)
                    cap.cancel()
                    if fired.is_set():
                        if engine.state == "paused":
                            engine.halt()
                        ended = (
                            f"still running after {EPICS_CAP:g} s; the IOC resumed and the "
                            f"run halted by the benchmark ({ended})"
                        )
                    print(f"{label:32} {kind:8} {row}", flush=True)
                    print(f"{'':32} {'':8} ended: {ended}", flush=True)
                    if kind == "cielo":
                        engine.close()
                    else:
                        engine.loop.call_soon_threadsafe(engine.loop.stop)
    finally:
        stop(motor_ioc)
        stop(repeater)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--only", help="run the workloads whose label contains this")
    parser.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help=f"comma-separated, of {', '.join(ENGINES)} (cielo/own: cielo's own plans)",
    )
    parser.add_argument(
        "--stacks",
        type=float,
        default=0.0,
        metavar="MS",
        help="print the loop thread's stack whenever a tick is this many ms late",
    )
    args = parser.parse_args()
    unknown = set(args.engines.split(",")) - set(ENGINES)
    if unknown:
        parser.error(f"--engines: unknown {sorted(unknown)}; choose from {', '.join(ENGINES)}")
    global STACKS_LATE
    STACKS_LATE = args.stacks / 1e3
    epics = not args.only or any(args.only in label for label, _sig in EPICS_CASES)
    ports = _epics_ports() if epics else None  # before anything loads libca

    from bluesky import RunEngine as BlueskyRunEngine
    from bluesky.plans import count
    from ophyd.sim import SynGauss, motor

    from cielo import RunEngine
    from cielo.plugins.scans import count as own_count

    class BlockingDet(SynGauss):
        def read(self) -> Any:
            time.sleep(0.02)
            return super().read()

    det = SynGauss("det", motor, "motor", center=0, Imax=1, sigma=1)
    blocking = BlockingDet("blocking", motor, "motor", center=0, Imax=1, sigma=1)
    n = args.points
    # (label, Bluesky's plan, cielo's own plan, callback buffer, subscribers)
    workloads: list[tuple[str, Callable[[], Any], Callable[[], Any], int, list[Any]]] = [
        ("no subscriber", lambda: count([det], n), lambda: own_count([det], n), 10_000, []),
        (
            "slow subscriber",
            lambda: count([det], n),
            lambda: own_count([det], n),
            10_000,
            [_slow(0.002)],
        ),
        (
            "slow subscriber, small buffer",
            lambda: count([det], n),
            lambda: own_count([det], n),
            20,
            [_slow(0.002)],
        ),
        (
            "1 kHz count, 20 ms subscriber",
            lambda: count([det], n, delay=0.001),
            lambda: own_count([det], n, delay=0.001),
            10_000,
            [_slow(0.02)],
        ),
        (
            "300k null messages",
            lambda: _null_plan(300_000),
            lambda: _null_plan(300_000, own=True),
            10_000,
            [],
        ),
        (
            "blocking read (20 ms)",
            lambda: count([blocking], max(n // 10, 10)),
            lambda: own_count([blocking], max(n // 10, 10)),
            10_000,
            [],
        ),
    ]
    if args.only:
        workloads = [w for w in workloads if args.only in w[0]]
    header = f"{'workload':32} {'engine':10} {'worst gap':>11} {'loop cpu':>12} {'> 10 ms':>8}"
    print(f"{header} {'longest gc':>16}")
    for label, make_plan, make_own, buffer, subs in workloads:
        for kind in args.engines.split(","):
            if kind.startswith("cielo"):
                engine: Any = RunEngine(
                    scan_id_file=None, callback_buffer=buffer, offload_blocking=True
                )
                loop = engine.loop
            else:
                engine = BlueskyRunEngine({})
                engine.context_managers = []
                loop = engine.loop
            for sub in subs:
                engine.subscribe(sub)
            plan = make_own() if kind == "cielo/own" else make_plan()
            row, _ended = _measure(engine, loop, plan)
            print(f"{label:32} {kind:10} {row}", flush=True)
            if kind.startswith("cielo"):
                engine.close()
            else:
                loop.call_soon_threadsafe(loop.stop)
    if epics:
        if ports is None:
            print("EPICS scans: skipped (they need softioc, pyepics and ophyd)")
        else:
            _epics_rows(ports, args.only)


if __name__ == "__main__":
    main()
