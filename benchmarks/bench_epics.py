"""EPICS devices against a real IOC (the demo IOC on pythonSoftIOC, on loopback).

Run: ``.venv/bin/python benchmarks/bench_epics.py`` (``--quick`` for a short run). The
script starts its own IOC on a free port and points Channel Access at it before pyepics
starts. Figures are printed, not asserted.

* ``read100``: reading 100 PVs — cielo's ``read_many`` (one batch of CA gets), the same
  100 signals read one after another, and ophyd's ``EpicsSignalRO.get`` in a loop (median ms);
* ``latency``: one get, one put with completion, put-to-monitor (median ms);
* ``scan``: a 100-point step scan of the IOC's motor (0.01 mm steps at 10 mm/s, i.e. 1 ms
  moves) reading the detector PV, on cielo's RunEngine (points/s, DMOV-based completion);
  then the same scan with Bluesky's RunEngine and ``bluesky.plans.scan`` on an ophyd
  ``PVPositioner`` of the same PVs (done on DMOV) and on cielo's ``EpicsMotor``;
* ``monitor``: updates/s delivered to a subscriber from a record the IOC updates as fast as
  it can (and how many the IOC produced in the same time).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

PREFIX = "BENCH:"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_ioc(
    port: int, workdir: Path, extra_pvs: int = 100, prefix: str = PREFIX, repeater: bool = True
) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes] | None]:
    """The demo IOC (with ``extra_pvs`` extra PVs) and a caproto repeater (unless
    ``repeater=False``), as subprocesses."""
    repeating = None
    if repeater:
        os.environ["EPICS_CA_REPEATER_PORT"] = str(_free_port())
        exe = shutil.which("caproto-repeater") or str(
            Path(sys.executable).with_name("caproto-repeater")
        )
        if Path(exe).exists():
            repeating = subprocess.Popen(
                [exe, "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
    log = workdir / f"ioc-{prefix.strip(':')}.log"
    with log.open("wb") as out:
        ioc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cielo.plugins.epics.demo_ioc",
                "--port",
                str(port),
                "--prefix",
                prefix,
                "--interface",
                "127.0.0.1",
                "--extra-pvs",
                str(extra_pvs),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30 + extra_pvs / 500
    while "cielo demo IOC ready" not in log.read_text(errors="replace"):
        if ioc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the IOC did not start:\n" + log.read_text(errors="replace"))
        time.sleep(0.05)
    return ioc, repeating


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None and proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)


def median_ms(func: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def bench_read100(repeat: int) -> None:
    from cielo.devices import connect_all
    from cielo.plugins.epics import EpicsSignalRO, read_many

    signals = [EpicsSignalRO(f"{PREFIX}pv:{i}", name=f"pv{i}") for i in range(100)]
    connect_all(signals, timeout=10)
    read_many(signals)
    batch = median_ms(lambda: read_many(signals), repeat)

    def one_by_one() -> None:
        for sig in signals:
            sig.read()

    serial = median_ms(one_by_one, repeat)
    print(f"read100: cielo read_many (concurrent)   {batch:8.2f} ms median over {repeat}")
    print(f"read100: cielo read() one after another {serial:8.2f} ms")
    try:
        import ophyd
    except ImportError:
        return
    ophyd_signals = [ophyd.EpicsSignalRO(f"{PREFIX}pv:{i}", name=f"o{i}") for i in range(100)]
    for sig in ophyd_signals:
        sig.wait_for_connection(timeout=10)

    def ophyd_reads() -> None:
        for sig in ophyd_signals:
            sig.read()

    print(f"read100: ophyd EpicsSignalRO.read() loop {median_ms(ophyd_reads, repeat):8.2f} ms")


def bench_latency(repeat: int) -> None:
    from cielo.devices import connect_all
    from cielo.plugins.epics import EpicsSignal, EpicsSignalRO

    ao = EpicsSignal(f"{PREFIX}ao", name="ao")
    ai = EpicsSignalRO(f"{PREFIX}ai", name="ai")
    connect_all([ao, ai], timeout=10)
    get = median_ms(ai.read, repeat)
    values = iter(range(10**9))
    put = median_ms(lambda: ao.put(float(next(values) % 5)), repeat)
    arrived = threading.Event()
    ai.subscribe(lambda **kw: arrived.set(), run=False)

    def put_then_monitor() -> None:
        arrived.clear()
        ao.put(float(next(values) % 5), wait=False)
        arrived.wait(2)

    monitor = median_ms(put_then_monitor, repeat)
    print(
        f"latency: get {get:.3f} ms, put with completion {put:.3f} ms, put->monitor {monitor:.3f} ms"
    )


def bench_scan(repeat: int) -> None:
    from cielo import RunEngine
    from cielo.devices import connect_all
    from cielo.plugins.epics import EpicsMotor, EpicsSignalRO
    from cielo.plugins.scans import scan

    motor = EpicsMotor(f"{PREFIX}m1", separator=":", name="motor")
    det = EpicsSignalRO(f"{PREFIX}det", name="det")
    connect_all([motor, det], timeout=10)
    motor.velocity.put(10.0)
    rates = []
    with RunEngine(scan_id_file=None, handle_sigint=False) as RE:
        events = [0]
        RE.subscribe(lambda name, doc: events.__setitem__(0, events[0] + (name == "event")))
        for _ in range(repeat):
            motor.move(0.0, timeout=10)
            events[0] = 0
            t0 = time.perf_counter()
            RE(scan([det], motor, 0.0, 0.99, num=100))
            rates.append(100 / (time.perf_counter() - t0))
            RE.flush(5)
            assert events[0] == 100, events
    print(
        f"scan: 100-point step scan (1 ms moves, DMOV completion) + detector PV: "
        f"{statistics.median(rates):.0f} points/s median of {repeat} "
        f"(runs: {', '.join(f'{r:.0f}' for r in rates)})"
    )


def bench_scan_bluesky(repeat: int) -> None:
    """The same scan with Bluesky's RunEngine and plans, on ophyd's and on cielo's devices."""
    try:
        import bluesky
        import bluesky.plans as bp
        from bluesky import RunEngine as BlueskyRE
        from ophyd import Component as Cpt
        from ophyd import EpicsSignal as OEpicsSignal
        from ophyd import EpicsSignalRO as OEpicsSignalRO
        from ophyd import PVPositioner
    except ImportError:
        return
    from cielo.devices import connect_all
    from cielo.plugins.epics import EpicsMotor, EpicsSignalRO

    class DemoMotor(PVPositioner):  # the demo motor's fields as an ophyd PV positioner
        setpoint = Cpt(OEpicsSignal, ":VAL")
        readback = Cpt(OEpicsSignalRO, ":RBV", kind="hinted")
        done = Cpt(OEpicsSignalRO, ":DMOV")
        stop_signal = Cpt(OEpicsSignal, ":STOP")
        done_value = 1

    logging.getLogger("bluesky").setLevel(logging.CRITICAL)
    o_motor = DemoMotor(f"{PREFIX}m1", name="omotor", timeout=5)
    o_det = OEpicsSignalRO(f"{PREFIX}det", name="odet")
    for obj in (o_motor, o_det):
        obj.wait_for_connection(timeout=10)
    motor = EpicsMotor(f"{PREFIX}m1", separator=":", name="motor")
    det = EpicsSignalRO(f"{PREFIX}det", name="det")
    connect_all([motor, det], timeout=10)
    motor.velocity.put(10.0)
    RE = BlueskyRE({})
    cases = (
        ("ophyd PVPositioner", o_motor, o_det),
        ("cielo EpicsMotor", motor, det),
    )
    for label, mot, dt in cases:
        rates = []
        for _ in range(repeat):
            motor.move(-0.01, timeout=10)  # so that the first point is a move too
            t0 = time.perf_counter()
            try:
                RE(bp.scan([dt], mot, 0.0, 0.99, 100))
            except Exception as exc:
                print(
                    f"scan: bluesky {bluesky.__version__} RunEngine + {label}: failed "
                    f"({type(exc).__name__}: {exc})"
                )
                break
            rates.append(100 / (time.perf_counter() - t0))
        if rates:
            print(
                f"scan: bluesky {bluesky.__version__} RunEngine + {label}: "
                f"{statistics.median(rates):.0f} points/s median of {len(rates)}"
            )


