"""The queue server's figures: ``cielo serve`` in a subprocess, driven over HTTP.

Run: ``.venv/bin/python benchmarks/bench_queue.py`` (``--quick`` for fewer repeats).
Figures are printed, not asserted (medians; the machine's load shows in them):

* ``status`` and ``item_add``: one HTTP round trip (httpx, one connection), p50/p90;
* ``environment open``: ``environment/open`` until the status says idle;
* ``10 counts``: ten one-point counts, ``queue/start`` until idle, and per item;
* ``10,000 items``: add one, move one, get one with 10,000 queued; the whole queue as JSON;
* ``dead worker``: SIGKILL of the worker until the status says the environment is closed.

Bluesky's queue server side by side (bluesky-queueserver + bluesky-httpserver in their
own venv with redis-server, see RECIPES.md) is not run here yet.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

KEY = "bench-key"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ms(values: list[float]) -> str:
    values = sorted(values)
    p90 = values[int(0.9 * (len(values) - 1))]
    return f"p50 {statistics.median(values) * 1e3:.2f} ms, p90 {p90 * 1e3:.2f} ms (n={len(values)})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    repeats = 50 if args.quick else 300
    base = Path(tempfile.mkdtemp(prefix="cielo-bench-queue-"))
    port = _free_port()
    env = {
        **os.environ,
        "CIELO_SERVER_API_KEY": KEY,
        "CIELO_STATE_DIR": str(base / "state"),
        "CIELO_LOCK_DIR": str(base / "locks"),
        "CIELO_CATALOG": f"sqlite:///{base / 'catalog.sqlite'}",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "cielo.cli", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"ApiKey {KEY}"},
        timeout=300,
    )

    def call(path: str, body: Any = None, method: str = "POST") -> dict[str, Any]:
        reply: dict[str, Any] = client.request(method, path, json=body or {}).json()
        return reply

    def wait(cond: Any) -> dict[str, Any]:
        while True:
            status = call("/api/status", method="GET")
            if cond(status):
                return status
            time.sleep(0.005)

    try:
        t0 = time.perf_counter()
        while True:
            try:
                call("/api/status", method="GET")
                break
            except httpx.HTTPError:
                time.sleep(0.02)
        print(f"manager start-up:   {time.perf_counter() - t0:.2f} s (until /api/status answers)")

        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            call("/api/status", method="GET")
            times.append(time.perf_counter() - t)
        print(f"status:             {_ms(times)}")
        item = {"item_type": "plan", "name": "count", "args": [["det"]], "kwargs": {"num": 1}}
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            call("/api/queue/item/add", {"item": item})
            times.append(time.perf_counter() - t)
        print(f"item_add:           {_ms(times)}")
        call("/api/queue/clear")

        t = time.perf_counter()
        call("/api/environment/open")
        wait(lambda s: s["worker_environment_state"] == "idle")
        print(f"environment open:   {time.perf_counter() - t:.2f} s")

        call("/api/queue/item/add/batch", {"items": [item] * 10})
        t = time.perf_counter()
        call("/api/queue/start")
        wait(lambda s: s["manager_state"] == "idle" and s["items_in_queue"] == 0)
        took = time.perf_counter() - t
        print(f"10 counts:          {took:.3f} s, {took / 10 * 1e3:.1f} ms per item")

        call("/api/queue/item/add/batch", {"items": [item] * 10_000})
        uid = call("/api/queue/item/get", {"pos": 5000}, method="GET")["item"]["item_uid"]
        adds, moves, gets = [], [], []
        for n in range(min(repeats, 100)):
            t = time.perf_counter()
            call("/api/queue/item/add", {"item": item, "pos": 5000})
            adds.append(time.perf_counter() - t)
            t = time.perf_counter()
            call("/api/queue/item/move", {"uid": uid, "pos_dest": n * 37 % 10_000})
            moves.append(time.perf_counter() - t)
            t = time.perf_counter()
            call("/api/queue/item/get", {"uid": uid}, method="GET")
            gets.append(time.perf_counter() - t)
        print(f"10,000 items, add:  {_ms(adds)}")
        print(f"10,000 items, move: {_ms(moves)}")
        print(f"10,000 items, get:  {_ms(gets)}")
        t = time.perf_counter()
        size = len(client.request("GET", "/api/queue/get", json={}).content)
        print(f"whole queue JSON:   {(time.perf_counter() - t) * 1e3:.0f} ms ({size / 1e6:.1f} MB)")
        call("/api/queue/clear")

        call("/api/queue/item/add", {"item": {**item, "kwargs": {"num": 1000, "delay": 0.05}}})
        call("/api/queue/start")
        status = wait(lambda s: s["re_state"] == "running")
        t = time.perf_counter()
        os.kill(status["worker_pid"], signal.SIGKILL)
        wait(lambda s: not s["worker_environment_exists"])
        print(f"dead worker found:  {time.perf_counter() - t:.2f} s after SIGKILL")
        call("/api/environment/open")
        wait(lambda s: s["worker_environment_state"] == "idle")
        call("/api/queue/start")  # the failed item is in history; the queue has the rest
        call("/api/queue/item/add", {"item": {**item, "kwargs": {"num": 1000, "delay": 0.05}}})
        call("/api/queue/start")
        status = wait(lambda s: s["re_state"] == "running")
        t = time.perf_counter()
        os.kill(status["worker_pid"], signal.SIGSTOP)
        wait(lambda s: not s["worker_environment_exists"])
        print(f"hung worker found:  {time.perf_counter() - t:.2f} s after SIGSTOP")
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
