"""RunEngine throughput and memory, cielo and Bluesky side by side in the same process.

Run: ``.venv/bin/python benchmarks/bench_engine.py`` (``--quick`` for smaller workloads,
``--only null|count|ophyd|memory``). Figures are printed, not asserted.

Workloads (the same plan objects on both engines):

* ``null``: a plan of N ``Msg("null")`` messages (messages/s);
* ``count``: cielo's ``count`` (the bundled scans plugin) of N points on cielo's simulated
  peak detector (``cielo.devices.sim.SimPeakDetector``), no subscribers (points/s), next to
  Bluesky's ``count`` on ophyd's simulated detector on Bluesky's engine;
* ``ophyd``: the same plans with ophyd's ``ophyd.sim.det`` on both engines (engine cost):
  a flat count (the messages of Bluesky's count from a plain generator) and
  ``bluesky.plans.count`` itself; then each engine's own ``count`` on ``ophyd.sim.det``;
* ``memory``: a 1,000,000-event count with no subscribers on cielo: RSS growth and the
  time per point over the first and the last 10% of the run.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from typing import Any

import psutil

from cielo import Msg, RunEngine


def _null_plan(n: int) -> Any:
    msg = Msg("null")
    for _ in range(n):
        yield msg


def _fresh_null_plan(n: int) -> Any:
    for _ in range(n):
        yield Msg("null")


def _plain_count(detectors: list[Any], num: int) -> Any:
    """The messages of Bluesky's ``count`` without its plan-construction overhead.

    ``bluesky.plans.count`` wraps every stub in ``bluesky.utils.Plan``, which formats a
    stack trace per call (most of its time per point); running the same messages from
    this flat generator isolates what the engine costs.
    """
    for det in detectors:
        yield Msg("stage", det)
    yield Msg(
        "open_run",
        plan_name="count",
        detectors=[d.name for d in detectors],
        num_points=num,
        plan_args={"detectors": [repr(d) for d in detectors], "num": num},
        hints={"dimensions": [(("time",), "primary")]},
    )
    for _ in range(num):
        yield Msg("checkpoint")
        for det in detectors:
            yield Msg("trigger", det, group="trigger")
        yield Msg("wait", None, group="trigger")
        yield Msg("create", None, name="primary")
        for det in detectors:
            yield Msg("read", det)
        yield Msg("save")
    yield Msg("close_run")
    for det in detectors:
        yield Msg("unstage", det)


def _count_plan() -> tuple[str, Any]:
    """cielo's own ``count`` when the scans plugin provides it, else the flat count above."""
    try:
        from cielo.plugins.scans import count

        return "cielo's count (scans plugin)", count
    except ImportError as exc:
        return f"flat count (local; cielo's count did not import: {exc})", _plain_count


def _cielo_engine() -> RunEngine:
    return RunEngine(scan_id_file=None, handle_sigint=False)


def _bluesky_engine() -> Any:
    from bluesky import RunEngine as BlueskyRunEngine

    return BlueskyRunEngine({}, context_managers=[])


def _timed(RE: Any, plan: Any) -> float:
    gc.collect()
    t0 = time.perf_counter()
    RE(plan)
    return time.perf_counter() - t0


def _row(label: str, unit: str, ours: float, theirs: float | None, target: str) -> None:
    ratio = f"{ours / theirs:8.1f}x" if theirs else "      --"
    theirs_s = f"{theirs:14,.0f}" if theirs else f"{'--':>14}"
    print(f"{label:<34} {ours:14,.0f} {theirs_s} {ratio}   {unit:<9} {target}")


