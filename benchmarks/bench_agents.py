"""Adaptive-agent figures: points to find an optimum, and the per-run feedback latency.

- points: each agent steers ``agent_scan`` on a RunEngine over sim devices until it is
  done; we count the points it measured and its error on the optimum, over several peak
  positions, against a uniform grid that guarantees the same precision (an argmax on a
  grid of step ``s`` is within ``s / 2`` of the peak, so 1 % of a range ``R`` needs
  ``R / (2 * 0.01 R) + 1`` = 51 points per axis);
- latency: a real ``cielo serve`` whose worker publishes to a real ``redis-server``, and
  an :class:`~cielo.adaptive.AgentService` following that bus with a consumer group; from
  each run's stop document (its ``time``) to the agent's next plan accepted into the queue.

Run: ``.venv/bin/python benchmarks/bench_agents.py [--trials 5] [--items 20] [--only points|latency]``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import threading
from pathlib import Path
from typing import Any

from cielo.adaptive import GoldenSectionAgent, GPAgent, PeakFitAgent, agent_scan
from cielo.devices.sim import SimMotor, SimPeakDetector
from cielo.testing import make_run_engine

RANGE = (-3.0, 3.0)
PRECISION = 0.01 * (RANGE[1] - RANGE[0])  # 1 % of the scan range
GRID_1D = int((RANGE[1] - RANGE[0]) / (2 * PRECISION)) + 1


def measure(agent: Any, centers: list[float], noise: float = 0.0) -> tuple[int, list[float]]:
    """Run one agent_scan; the points measured and the agent's estimate of the optimum."""
    motors = [SimMotor(name=f"m{i}") for i in range(len(centers))]
    det = SimPeakDetector(motors, name="det", center=centers, sigma=0.6, noise="gaussian" if noise else "none",
                          noise_level=noise, seed=1)  # fmt: skip
    engine = make_run_engine()
    try:
        result = engine(agent_scan([det], motors, agent, ["det"], max_points=400)).plan_result
    finally:
        engine.close()
    estimate = result.get("optimum_x", result.get("center", result.get("best_x")))
    values = list(estimate) if isinstance(estimate, tuple) else [estimate]
    return int(result["points"]), [float(v) for v in values]


def bench_points(trials: int) -> None:
    low, high = RANGE
    centers = [low + (high - low) * (0.2 + 0.6 * k / max(trials - 1, 1)) for k in range(trials)]
    cases = [
        ("golden_section, 1-D", 1, lambda: GoldenSectionAgent(low, high, tolerance=2 * PRECISION)),
        ("peak_fit (lmfit), 1-D", 1, lambda: PeakFitAgent(low, high, tolerance=PRECISION / 10)),
        ("gp, 1-D", 1, lambda: GPAgent([[low, high]])),
        ("gp, 2-D", 2, lambda: GPAgent([[low, high], [low, high]])),
        ("peak_fit, 1-D, 2 % noise", 1, lambda: PeakFitAgent(low, high, tolerance=PRECISION / 4)),
        ("gp, 1-D, 2 % noise", 1, lambda: GPAgent([[low, high]], tolerance=1e-2)),
    ]
    print(f"points to locate a Gaussian peak (sigma 0.6) within {PRECISION:g} "
          f"(1 % of [{low:g}, {high:g}]), {trials} peak positions")  # fmt: skip
    print(f"{'agent':26} {'points mean':>11} {'max':>5} {'max error':>10} "
          f"{'grid points':>11} {'grid / agent':>12}")  # fmt: skip
    for label, dims, make in cases:
        counts, errors = [], []
        for k, c in enumerate(centers):
            truth = [c] if dims == 1 else [c, centers[-1 - k]]
            n, estimate = measure(make(), truth, 0.02 if "noise" in label else 0.0)
            counts.append(n)
            errors.append(max(abs(a - b) for a, b in zip(estimate, truth, strict=True)))
        grid = GRID_1D**dims
        print(f"{label:26} {statistics.mean(counts):11.1f} {max(counts):5d} {max(errors):10.4f} "
              f"{grid:11d} {grid / statistics.mean(counts):11.1f}x")  # fmt: skip
        if max(errors) > PRECISION:
            print(f"  !! {label} missed the precision on some trial (errors {errors})")


def bench_latency(items: int, state: bool = False) -> None:
    """Stop document to next item; ``state``: as ``cielo agent run --state`` runs it (runs
    acknowledged at their stop, the state file written at every run)."""
    from cielo.adaptive import AgentService, Checkpoint
    from cielo.bus import RemoteDispatcher, open_transport
    from cielo.core import read_profile
    from cielo.server import QueueClient
    from cielo.testing import QueueServer, RedisServer

    with tempfile.TemporaryDirectory() as tmp, RedisServer() as redis:
        base = Path(tmp)
        uri = f"redis://127.0.0.1:{redis.port}/bench-agents"
        profile = base / "bench.toml"
        text = Path(read_profile("sim").path).read_text()
        profile.write_text(text + f'\n[publish]\nuri = "{uri}"\n')
        with (
            QueueServer(base, str(profile)) as server,
            QueueClient(server.url, api_key=server.key) as client,
        ):
            client.control("queue/autostart", {"enable": True})
            agent = GoldenSectionAgent(*RANGE, tolerance=1e-12)
            checkpoint = Checkpoint(base / "state.json", {"bench": 1}) if state else None
            service = AgentService(agent, motors=["motor"], target="det", detectors=["det"],
                                   submit=client.add, max_items=items, name="golden_section",
                                   checkpoint=checkpoint)  # fmt: skip
            dispatcher = RemoteDispatcher(open_transport(uri), group="bench", consumer="agent",
                                          ack="run" if state else "batch")  # fmt: skip
            dispatcher.transport.group_reader("bench", "agent", start="$")
            dispatcher.subscribe(service)
            dispatcher.subscribe(lambda *_: service.state == "running" or dispatcher.stop(), "stop")
            thread = threading.Thread(target=dispatcher.start, kwargs={"idle_timeout": 60})
            thread.start()
            service.suggest()
            thread.join()
            dispatcher.stop()
    latencies = sorted(1e3 * (accepted - stop) for _, stop, accepted in service.submitted if stop)
    if not latencies:
        print("latency: no run reached the agent")
        return
    p = lambda q: latencies[min(len(latencies) - 1, math.ceil(q * len(latencies)) - 1)]  # noqa: E731
    how = ", --state" if state else ""
    print(f"stop document -> next item in the queue, {len(latencies)} runs (list_scan of 1 point,"
          f" golden_section, Redis bus, cielo serve{how}): p50 {p(0.5):.0f} ms, p90 {p(0.9):.0f} ms,"
          f" max {latencies[-1]:.0f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=5, help="peak positions per agent")
    parser.add_argument("--items", type=int, default=20, help="plans the latency agent submits")
    parser.add_argument("--only", choices=["points", "latency"])
    args = parser.parse_args()
    if args.only in (None, "points"):
        bench_points(args.trials)
    if args.only in (None, "latency"):
        bench_latency(args.items)
        bench_latency(args.items, state=True)


if __name__ == "__main__":
    main()