def bench_monitor(seconds: float) -> None:
    from cielo.devices import connect_all
    from cielo.plugins.epics import EpicsSignal, EpicsSignalRO

    fast = EpicsSignalRO(f"{PREFIX}fast", name="fast")
    period = EpicsSignal(f"{PREFIX}fast:PERIOD", name="period")
    connect_all([fast, period], timeout=10)
    received = [0]

    def on_update(value: Any = None, **_: Any) -> None:
        received[0] += 1

    period.put(0.00001)  # as fast as the IOC's thread manages
    time.sleep(0.5)
    fast.subscribe(on_update, run=False)
    first = fast.get()
    received[0] = 0
    t0 = time.perf_counter()
    time.sleep(seconds)
    got, elapsed = received[0], time.perf_counter() - t0
    produced = fast.get() - first
    fast.clear_sub(on_update)
    period.put(0.0)
    print(
        f"monitor: {got / elapsed:,.0f} updates/s delivered to a subscriber "
        f"({produced / elapsed:,.0f}/s produced by the IOC, {got / max(produced, 1):.0%} delivered)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short workloads")
    parser.add_argument(
        "--only", choices=["read100", "latency", "scan", "monitor"], action="append"
    )
    args = parser.parse_args(argv)
    only = set(args.only or ["read100", "latency", "scan", "monitor"])
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        ioc, repeater = start_ioc(port, Path(tmp))
        os.environ.update(
            {"EPICS_CA_ADDR_LIST": f"127.0.0.1:{port}", "EPICS_CA_AUTO_ADDR_LIST": "NO"}
        )
        try:
            import epics

            print(f"pyepics {epics.__version__}, demo IOC (softioc) on 127.0.0.1:{port}")
            if "read100" in only:
                bench_read100(50 if args.quick else 300)
            if "latency" in only:
                bench_latency(50 if args.quick else 500)
            if "scan" in only:
                bench_scan(1 if args.quick else 5)
                bench_scan_bluesky(1 if args.quick else 3)
            if "monitor" in only:
                bench_monitor(1.0 if args.quick else 5.0)
        finally:
            stop(ioc)
            stop(repeater)
    return 0


if __name__ == "__main__":
    sys.exit(main())
