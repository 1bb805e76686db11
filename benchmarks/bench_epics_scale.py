"""EPICS at facility scale: 10,000 PVs of one real IOC (pythonSoftIOC on loopback).

Run: ``.venv/bin/python benchmarks/bench_epics_scale.py [--pvs 10000]``. The script starts
the demo IOC with ``--extra-pvs N`` and measures each client in a fresh subprocess, so
threads and memory are that client's own:

* connect: time from creating the N read-only signals to all connected (with control
  information, which both cielo and ophyd fetch), the process's thread count after it,
  and the RSS growth;
* read all: one read of all N values (cielo: ``read_many``; ophyd: ``read()`` of each
  signal, as a plan's ``trigger_and_read`` would), median of 5;
* read one by one: cielo's ``read()`` of each signal in turn (monitor cache when fresh).

ophyd (pyepics control layer) and ophyd-async (its Channel Access backend, aioca: connect
gathers every signal's ``connect()``, which gets the control information; read gathers
every ``read()``) are the anchors, in the same run. Figures are printed, not asserted.
Targets (issue 14): connect 10,000 PVs <= 5 s with <= 20 threads; read all <= 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_epics import _free_port, start_ioc, stop

PREFIX = "BENCH:"
CLIENTS = ["cielo", "ophyd", "ophyd-async"]

CLIENT = r"""
import json, os, statistics, sys, threading, time

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

def threads():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0

kind, n, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if kind == "ophyd-async":
    import aioca  # its libca (epicscorelibs') loaded before the baseline figures
else:
    import epics  # pyepics' libca loaded before the baseline figures
base_rss, base_threads = rss_mb(), threads()
names = [f"{prefix}pv:{i}" for i in range(n)]
out = {}
if kind == "cielo":
    from cielo.devices import connect_all
    from cielo.plugins.epics import EpicsSignalRO, read_many
    t0 = time.perf_counter()
    signals = [EpicsSignalRO(name, name=f"pv{i}") for i, name in enumerate(names)]
    peak = [threads()]
    stop = threading.Event()
    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], threads()); time.sleep(0.01)
    threading.Thread(target=watch, daemon=True).start()
    connect_all(signals, timeout=30)
    out["connect_s"] = time.perf_counter() - t0
    stop.set()
    out["threads_peak"] = peak[0] - 1
    out["threads"] = threads() - 1
    out["rss_mb"] = rss_mb() - base_rss
    signals[0].describe()
    try:
        reads = []
        for _ in range(5):
            t0 = time.perf_counter(); r = read_many(signals); reads.append(time.perf_counter() - t0)
        assert len(r) == n
        out["read_all_s"] = statistics.median(reads)
    except Exception as exc:
        out["read_all_s"] = float("nan"); out["read_all_error"] = str(exc)[:200]
    t0 = time.perf_counter()
    errors = []
    for s in signals:
        try:
            s.read()
        except Exception as exc:
            errors.append(str(exc)[:120])
    out["read_each_s"] = time.perf_counter() - t0
    if errors:
        out["read_each_errors"] = [len(errors), errors[:3]]
elif kind == "ophyd":
    from ophyd import EpicsSignalRO
    t0 = time.perf_counter()
    signals = [EpicsSignalRO(name, name=f"pv{i}") for i, name in enumerate(names)]
    peak = [threads()]
    for s in signals:
        s.wait_for_connection(timeout=30)
        peak[0] = max(peak[0], threads())
    # ophyd fetches control information lazily: describe() is where a run needs it
    for s in signals:
        s.describe()
    out["connect_s"] = time.perf_counter() - t0
    out["threads_peak"] = peak[0]
    out["threads"] = threads()
    out["rss_mb"] = rss_mb() - base_rss
    reads = []
    for _ in range(5):
        t0 = time.perf_counter()
        r = {}
        for s in signals:
            r.update(s.read())
        reads.append(time.perf_counter() - t0)
    out["read_all_s"] = statistics.median(reads)
elif kind == "ophyd-async":
    import asyncio
    from ophyd_async.epics.core import epics_signal_r

    async def run():
        signals = [epics_signal_r(float, name, name=f"pv{i}") for i, name in enumerate(names)]
        t0 = time.perf_counter()
        # connect() gets each PV's control information (FORMAT_CTRL), as cielo's does
        await asyncio.gather(*(s.connect(timeout=30) for s in signals))
        out["connect_s"] = time.perf_counter() - t0
        out["threads_peak"] = out["threads"] = threads()
        out["rss_mb"] = rss_mb() - base_rss
        reads = []
        for _ in range(5):
            t0 = time.perf_counter()
            r = await asyncio.gather(*(s.read() for s in signals))
            reads.append(time.perf_counter() - t0)
        assert len(r) == n
        out["read_all_s"] = statistics.median(reads)

    asyncio.run(run())
out["base_threads"] = base_threads
print("RESULT " + json.dumps(out))
"""


def run_client(kind: str, n: int, env: dict[str, str]) -> dict[str, float] | str:
    proc = subprocess.run(
        [sys.executable, "-c", CLIENT, kind, str(n), PREFIX],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return (proc.stderr or proc.stdout).strip().splitlines()[-1:][0] if proc.returncode else "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pvs", type=int, default=10_000, help="number of PVs (default 10000)")
    parser.add_argument("--clients", nargs="+", default=CLIENTS, choices=CLIENTS)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each client")
    args = parser.parse_args(argv)
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ioc, repeater = start_ioc(port, Path(tmp), extra_pvs=args.pvs)
        print(f"IOC with {args.pvs} extra PVs ready in {time.perf_counter() - t0:.1f} s")
        env = dict(os.environ)
        env.update({"EPICS_CA_ADDR_LIST": f"127.0.0.1:{port}", "EPICS_CA_AUTO_ADDR_LIST": "NO",
                    "EPICS_CA_MAX_ARRAY_BYTES": "10000000"})  # fmt: skip
        try:
            print(f"{'client':11} {'connect s':>10} {'threads':>8} {'peak':>6} {'RSS MB':>8} "
                  f"{'read all s':>11} {'read each s':>12}")  # fmt: skip
            for kind in args.clients:
                results = [run_client(kind, args.pvs, env) for _ in range(args.repeat)]
                for res in results:
                    if isinstance(res, str):
                        print(f"{kind:11} failed: {res}")
                        continue
                    print(f"{kind:11} {res['connect_s']:10.2f} {res['threads']:8d} "
                          f"{res['threads_peak']:6d} {res['rss_mb']:8.1f} "
                          f"{res['read_all_s']:11.3f} {res.get('read_each_s', float('nan')):12.3f}")  # fmt: skip
                    if "read_each_errors" in res:
                        print(f"{kind:11} read each: {res['read_each_errors']}")
                    if "read_all_error" in res:
                        print(f"{kind:11} read all failed: {res['read_all_error']}")
        finally:
            stop(ioc)
            stop(repeater)
    print("targets: connect 10,000 PVs <= 5 s, <= 20 threads; read all <= 0.5 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
