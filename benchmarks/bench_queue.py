"""The queue server's figures, cielo and Bluesky's queue server side by side in one run.

Run: ``.venv/bin/python benchmarks/bench_queue.py`` (``--quick`` for fewer repeats;
``--only cielo`` without the anchor). Both servers are driven by the same code over the
same HTTP API (cielo follows bluesky-httpserver's paths and payloads), one keep-alive
``http.client`` connection, from this process:

* ``cielo``: ``cielo serve`` (the sim profile);
* ``bluesky``: bluesky-queueserver's ``start-re-manager`` (its built-in simulated
  profile) with a real ``redis-server``, behind bluesky-httpserver's
  ``start-bluesky-httpserver``, all from the venv ``--anchor-venv`` (default
  ``/work/bqs-venv``: ``pip install bluesky-queueserver==0.0.25
  bluesky-httpserver==0.0.14 pandas matplotlib``; see RECIPES.md). Skipped, saying
  why, when that venv or ``redis-server`` is missing.

Figures are printed, not asserted (medians; the machine's load is printed with them):

* ``status`` and ``item_add``: one HTTP round trip, p50/p90 (``item_add (httpx client)``:
  the same through httpx, the client of runs before 2026-12-03, which adds ~0.6 ms);
* ``environment open``: ``environment/open`` until the status says idle (cielo: from
  the worker started ahead, its imports done);
* ``10 counts``: ten one-point counts, ``queue/start`` until idle, and per item;
* ``10,000 items``: add one, move one, get one with 10,000 queued; the whole queue;
* ``20 watchers``: a 200-point count (10 ms per point) run alone and with 20 clients
  watching ``/api/status/ws`` (both servers push the status there), alternated, each
  way ``--rounds`` times: the scan's slowdown (its history record's ``time_stop -
  time_start``, medians), whether every watcher got the same messages during the scan,
  the push latency (cielo: receipt minus the status's ``time``) and the HTTP status
  round trip meanwhile (polled every 0.1 s);
* ``dead worker``: SIGKILL of the worker until the status says the environment is
  closed (given up after ``--give-up`` seconds); ``hung worker``: the same for SIGSTOP.

The request figures are taken once the server has settled: cielo's worker started ahead
has done its imports (they would otherwise share the CPU with the first requests).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

KEY = "benchkey"  # bluesky-httpserver accepts only alphanumeric keys
ITEM = {"item_type": "plan", "name": "count", "args": [["det"]], "kwargs": {"num": 1}}
SLOW = {**ITEM, "kwargs": {"num": 1000, "delay": 0.05}}
SCAN = {**ITEM, "kwargs": {"num": 200, "delay": 0.01}}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ms(values: list[float]) -> str:
    values = sorted(values)
    p90 = values[int(0.9 * (len(values) - 1))]
    return f"p50 {statistics.median(values) * 1e3:.2f} ms, p90 {p90 * 1e3:.2f} ms"


@dataclass
class Served:
    """A running queue server: its URL, its processes (stopped in reverse order) and how
    to find its worker's pid from a status."""

    name: str
    url: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    worker_pid: Callable[[dict[str, Any]], int | None] = lambda status: status.get("worker_pid")

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


@contextlib.contextmanager
def serve_cielo(base: Path) -> Iterator[Served]:
    port = _free_port()
    env = {
        **os.environ,
        "CIELO_SERVER_API_KEY": KEY,
        "CIELO_STATE_DIR": str(base / "state"),
        "CIELO_LOCK_DIR": str(base / "locks"),
        "CIELO_CATALOG": f"sqlite:///{base / 'catalog.sqlite'}",
    }
    command = [sys.executable, "-m", "cielo.cli", "serve", "--port", str(port)]
    served = Served("cielo", f"http://127.0.0.1:{port}", [_spawn(command, env, base / "log")])
    try:
        yield served
    finally:
        served.stop()


