"""The engine's event loop while a plan runs: the worst gap between two ticks, cielo and
Bluesky side by side in the same process.

Run: ``.venv/bin/python benchmarks/bench_loop_ticks.py [--points N]``. Figures are printed,
not asserted.

A ticker coroutine on the engine's loop asks to wake every millisecond and records how
late each wake-up is; the worst gap is how long the loop was blocked (nothing else on the
loop ran: no status callback, no pause request, no timeout). The same Bluesky plan
(``bluesky.plans.count`` of ophyd's simulated detector) runs on both engines in each
workload:

* ``no subscriber``: the engine alone;
* ``slow subscriber``: a subscriber taking 2 ms per document (a live plot, a slow disk);
  Bluesky calls it on the loop thread, cielo in its own thread with a buffer;
* ``slow subscriber, small buffer``: cielo with ``callback_buffer=20``, so the buffer
  fills and back-pressure applies;
* ``blocking read``: a detector whose ``read()`` sleeps 20 ms (a blocking device call):
  both engines call ``read()`` on the loop thread.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any


class Ticker:
    """Wakes every ``period`` seconds on ``loop`` and records the gaps between wake-ups."""

    def __init__(self, loop: asyncio.AbstractEventLoop, period: float = 0.001) -> None:
        self.loop, self.period, self.gaps = loop, period, []
        self._running = True
        self._future = asyncio.run_coroutine_threadsafe(self._tick(), loop)

    async def _tick(self) -> None:
        last = time.perf_counter()
        while self._running:
            await asyncio.sleep(self.period)
            now = time.perf_counter()
            self.gaps.append(now - last)
            last = now

    def stop(self) -> list[float]:
        self._running = False
        self._future.result(5)
        return self.gaps


def _slow(name: str, doc: dict[str, Any]) -> None:
    time.sleep(0.002)


def _measure(engine: Any, loop: asyncio.AbstractEventLoop, plan: Any) -> tuple[float, float]:
    ticker = Ticker(loop)
    time.sleep(0.05)  # the ticker is running before the plan starts
    engine(plan)
    if hasattr(engine, "flush"):
        engine.flush()
    gaps = ticker.stop()
    return max(gaps) * 1e3, statistics.quantiles(gaps, n=100)[98] * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200)
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
        ("slow subscriber", lambda: count([det], n), 10_000, [_slow]),
        ("slow subscriber, small buffer", lambda: count([det], n), 20, [_slow]),
        ("blocking read (20 ms)", lambda: count([blocking], max(n // 10, 10)), 10_000, []),
    ]
    print(f"{'workload':32} {'engine':8} {'worst gap':>10} {'p99 gap':>9}")
    for label, make_plan, buffer, subs in workloads:
        for kind in ("cielo", "bluesky"):
            if kind == "cielo":
                engine: Any = RunEngine(scan_id_file=None, callback_buffer=buffer)
                loop = engine.loop
            else:
                engine = BlueskyRunEngine({})
                engine.context_managers = []
                loop = engine.loop
            for sub in subs:
                engine.subscribe(sub)
            worst, p99 = _measure(engine, loop, make_plan())
            print(f"{label:32} {kind:8} {worst:8.1f} ms {p99:6.1f} ms")
            if kind == "cielo":
                engine.close()
            else:
                loop.call_soon_threadsafe(loop.stop)


if __name__ == "__main__":
    main()
