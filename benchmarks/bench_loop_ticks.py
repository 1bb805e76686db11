"""The engine's event loop while a plan runs: the worst gap between two ticks, cielo and
Bluesky side by side in the same process.

Run: ``.venv/bin/python benchmarks/bench_loop_ticks.py [--points N] [--only LABEL]``.
Figures are printed, not asserted.

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
  device call).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import threading
import time
from collections.abc import Callable
from typing import Any


class Ticker:
    """Wakes every ``period`` seconds on ``loop``; records each gap between wake-ups, the
    CPU time of the loop's thread in it, and the garbage collections on that thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, period: float = 0.001) -> None:
        self.loop, self.period = loop, period
        self.gaps: list[tuple[float, float]] = []
        self.collections: list[tuple[int, float]] = []
        self._gc_start = 0.0
        self._thread: int | None = None
        self._running = True
        gc.callbacks.append(self._on_gc)
        self._future = asyncio.run_coroutine_threadsafe(self._tick(), loop)

    async def _tick(self) -> None:
        self._thread = threading.get_ident()
        last, last_cpu = time.perf_counter(), time.thread_time()
        while self._running:
            await asyncio.sleep(self.period)
            now, cpu = time.perf_counter(), time.thread_time()
            self.gaps.append((now - last, cpu - last_cpu))
            last, last_cpu = now, cpu

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


def _slow(seconds: float) -> Callable[[str, dict[str, Any]], None]:
    def slow_subscriber(name: str, doc: dict[str, Any]) -> None:
        time.sleep(seconds)

    return slow_subscriber


def _null_plan(n: int) -> Any:
    from bluesky import Msg

    msg = Msg("null")
    for _ in range(n):
        yield msg


def _measure(engine: Any, loop: asyncio.AbstractEventLoop, plan: Any) -> str:
    ticker = Ticker(loop)
    time.sleep(0.05)  # the ticker is running before the plan starts
    engine(plan)
    if hasattr(engine, "flush"):
        engine.flush()
    ticker.stop()
    worst, cpu = max(ticker.gaps)
    long_gaps = sum(1 for gap, _cpu in ticker.gaps if gap > 0.01)
    gen, pause = max(ticker.collections, key=lambda c: c[1], default=(0, 0.0))
    collected = f"{pause * 1e3:6.1f} ms (gen {gen})" if ticker.collections else "     --"
    return f"{worst * 1e3:8.1f} ms {cpu * 1e3:9.1f} ms {long_gaps:8d} {collected}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--only", help="run the workloads whose label contains this")
    args = parser.parse_args()

    from bluesky import RunEngine as BlueskyRunEngine
    from bluesky.plans import count
    from ophyd.sim import SynGauss, motor

    from cielo import RunEngine

    class BlockingDet(SynGauss):
        def read(self) -> Any:
            time.sleep(0.02)
            return super().read()

    det = SynGauss("det", motor, "motor", center=0, Imax=1, sigma=1)
    blocking = BlockingDet("blocking", motor, "motor", center=0, Imax=1, sigma=1)
    n = args.points
    workloads: list[tuple[str, Callable[[], Any], int, list[Any]]] = [
        ("no subscriber", lambda: count([det], n), 10_000, []),
        ("slow subscriber", lambda: count([det], n), 10_000, [_slow(0.002)]),
        ("slow subscriber, small buffer", lambda: count([det], n), 20, [_slow(0.002)]),
        (
            "1 kHz count, 20 ms subscriber",
            lambda: count([det], n, delay=0.001),
            10_000,
            [_slow(0.02)],
        ),
        ("300k null messages", lambda: _null_plan(300_000), 10_000, []),
        ("blocking read (20 ms)", lambda: count([blocking], max(n // 10, 10)), 10_000, []),
    ]
    if args.only:
        workloads = [w for w in workloads if args.only in w[0]]
    header = f"{'workload':32} {'engine':8} {'worst gap':>11} {'loop cpu':>12} {'> 10 ms':>8}"
    print(f"{header} {'longest gc':>16}")
    for label, make_plan, buffer, subs in workloads:
        for kind in ("cielo", "bluesky"):
            if kind == "cielo":
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
            print(f"{label:32} {kind:8} {_measure(engine, loop, make_plan())}", flush=True)
            if kind == "cielo":
                engine.close()
            else:
                loop.call_soon_threadsafe(loop.stop)


if __name__ == "__main__":
    main()
