"""Cost per point of the live callbacks, and the engine's pace with and without them.

Run: ``.venv/bin/python benchmarks/bench_callbacks.py`` (``--quick`` for smaller
workloads). Figures are printed, not asserted.

* ``per point``: a synthetic scan replayed into a live table, a live fit (refit every
  N points, within its default time budget ``max_load=0.2`` or strictly) and both,
  minus the cost of a do-nothing callback (µs/point);
* ``engine``: a step scan of the sim peak detector on cielo's RunEngine with no
  subscribers, then with a live table and a live fit subscribed (buffered, the
  default). "engine" is the run's own duration (start to stop document); "wall"
  includes waiting at the end for the subscribers to catch up.
"""

from __future__ import annotations

import argparse
import io
import math
import tempfile
import time
import uuid
from typing import Any

import numpy as np

from cielo.callbacks import LiveTable, replay
from cielo.plugins.fitting import LiveFit


def synthetic_scan(n: int) -> list[tuple[str, dict[str, Any]]]:
    """A schema-shaped scan of a noisy Gaussian over ``motor``, ``n`` points."""
    rng = np.random.default_rng(0)
    t0 = time.time()
    start = {
        "uid": str(uuid.uuid4()),
        "time": t0,
        "scan_id": 1,
        "plan_name": "scan",
        "motors": ["motor"],
        "hints": {"dimensions": [[["motor"], "primary"]]},
    }
    desc = {
        "uid": str(uuid.uuid4()),
        "run_start": start["uid"],
        "time": t0,
        "name": "primary",
        "data_keys": {
            "motor": {"dtype": "number", "shape": [], "source": "m", "precision": 3},
            "det": {"dtype": "number", "shape": [], "source": "d", "precision": 2},
        },
        "hints": {"motor": {"fields": ["motor"]}, "det": {"fields": ["det"]}},
        "configuration": {},
        "object_keys": {},
    }
    docs: list[tuple[str, dict[str, Any]]] = [("start", start), ("descriptor", desc)]
    for i, x in enumerate(np.linspace(-3, 3, n)):
        y = 5 + 100 * math.exp(-((x - 0.2) ** 2) / 0.5) + rng.normal(0, 1)
        docs.append(
            (
                "event",
                {
                    "uid": str(uuid.uuid4()),
                    "descriptor": desc["uid"],
                    "seq_num": i + 1,
                    "time": t0 + i,
                    "data": {"motor": x, "det": y},
                    "timestamps": {"motor": t0 + i, "det": t0 + i},
                },
            )
        )
    docs.append(
        (
            "stop",
            {
                "uid": str(uuid.uuid4()),
                "run_start": start["uid"],
                "time": t0 + n,
                "exit_status": "success",
                "num_events": {"primary": n},
            },
        )
    )
    return docs


def _time(docs: list[tuple[str, dict[str, Any]]], *callbacks: Any) -> float:
    t = time.perf_counter()
    replay(docs, *callbacks)
    return time.perf_counter() - t


def per_point(n: int, update_every: int) -> None:
    docs = synthetic_scan(n)
    base = min(_time(docs, lambda name, doc: None) for _ in range(3))
    cases = {
        "live table": lambda: [LiveTable(out=io.StringIO(), width=100)],
        f"live fit, every {update_every} points (max_load=0.2)": lambda: [
            LiveFit(update_every=update_every)
        ],
        f"live fit, strictly every {update_every} points": lambda: [
            LiveFit(update_every=update_every, max_load=None)
        ],
        "live table + live fit (max_load=0.2)": lambda: [
            LiveTable(out=io.StringIO(), width=100),
            LiveFit(update_every=update_every),
        ],
    }
    print(
        f"per point, {n}-point scan replayed (do-nothing callback: {base / n * 1e6:.2f} µs/point)"
    )
    for label, make in cases.items():
        cost = min(_time(docs, *make()) for _ in range(2)) - base
        print(f"  {label:<42} {cost / n * 1e6:9.1f} µs/point")


def engine(n: int, update_every: int, repeats: int = 3) -> None:
    from cielo import RunEngine
    from cielo.devices.sim import SimMotor, SimPeakDetector
    from cielo.plans import trigger_and_read

    motor = SimMotor(name="motor")
    det = SimPeakDetector([motor], name="det", noise="gaussian", noise_level=0.01, seed=1)

    def count(num: int) -> Any:
        """A step scan of ``det`` over ``motor`` (plain messages, no plan-library overhead)."""
        from cielo import Msg

        yield Msg(
            "open_run",
            plan_name="scan",
            detectors=["det"],
            motors=["motor"],
            num_points=num,
            hints={"dimensions": [[["motor"], "primary"]]},
        )
        for x in np.linspace(-3, 3, num):
            yield Msg("set", motor, x, group="m")
            yield Msg("wait", None, group="m")
            yield from trigger_and_read([motor, det])
        yield Msg("close_run")

    print(f"engine pace, step scan of {n} points of the sim detector (best of {repeats})")
    with (
        tempfile.TemporaryDirectory() as tmp,
        RunEngine(scan_id_file=f"{tmp}/md.json", handle_sigint=False) as RE,
    ):
        RE(count(50))  # warm up
        for label, subs in (
            ("no subscribers", []),
            ("a do-nothing subscriber", [lambda name, doc: None]),
            ("live table", [LiveTable(out=io.StringIO())]),
            ("live fit", [LiveFit("gaussian", update_every=update_every)]),
            (
                "live table + live fit",
                [LiveTable(out=io.StringIO()), LiveFit("gaussian", update_every=update_every)],
            ),
        ):
            best_run, best_wall = math.inf, math.inf
            for _ in range(repeats):
                times: dict[str, float] = {}
                tokens = [RE.subscribe(cb) for cb in subs]
                tokens.append(
                    RE.subscribe(
                        lambda name, doc, times=times: times.setdefault(name, doc["time"]),
                        buffered=False,
                    )
                )
                t = time.perf_counter()
                RE(count(n))
                wall = time.perf_counter() - t
                for token in tokens:
                    RE.unsubscribe(token)
                best_run = min(best_run, times["stop"] - times["start"])
                best_wall = min(best_wall, wall)
            print(
                f"  {label:<25} engine {n / best_run:9.0f} points/s ({best_run * 1e6 / n:6.1f} µs/point), "
                f"wall incl. catching up {n / best_wall:9.0f} points/s"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller workloads")
    args = parser.parse_args()
    n = 500 if args.quick else 2000
    per_point(n, update_every=10)
    per_point(n, update_every=100)
    engine(2000 if args.quick else 10000, update_every=100)


if __name__ == "__main__":
    main()
