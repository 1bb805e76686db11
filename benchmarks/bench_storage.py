"""Storage figures on SQLite and PostgreSQL: ingest, search, read, suitcase throughput.

- ingest: events/s stored by the live catalog writer during a stream of ``--events``
  events (start to committed stop), and by importing the same run from a JSONL archive;
- search: median latency of a metadata query (equality, range, composed) and of a
  full-text query over a catalog of ``--runs`` runs (count and first page of results);
- engine: events/s of a ``count`` on cielo's RunEngine (sim detector) with the catalog
  writer subscribed, and without it;
- read: seconds to read the ``--events``-event stream as a pandas table;
- suitcases: events/s written by the jsonl, msgpack and csv suitcases.

Run: ``.venv/bin/python benchmarks/bench_storage.py`` (``--events 100000 --runs 10000
--backends sqlite,postgresql``). PostgreSQL is a throwaway cluster started here as the
``postgres`` user on a free loopback port and stopped by its PID.
"""

from __future__ import annotations

import argparse
import os
import pwd
import random
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cielo.storage import FullText, Key, PlanName, open_catalog

Document = dict[str, Any]


def make_run(
    n: int, *, scan_id: int = 1, t0: float | None = None, md: Document | None = None
) -> list[tuple[str, Document]]:
    """A run of ``n`` events of three scalar keys (motor, motor_setpoint, det)."""
    t0 = time.time() if t0 is None else t0
    uid = str(uuid.uuid4())
    start = {"uid": uid, "time": t0, "scan_id": scan_id, "plan_name": "scan", **(md or {})}
    desc = {
        "uid": str(uuid.uuid4()), "run_start": uid, "time": t0, "name": "primary",
        "data_keys": {k: {"source": f"sim:{k}", "dtype": "number", "shape": []}
                      for k in ("motor", "motor_setpoint", "det")},
        "configuration": {}, "object_keys": {"motor": ["motor", "motor_setpoint"], "det": ["det"]},
    }  # fmt: skip
    docs: list[tuple[str, Document]] = [("start", start), ("descriptor", desc)]
    for i in range(n):
        t = t0 + i * 1e-3
        docs.append(("event", {
            "uid": str(uuid.uuid4()), "descriptor": desc["uid"], "time": t, "seq_num": i + 1,
            "data": {"motor": i * 0.01, "motor_setpoint": i * 0.01, "det": random.random()},
            "timestamps": {"motor": t, "motor_setpoint": t, "det": t},
        }))  # fmt: skip
    docs.append(("stop", {"uid": str(uuid.uuid4()), "run_start": uid, "time": t0 + n * 1e-3,
                          "exit_status": "success", "num_events": {"primary": n}}))  # fmt: skip
    return docs


@contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL server; yields an admin URI."""
    pgbin = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))[-1]
    tmp = Path(tempfile.mkdtemp(prefix="cielo-bench-pg-", dir="/tmp"))
    pw = pwd.getpwnam("postgres")
    os.chown(tmp, pw.pw_uid, pw.pw_gid)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*run, str(pgbin / "initdb"), "-D", str(tmp / "data"), "-A", "trust", "-U", "postgres",
                    "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)  # fmt: skip
    opts = f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*run, str(pgbin / "pg_ctl"), "-D", str(tmp / "data"), "-l", str(tmp / "log"), "-w",
                    "-o", opts, "start"], check=True, capture_output=True)  # fmt: skip
    pid = int((tmp / "data" / "postmaster.pid").read_text().split()[0])
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        os.kill(pid, signal.SIGQUIT)
        time.sleep(0.5)
        shutil.rmtree(tmp, ignore_errors=True)


def fresh_uri(backend: str, tmp: Path, pg_admin: str | None) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / f'{uuid.uuid4().hex[:8]}.sqlite'}"
    import psycopg

    assert pg_admin is not None
    name = "b_" + uuid.uuid4().hex[:10]
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    return f"{pg_admin}?options=-csearch_path%3D{name}"


def bench_suitcases(docs: list[tuple[str, Document]], tmp: Path) -> None:
    from cielo.plugins.suitcases import cielo_suitcases

    n = len(docs) - 3
    factories = cielo_suitcases()
    for kind in ("jsonl", "msgpack", "csv"):
        callback = factories[kind](directory=tmp / kind)
        t = time.perf_counter()
        for name, doc in docs:
            callback(name, doc)
        dt = time.perf_counter() - t
        print(f"  suitcase {kind:8s} {n / dt:12,.0f} events/s  ({dt:.2f} s for {n:,} events)")


def bench_ingest_and_read(
    backend: str, docs: list[tuple[str, Document]], archive: Path, tmp: Path, pg: str | None
) -> None:
    n = len(docs) - 3
    cat = open_catalog(fresh_uri(backend, tmp, pg))
    writer = cat.writer()  # live defaults: batches of 5000, max_delay 0.5 s, durable stop
    t = time.perf_counter()
    for name, doc in docs:
        writer(name, doc)
    dt = time.perf_counter() - t
    writer.close()
    print(f"  live writer       {n / dt:12,.0f} events/s  ({dt:.2f} s, target >= 50,000 on SQLite)")
    stream = cat[-1]["primary"]
    times = []
    for _ in range(3):
        t = time.perf_counter()
        table = stream.read()
        times.append(time.perf_counter() - t)
    assert len(table) == n
    print(
        f"  read table        {min(times):12.3f} s         ({n:,} events x {table.shape[1]} columns, target <= 1 s)"
    )
    cat2 = open_catalog(fresh_uri(backend, tmp, pg))
    t = time.perf_counter()
    cat2.import_documents(archive)
    dt = time.perf_counter() - t
    print(f"  replay import     {n / dt:12,.0f} events/s  ({dt:.2f} s from JSONL)")
    cat.close()
    cat2.close()


def bench_engine(backend: str, n: int, tmp: Path, pg: str | None) -> None:
    """A ``count`` of ``n`` events of the sim detector on cielo's RunEngine: alone, with a
    subscriber that does nothing (the engine's cost of delivering documents), and with
    the catalog writer subscribed."""
    from cielo import RunEngine, load_profile

    os.environ.pop("CIELO_CATALOG", None)
    env = load_profile("sim")
    rates = {}
    for label in ("alone", "no-op subscriber", "catalog writer"):
        cat = open_catalog(fresh_uri(backend, tmp, pg))
        writer = cat.writer() if label == "catalog writer" else None
        with RunEngine(plugin_manager=env.pm) as RE:
            if label == "no-op subscriber":
                RE.subscribe(lambda name, doc: None)
            if writer is not None:
                RE.subscribe(writer)
            t = time.perf_counter()
            RE(env.plans["count"]([env.devices["det"]], num=n))
        if writer is not None:
            writer.close()
            assert len(cat[-1]["primary"].read(["det"])) == n
        rates[label] = n / (time.perf_counter() - t)
        cat.close()
    print(
        f"  RunEngine count    {rates['catalog writer']:12,.0f} events/s stored live "
        f"({n:,} events; {rates['no-op subscriber']:,.0f}/s with a no-op subscriber, "
        f"{rates['alone']:,.0f}/s alone)"
    )


WORDS = [
    "silicon",
    "quartz",
    "graphene",
    "perovskite",
    "zeolite",
    "magnetite",
    "lysozyme",
    "cellulose",
]


def bench_search(backend: str, runs: int, tmp: Path, pg: str | None, repeat: int) -> None:
    rng = random.Random(1)
    cat = open_catalog(fresh_uri(backend, tmp, pg))
    samples = [f"{rng.choice(WORDS)}-{i}" for i in range(runs)]
    t = time.perf_counter()
    with cat.writer(batch_size=20_000, max_delay=0, durable=False) as writer:
        for i in range(runs):
            md = {
                "sample": samples[i],
                "temperature": rng.uniform(4, 600),
                "operator": f"user{i % 37}",
                "tags": rng.sample(WORDS, 2),
                "proposal": {"id": 10_000 + i % 500, "title": f"study of {rng.choice(WORDS)}"},
            }
            for name, doc in make_run(1, scan_id=i + 1, t0=1.7e9 + i * 60, md=md):
                writer(name, doc)
    cat.optimize()  # planner statistics, as import_documents does after a large import
    print(f"  filled {runs:,} runs in {time.perf_counter() - t:.1f} s")
    queries = {
        "equality, 1 match (sample)": lambda: Key("sample") == rng.choice(samples),
        "equality, 1/37 (operator)": lambda: Key("operator") == f"user{rng.randrange(37)}",
        "range 1/2 + plan (temperature)": lambda: (
            (Key("temperature") > rng.uniform(4, 590)) & PlanName("scan")
        ),
        "nested key (proposal.id)": lambda: Key("proposal.id") == 10_000 + rng.randrange(500),
        "scan_id range": lambda: (
            (Key("scan_id") >= (a := rng.randrange(runs))) & (Key("scan_id") < a + 50)
        ),
        "full text (one word)": lambda: FullText(rng.choice(WORDS)),
        "full text (two words)": lambda: FullText(" ".join(rng.sample(WORDS, 2))),
    }
    for label, make in queries.items():
        times = []
        for _ in range(repeat):
            q = make()
            t = time.perf_counter()
            found = cat.search(q)
            len(found)
            found.sorted("-time").summaries(limit=20)
            times.append(time.perf_counter() - t)
        print(
            f"  search {label:32s} median {statistics.median(times) * 1e3:7.2f} ms (count + first 20)"
        )
    cat.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--engine-events", type=int, default=100_000, help="0 to skip")
    parser.add_argument("--repeat", type=int, default=25, help="queries per search figure")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    backends = args.backends.split(",")
    random.seed(0)
    with tempfile.TemporaryDirectory(prefix="cielo-bench-storage-") as tmpdir:
        tmp = Path(tmpdir)
        docs = make_run(args.events)
        print(f"suitcases ({args.events:,} events of 3 scalar keys)")
        bench_suitcases(docs, tmp)
        archive = next((tmp / "jsonl").glob("*.jsonl"))
        pg_ctx = postgres() if "postgresql" in backends else None
        pg = pg_ctx.__enter__() if pg_ctx else None
        try:
            for backend in backends:
                print(f"{backend}: ingest and read ({args.events:,} events)")
                bench_ingest_and_read(backend, docs, archive, tmp, pg)
                if args.engine_events:
                    bench_engine(backend, args.engine_events, tmp, pg)
                print(f"{backend}: search over {args.runs:,} runs")
                bench_search(backend, args.runs, tmp, pg, args.repeat)
        finally:
            if pg_ctx:
                pg_ctx.__exit__(None, None, None)


if __name__ == "__main__":
    main()