def bench_null(n: int) -> None:
    with _cielo_engine() as RE:
        RE(_null_plan(1000))
        ours = n / _timed(RE, _null_plan(n))
    bre = _bluesky_engine()
    bn = max(n // 5, 10_000)
    theirs = bn / _timed(bre, _null_plan(bn))
    _row(f"null messages ({n:,})", "msg/s", ours, theirs, "target >= 1,000,000/s")
    with _cielo_engine() as RE:
        ours = n / _timed(RE, _fresh_null_plan(n))
    theirs = bn / _timed(bre, _fresh_null_plan(bn))
    _row("  ... a new Msg per message", "msg/s", ours, theirs, "(plan builds each Msg)")


def _sim_detector() -> Any:
    from cielo.devices.sim import SimMotor, SimPeakDetector

    motor = SimMotor(name="motor")
    return SimPeakDetector([motor], name="det")


def bench_count_sim(n: int) -> None:
    """cielo's count on cielo's sim detector vs Bluesky's count on ophyd's sim detector."""
    from bluesky.plans import count as bluesky_count
    from ophyd.sim import det as ophyd_det

    label, count = _count_plan()
    det = _sim_detector()
    with _cielo_engine() as RE:
        RE(count([det], 100))
        ours = n / _timed(RE, count([det], n))
    bre = _bluesky_engine()
    bn = max(n // 10, 500)
    theirs = bn / _timed(bre, bluesky_count([ophyd_det], bn))
    _row(f"count, sim det ({n:,})", "points/s", ours, theirs, "target >= 20,000/s")
    docs: list[Any] = []
    with _cielo_engine() as RE:
        RE.subscribe(lambda name, doc: docs.append(name))
        with_sub = n / _timed(RE, count([det], n))
    bre = _bluesky_engine()
    bre.subscribe(lambda name, doc: docs.append(name))
    theirs_sub = bn / _timed(bre, bluesky_count([ophyd_det], bn))
    _row(f"  ... with one subscriber ({n:,})", "points/s", with_sub, theirs_sub, "(information)")
    print(
        f"    cielo: {label} on cielo.devices.sim.SimPeakDetector; "
        "bluesky: bluesky.plans.count on ophyd.sim.det"
    )


def bench_count_ophyd(n: int) -> None:
    """The same plans and ophyd's sim detector on both engines."""
    from bluesky.plans import count as bluesky_count
    from ophyd.sim import det

    bn = max(n // 10, 500)
    for label, count in (("flat count", _plain_count), ("bluesky.plans.count", bluesky_count)):
        with _cielo_engine() as RE:
            RE(count([det], 100))
            ours = n / _timed(RE, count([det], n))
        bre = _bluesky_engine()
        theirs = bn / _timed(bre, count([det], bn))
        _row(f"{label}, ophyd.sim.det ({n:,})", "points/s", ours, theirs, "target >= 5x Bluesky")
    # what a user compares: each engine's own count plan, both reading ophyd's detector
    count_label, cielo_count = _count_plan()
    with _cielo_engine() as RE:
        RE(cielo_count([det], 100))
        ours = n / _timed(RE, cielo_count([det], n))
    theirs = bn / _timed(_bluesky_engine(), bluesky_count([det], bn))
    _row(f"own count, ophyd.sim.det ({n:,})", "points/s", ours, theirs, "target >= 5x Bluesky")
    print(
        f"    cielo: {count_label} on ophyd.sim.det; bluesky: bluesky.plans.count on ophyd.sim.det"
    )


def bench_memory(n: int) -> None:
    """RSS growth and time per point early vs late in one long count (cielo only).

    Time per point is measured twice: wall-clock, and CPU time of the engine's thread
    (``time.thread_time`` read inside the plan, which runs on that thread); the CPU figure
    is what the engine costs, less affected by other processes competing for the cores.
    Each figure is the 10th percentile over chunks of 0.1% of the run, so bursts of load
    from other jobs on the shared machine do not pass for a trend.
    """
    count = _plain_count  # the engine's memory: a plan that keeps nothing itself
    det = _sim_detector()
    process = psutil.Process(os.getpid())
    wall: list[float] = []
    cpu: list[float] = []
    chunk = max(n // 1000, 1)

    def timed_count() -> Any:
        gen = count([det], n)
        points = 0
        reply = None
        while True:
            try:
                msg = gen.send(reply)
            except StopIteration as stop:
                wall.append(time.perf_counter())
                cpu.append(time.thread_time())
                return stop.value
            if msg.command == "save":
                if points % chunk == 0:
                    wall.append(time.perf_counter())
                    cpu.append(time.thread_time())
                points += 1
            reply = yield msg

    with _cielo_engine() as RE:
        RE(count([det], 2000))
        gc.collect()
        rss0 = process.memory_info().rss
        t0 = time.perf_counter()
        RE(timed_count())
        total = time.perf_counter() - t0
        gc.collect()
        rss1 = process.memory_info().rss

    def first_last(marks: list[float]) -> tuple[float, float]:
        """Cost per point in the first and last 10% of the run: the 10th percentile over
        chunks of 0.1% of the run (as timeit's minimum: other jobs on a shared machine only
        ever add time, so the low end is the engine's own cost)."""
        per_point = [(b - a) / chunk * 1e6 for a, b in zip(marks, marks[1:], strict=False)]
        k = max(len(per_point) // 10, 1)

        def low(values: list[float]) -> float:
            return statistics.quantiles(values, n=10)[0] if len(values) >= 10 else min(values)

        return low(per_point[:k]), low(per_point[-k:])

    print(f"memory: {n:,}-event flat count, no subscribers, {n / total:,.0f} points/s")
    print(f"  RSS growth: {(rss1 - rss0) / 1e6:.2f} MB (target <= 5 MB)")
    for label, marks in (("engine-thread CPU", cpu), ("wall clock", wall)):
        first, last = first_last(marks)
        print(
            f"  time per point ({label}, low decile of 0.1% chunks): first 10% {first:.2f} us, "
            f"last 10% {last:.2f} us, change {100 * (last - first) / first:+.1f}% "
            "(target within 10%)"
        )


def bench_plan_memory(n: int) -> None:
    """RSS growth of the same run with cielo's own count plan (plan-side memory)."""
    label, count = _count_plan()
    det = _sim_detector()
    process = psutil.Process(os.getpid())
    with _cielo_engine() as RE:
        RE(count([det], 2000))
        gc.collect()
        rss0 = process.memory_info().rss
        RE(count([det], n))
        gc.collect()
        rss1 = process.memory_info().rss
    print(f"  {label}, {n:,} events: RSS growth {(rss1 - rss0) / 1e6:.2f} MB (plan side)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller workloads")
    parser.add_argument("--only", choices=["null", "count", "ophyd", "memory"], action="append")
    args = parser.parse_args(argv)
    only = set(args.only or ["null", "count", "ophyd", "memory"])
    scale = 10 if args.quick else 1
    os.environ.setdefault("CIELO_STATE_DIR", tempfile.mkdtemp(prefix="cielo-bench-"))
    import bluesky

    print(f"python {sys.version.split()[0]}, bluesky {bluesky.__version__}, {os.cpu_count()} cpus")
    print(f"{'workload':<34} {'cielo':>14} {'bluesky':>14} {'ratio':>9}   unit")
    if "null" in only:
        bench_null(1_000_000 // scale)
    if "count" in only:
        bench_count_sim(20_000 // scale)
    if "ophyd" in only:
        bench_count_ophyd(20_000 // scale)
    if "memory" in only:
        bench_memory(1_000_000 // scale)
        bench_plan_memory(100_000 // scale)


if __name__ == "__main__":
    main()