@contextlib.contextmanager
def serve_bluesky(base: Path, venv: Path) -> Iterator[Served]:
    """redis-server, start-re-manager and start-bluesky-httpserver on free loopback ports."""
    import psutil

    redis_port, control, info, http = (_free_port() for _ in range(4))
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    log = base / "log"
    redis = [
        "redis-server", "--bind", "127.0.0.1", "--port", str(redis_port),
        "--save", "", "--appendonly", "no", "--dir", str(base),
    ]  # fmt: skip
    manager = [
        str(venv / "bin" / "start-re-manager"),
        "--redis-addr", f"127.0.0.1:{redis_port}",
        "--zmq-control-addr", f"tcp://127.0.0.1:{control}",
        "--zmq-info-addr", f"tcp://127.0.0.1:{info}",
        "--zmq-publish-console", "ON",
    ]  # fmt: skip
    http_env = {
        **env,
        "QSERVER_HTTP_SERVER_SINGLE_USER_API_KEY": KEY,
        "QSERVER_ZMQ_CONTROL_ADDRESS": f"tcp://127.0.0.1:{control}",
        "QSERVER_ZMQ_INFO_ADDRESS": f"tcp://127.0.0.1:{info}",
    }
    httpserver = [
        str(venv / "bin" / "start-bluesky-httpserver"), "--host", "127.0.0.1", "--port", str(http)
    ]  # fmt: skip
    served = Served("bluesky", f"http://127.0.0.1:{http}")
    try:
        served.processes.append(_spawn(redis, env, log))
        time.sleep(0.5)
        served.processes.append(_spawn(manager, env, log))
        served.processes.append(_spawn(httpserver, http_env, log))
        root = psutil.Process(served.processes[1].pid)
        before: set[int] = set()

        def worker_pid(status: dict[str, Any]) -> int | None:
            # the RE worker is the manager's descendant started by environment_open
            new = [p for p in root.children(recursive=True) if p.pid not in before]
            return max(new, key=lambda p: p.create_time()).pid if new else None

        served.worker_pid = worker_pid
        before.update(p.pid for p in root.children(recursive=True))
        yield served
    finally:
        served.stop()


class Driver:
    """One server driven over HTTP: ``call(path, body)`` and ``wait(condition)``.

    Requests go through the standard library's ``http.client`` on one keep-alive
    connection: it costs the client about 0.2 ms of CPU per request where httpx costs 0.8
    ms (measured here on both servers), and a round trip should measure the server.
    ``httpx_timed`` measures the same request through httpx, for comparison with the
    figures of earlier runs."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.address = urlsplit(served.url)
        self.connection = self._connect()
        self.client = httpx.Client(
            base_url=served.url, headers={"Authorization": f"ApiKey {KEY}"}, timeout=600
        )

    def _connect(self) -> http.client.HTTPConnection:
        host, port = self.address.hostname or "127.0.0.1", self.address.port or 80
        return http.client.HTTPConnection(host, port, timeout=600)

    def request(self, path: str, body: Any = None, method: str = "POST") -> bytes:
        """The answer's body (every request carries a JSON body, GET included)."""
        data = json.dumps(body or {}).encode()
        headers = {"Authorization": f"ApiKey {KEY}", "Content-Type": "application/json"}
        try:
            self.connection.request(method, path, body=data, headers=headers)
            return self.connection.getresponse().read()
        except (http.client.HTTPException, OSError):  # the server closed the connection
            self.connection.close()
            self.connection = self._connect()
            raise

    def call(self, path: str, body: Any = None, method: str = "POST") -> dict[str, Any]:
        reply: dict[str, Any] = json.loads(self.request(path, body, method))
        return reply

    def timed(self, path: str, body: Any = None, method: str = "POST") -> float:
        t = time.perf_counter()
        self.request(path, body, method)
        return time.perf_counter() - t

    def httpx_timed(self, path: str, body: Any = None, method: str = "POST") -> float:
        t = time.perf_counter()
        self.client.request(method, path, json=body or {}).raise_for_status()
        return time.perf_counter() - t

    def close(self) -> None:
        self.connection.close()
        self.client.close()

    def wait(
        self,
        cond: Callable[[dict[str, Any]], bool],
        limit: float = 600,
        every: float = 0.005,
        rtts: list[float] | None = None,
    ) -> float | None:
        """Seconds until the status satisfies ``cond`` (``None``: not within ``limit``),
        polled every ``every`` s; each round trip is appended to ``rtts``."""
        t = time.perf_counter()
        while time.perf_counter() - t < limit:
            with contextlib.suppress(OSError, http.client.HTTPException, ValueError, KeyError):
                asked = time.perf_counter()
                status = self.call("/api/status", method="GET")
                if rtts is not None:
                    rtts.append(time.perf_counter() - asked)
                if cond(status):
                    return time.perf_counter() - t
            time.sleep(every)
        return None


def measure(
    served: Served, repeats: int, give_up: float, watchers: int = 20, rounds: int = 2
) -> dict[str, str]:
    """The figures of one server, by name."""
    d = Driver(served)
    out: dict[str, str] = {}
    try:
        started = d.wait(lambda s: "manager_state" in s, 120)
        out["manager start-up"] = f"{started:.2f} s" if started is not None else "no answer"
        # cielo: its worker started ahead is ready (the anchor has no such key)
        d.wait(lambda s: "worker_standby_pid" not in s or s["worker_standby_pid"], 120)
        out["status"] = _ms([d.timed("/api/status", method="GET") for _ in range(repeats)])
        out["item_add"] = _ms(
            [d.timed("/api/queue/item/add", {"item": ITEM}) for _ in range(repeats)]
        )
        out["item_add (httpx client)"] = _ms(
            [d.httpx_timed("/api/queue/item/add", {"item": ITEM}) for _ in range(repeats)]
        )
        d.call("/api/queue/clear")

        t = time.perf_counter()
        d.call("/api/environment/open")
        d.wait(lambda s: s["worker_environment_exists"] and s["manager_state"] == "idle")
        out["environment open"] = f"{time.perf_counter() - t:.2f} s"

        d.call("/api/queue/item/add/batch", {"items": [ITEM] * 10})
        t = time.perf_counter()
        d.call("/api/queue/start")
        d.wait(lambda s: s["manager_state"] == "idle" and s["items_in_queue"] == 0)
        took = time.perf_counter() - t
        out["10 counts"] = f"{took:.3f} s, {took / 10 * 1e3:.0f} ms per item"

        t = time.perf_counter()
        for target in range(200, 10_001, 200):  # the anchor answers 408 to 500-item batches
            d.call("/api/queue/item/add/batch", {"items": [ITEM] * 200})  # (and adds them)
            d.wait(lambda s, n=target: s["items_in_queue"] >= n)  # type: ignore[misc]
        out["10,000 items, fill"] = f"{time.perf_counter() - t:.1f} s (50 batches of 200)"
        uid = d.call("/api/queue/item/get", {"pos": 5000}, method="GET")["item"]["item_uid"]
        n = min(repeats, 100)
        adds = [d.timed("/api/queue/item/add", {"item": ITEM, "pos": 5000}) for _ in range(n)]
        moves = [
            d.timed("/api/queue/item/move", {"uid": uid, "pos_dest": i * 37 % 10_000})
            for i in range(n)
        ]
        gets = [d.timed("/api/queue/item/get", {"uid": uid}, method="GET") for _ in range(n)]
        out["10,000 items, add"] = _ms(adds)
        out["10,000 items, move"] = _ms(moves)
        out["10,000 items, get"] = _ms(gets)
        t = time.perf_counter()
        size = len(d.request("/api/queue/get", method="GET"))
        took = time.perf_counter() - t
        out["whole queue JSON"] = f"{took * 1e3:.0f} ms ({size / 1e6:.1f} MB)"
        d.call("/api/queue/clear")

        out.update(_watched(d, watchers, rounds))

        for figure, sig in (
            ("dead worker found", signal.SIGKILL),
            ("hung worker found", signal.SIGSTOP),
        ):
            out[figure] = _lost_worker(d, sig, give_up)
            if "not noticed" in out[figure]:
                break
    finally:
        d.close()
    return out


class Watchers:
    """``n`` clients of ``/api/status/ws`` in one asyncio thread, each keeping what it
    receives as ``(receipt time, text)``."""

    def __init__(self, served: Served, n: int) -> None:
        self.url = served.url.replace("http", "ws", 1) + "/api/status/ws"
        self.n = n
        self.got: list[list[tuple[float, str]]] = [[] for _ in range(n)]
        self._loop = asyncio.new_event_loop()
        self._connected = 0
        self._all = threading.Event()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> Watchers:
        if not self.n:
            return self
        from websockets.asyncio.client import connect

        async def watch(got: list[tuple[float, str]]) -> None:
            headers = {"Authorization": f"ApiKey {KEY}"}
            async with connect(self.url, additional_headers=headers, max_size=None) as ws:
                self._connected += 1  # (in the loop's thread only)
                if self._connected == self.n:
                    self._all.set()
                async for text in ws:
                    got.append((time.time(), str(text)))

        self._thread.start()
        self._tasks = [asyncio.run_coroutine_threadsafe(watch(g), self._loop) for g in self.got]
        if not self._all.wait(60):
            raise RuntimeError(f"{self._connected} of {self.n} watchers connected in 60 s")
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.n:
            return
        for task in self._tasks:
            task.cancel()
        time.sleep(0.2)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def _scan_seconds(d: Driver, rtts: list[float] | None) -> float:
    """Run :data:`SCAN` through the queue; its duration from its history record."""
    d.call("/api/queue/item/add", {"item": SCAN})
    d.call("/api/queue/start")
    d.wait(lambda s: s["re_state"] == "running", 60, 0.01)
    d.wait(lambda s: s["manager_state"] == "idle" and s["items_in_queue"] == 0, 600, 0.1, rtts)
    last = d.call("/api/history/get", method="GET")["items"][-1]["result"]
    return float(last["time_stop"]) - float(last["time_start"])


def _watched(d: Driver, n: int, rounds: int) -> dict[str, str]:
    """The :data:`SCAN` alone and watched by ``n`` status websockets (see the docstring)."""
    alone: list[float] = []
    watched: list[float] = []
    rtts: list[float] = []
    lags: list[float] = []
    same = counts = 0
    for _ in range(rounds):
        alone.append(_scan_seconds(d, None))
        with Watchers(d.served, n) as w:
            time.sleep(0.5)  # what a server sends on connecting has arrived
            t = time.time()
            watched.append(_scan_seconds(d, rtts))
            time.sleep(0.5)  # the last pushes arrive
        during = [[text for when, text in got if when >= t] for got in w.got]
        same += sum(texts == during[0] for texts in during)
        counts = max(counts, len(during[0]))
        for got in w.got:
            for when, text in got:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    lags.append(when - float(json.loads(text)["time"]))
    a, b = statistics.median(alone), statistics.median(watched)
    out = {
        f"{n} watchers, scan slowdown": f"{(b / a - 1) * 100:+.1f} % ({a:.2f} s alone, {b:.2f} s)",
        f"{n} watchers, same messages": f"{same} of {n * rounds} ({counts} during a scan)",
        f"{n} watchers, HTTP status": _ms(rtts) if rtts else "",
    }
    if lags:
        out[f"{n} watchers, push latency"] = _ms(lags)
    return out


def _lost_worker(d: Driver, sig: signal.Signals, give_up: float) -> str:
    """Seconds from ``sig`` to the worker running a slow count until the status says the
    environment is gone; the environment is opened again afterwards."""
    if not d.wait(lambda s: s["worker_environment_exists"], 1):
        d.call("/api/environment/open")
        d.wait(lambda s: s["worker_environment_exists"] and s["manager_state"] == "idle")
    d.call("/api/queue/item/add", {"item": SLOW})
    d.call("/api/queue/start")
    d.wait(lambda s: s["re_state"] == "running")
    pid = d.served.worker_pid(d.call("/api/status", method="GET"))
    if pid is None:
        return "worker pid unknown"
    os.kill(pid, sig)
    took = d.wait(lambda s: not s["worker_environment_exists"], give_up)
    if sig == signal.SIGSTOP:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if took is None:
        return f"not noticed in {give_up:.0f} s"
    return f"{took:.2f} s"


def _ratio(ours: str, theirs: str) -> str:
    """``theirs / ours`` of the first number of each figure (``10.3x``)."""
    try:
        a, b = (
            float(ours.split()[1 if ours.startswith("p50") else 0]),
            float(theirs.split()[1 if theirs.startswith("p50") else 0]),
        )
    except (ValueError, IndexError):
        return ""
    return f"{b / a:.1f}x" if a > 0 else ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--only", choices=("cielo", "bluesky"), help="one server only")
    parser.add_argument("--anchor-venv", type=Path, default=Path("/work/bqs-venv"))
    parser.add_argument(
        "--give-up", type=float, default=20.0, help="seconds to wait for a lost worker"
    )
    parser.add_argument("--watchers", type=int, default=20, help="status websocket clients")
    parser.add_argument("--rounds", type=int, default=3, help="scans alone and watched, each")
    args = parser.parse_args(argv)
    repeats = 50 if args.quick else 300
    base = Path(tempfile.mkdtemp(prefix="cielo-bench-queue-"))
    print(f"load before: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} cores", flush=True)
    results: dict[str, dict[str, str]] = {}
    if args.only in (None, "cielo"):
        (base / "cielo").mkdir()
        with serve_cielo(base / "cielo") as served:
            results["cielo"] = measure(served, repeats, args.give_up, args.watchers, args.rounds)
        _print(results)
    if args.only in (None, "bluesky"):
        venv = args.anchor_venv
        missing = [
            what
            for what, ok in (
                (f"{venv}/bin/start-re-manager", (venv / "bin" / "start-re-manager").exists()),
                ("redis-server", shutil.which("redis-server") is not None),
            )
            if not ok
        ]
        if missing:
            print(f"bluesky side skipped: {', '.join(missing)} missing (see the docstring)")
        else:
            (base / "bluesky").mkdir()
            with serve_bluesky(base / "bluesky", venv) as served:
                results["bluesky"] = measure(
                    served, repeats, args.give_up, args.watchers, args.rounds
                )
            _print(results)
    print(f"load after: {os.getloadavg()[0]:.1f} (1 min); logs in {base}")


def _print(results: dict[str, dict[str, str]]) -> None:
    names = list(results)
    figures = list(dict.fromkeys(f for r in results.values() for f in r))
    width = max(map(len, figures))
    header = f"{'figure':<{width}}  " + "  ".join(f"{n:<34}" for n in names)
    lines = [header + ("  bluesky / cielo" if len(names) == 2 else "")]
    for figure in figures:
        cells = [results[n].get(figure, "") for n in names]
        row = f"{figure:<{width}}  " + "  ".join(f"{c:<34}" for c in cells)
        if len(names) == 2:
            row += "  " + _ratio(*cells)
        lines.append(row)
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
