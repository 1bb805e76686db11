"""The catalog at facility scale: query shapes, paging, opening a run and writing while
searching, on SQLite and PostgreSQL catalogs of ``--runs`` runs (default 100,000; the
issue's size is 1,000,000), side by side with Tiled's SQL catalog on the same runs.

Each run is a 10-point step scan (one descriptor, ten events of three scalar readings, a
stop document) with the metadata of a beamline run: plan arguments, sample (``S-42``: one
run in 5,000), proposal, operator, temperature, tags, a free-text purpose (``lot4242``:
one run in 10,000). Runs are stored by cielo's own ``CatalogWriter`` (the path of
``cielo catalog import``); for the fill only, the secondary indexes are dropped first
and built again at the end (the same definitions, read back from the database), so a
million runs take minutes instead of hours.

Filled catalogs are kept under ``--cache`` (default ``/work/bench-cache/catalog-scale``)
and reused: the SQLite files, and a PostgreSQL data folder whose server this script starts
on a free loopback port and stops by its PID. Tiled (``--tiled-python``, a virtualenv with
``tiled[server]``, ``psycopg[binary]``) gets the same start and stop documents as one
container node per run, ``{"start": ..., "stop": ...}`` as Bluesky's Tiled writer stores
them, inserted into the ``nodes`` table its own ``tiled catalog init`` created (its
triggers fill its closure and full-text tables); it holds no events.

Run: ``python benchmarks/bench_catalog_scale.py --runs 1000000`` (``--runs 20000`` for a
quick look; ``--backends sqlite``; ``--no-tiled``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import pwd
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from cielo.storage import (
    Catalog,
    ExitStatus,
    FullText,
    Key,
    ScanID,
    TimeRange,
    dumps,
    open_catalog,
)
from cielo.storage._schema import KeyRows, flatten_metadata
from cielo.storage._writer import payload, stored_page

Document = dict[str, Any]
T0 = 1_600_000_000.0  # the first run; one run every 30 s after it
OPERATORS = ["alvarez", "brandt", "chen", "dubois", "eze", "fischer", "gupta", "hale"]
PLANS = ["scan", "rel_scan", "count", "grid_scan", "list_scan"]
SIDE = Path(__file__).with_name("_tiled_catalog_side.py")


# -- the runs ---------------------------------------------------------------------------
def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def make_run(i: int, rng: random.Random) -> Iterator[tuple[str, Document]]:
    """Run number ``i`` (0-based) of the benchmark catalog, reproducible from ``rng``."""
    t = T0 + 30.0 * i
    uid = _uid(rng)
    num = 1 + (i * 7) % 20
    start: Document = {
        "uid": uid, "time": t, "scan_id": i + 1, "plan_name": PLANS[i % 5], "plan_type": "generator",
        "plan_args": {"detectors": ["det"], "motor": "motor", "start": -1.0, "stop": 1.0, "num": num},
        "detectors": ["det"], "motors": ["motor"], "num_points": num, "num_intervals": num - 1,
        "hints": {"dimensions": [[["motor"], "primary"]]},
        "sample": f"S-{i % 5000}", "proposal": {"id": 300_000 + i // 2000, "pi": OPERATORS[(i // 2000) % 8]},
        "operator": OPERATORS[i % 8], "temperature": 295.0 + i % 100,
        "tags": ["calibration"] if i % 97 == 0 else ["powder", "xrd"], "beamline_id": "BL-7",
        "versions": {"cielo": "0.1"}, "purpose": f"powder diffraction lot{i % 10_000}",
    }  # fmt: skip
    yield "start", start
    desc = _uid(rng)
    yield "descriptor", {
        "uid": desc, "run_start": uid, "time": t + 0.01, "name": "primary",
        "data_keys": {k: {"source": f"sim:{k}", "dtype": "number", "shape": []}
                      for k in ("motor", "motor_setpoint", "det")},
        "configuration": {}, "object_keys": {"motor": ["motor", "motor_setpoint"], "det": ["det"]},
    }  # fmt: skip
    for n in range(10):
        te = t + 0.1 * (n + 1)
        x = -1.0 + 2.0 * n / 9
        yield "event", {
            "uid": _uid(rng), "descriptor": desc, "time": te, "seq_num": n + 1,
            "data": {"motor": x, "motor_setpoint": x, "det": rng.random()},
            "timestamps": {"motor": te, "motor_setpoint": te, "det": te}, "filled": {},
        }  # fmt: skip
    if i % 1000 == 999:
        return  # one run in a thousand never stopped: incomplete
    yield "stop", {
        "uid": _uid(rng), "run_start": uid, "time": t + 1.2, "num_events": {"primary": 10},
        "exit_status": "abort" if i % 250 == 7 else "success", "reason": "",
    }  # fmt: skip


# -- filling, once ------------------------------------------------------------------------
def _indexes(cat: Catalog) -> list[tuple[str, str]]:
    """``(name, CREATE statement)`` of the catalog's secondary indexes."""
    db = cat.db
    if db.dialect.name == "sqlite":
        rows = db.query(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
    else:
        rows = db.query(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND indexname NOT LIKE '%pkey' AND indexname NOT LIKE '%key'"  # constraints stay
        )
    return [(r[0], r[1]) for r in rows]


def bulk_rows(
    i: int, rng: random.Random
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Run ``i``'s row of ``runs``, its flattened metadata (for ``run_keys``) and its rows
    of ``documents`` as ``CatalogWriter`` stores them (checked against it by
    :func:`check_bulk_rows`), run id ``i + 1``."""
    docs = dict.fromkeys(("start", "descriptor", "stop"), None) | {"event": []}
    for name, doc in make_run(i, rng):
        if name == "event":
            docs["event"].append(doc)
        else:
            docs[name] = doc
    start, desc, stop, events = docs["start"], docs["descriptor"], docs["stop"], docs["event"]
    keys, text = flatten_metadata(start)
    run = (
        i + 1, start["uid"], start["scan_id"], start["time"], start["plan_name"],
        stop and stop["exit_status"], stop and stop["time"], len(events) if stop else None,
        dumps(start), stop and dumps(stop), text,
    )  # fmt: skip
    page = stored_page(events, list(range(2, 2 + len(events))))
    documents = [
        (i + 1, 1, "descriptor", desc["uid"], "primary", None, None, dumps(desc), None),
        (i + 1, 2, "events", None, desc["uid"], 1, len(events), *payload(page, desc["uid"])),
    ]
    return run, keys, documents


RUN_COLUMNS = (
    "id, uid, scan_id, time, plan_name, exit_status, stop_time, num_events, start, stop, text"
)
DOC_COLUMNS = "run_id, ord, name, uid, ref, first_seq, last_seq, doc, data"


def _contents(cat: Catalog) -> tuple[list[Any], ...]:
    db = cat.db
    return (
        db.query(f"SELECT {RUN_COLUMNS.replace('id, ', '', 1)} FROM runs ORDER BY uid"),
        sorted(db.query("SELECT uid, key, elem, typ, val FROM run_keys JOIN runs ON runs.id = run_id "
                        "JOIN key_paths ON key_paths.id = path"), key=repr),
        db.query("SELECT runs.uid, ord, name, documents.uid, ref, first_seq, last_seq, doc, data "
                 "FROM documents JOIN runs ON runs.id = run_id ORDER BY runs.uid, ord"),
    )  # fmt: skip


def check_bulk_rows(folder: Path, runs: int = 1000) -> None:
    """The bulk rows of the first ``runs`` runs equal what ``CatalogWriter`` stores."""
    written = open_catalog(f"sqlite:///{folder / 'check-writer.sqlite'}")
    with written.writer(max_delay=0, durable=False) as writer:
        rng = random.Random(42)
        for i in range(runs):
            for name, doc in make_run(i, rng):
                writer(name, doc)
    bulk = open_catalog(f"sqlite:///{folder / 'check-bulk.sqlite'}")
    _insert(bulk, chunk_rows(0, runs))
    mismatch = [name for name, a, b in zip(("runs", "run_keys", "documents"),
                                           _contents(written), _contents(bulk), strict=True) if a != b]  # fmt: skip
    written.close()
    bulk.close()
    for f in folder.glob("check-*.sqlite*"):
        f.unlink()
    if mismatch:
        raise SystemExit(f"the bulk path differs from CatalogWriter in {mismatch}")


Rows = tuple[list[tuple[Any, ...]], list[list[tuple[Any, ...]]], list[tuple[Any, ...]]]


def chunk_rows(first: int, stop: int) -> Rows:
    """The rows of runs ``first`` to ``stop - 1`` (``runs``, flattened metadata per run,
    ``documents``), drawn from a generator seeded by ``first`` (42 for the first runs, as
    :func:`check_bulk_rows` expects), so chunks can be made in parallel."""
    rng = random.Random(42 if first == 0 else f"42-{first}")
    runs, flat, docs = [], [], []
    for i in range(first, stop):
        run, k, d = bulk_rows(i, rng)
        runs.append(run)
        flat.append(k)
        docs += d
    return runs, flat, docs


def _insert(cat: Catalog, rows: Rows) -> None:
    """Store one :func:`chunk_rows` chunk."""
    runs, flat, docs = rows
    key_rows = KeyRows.of(cat.db)
    key_rows.resolve((k, e, t) for keys in flat for k, e, t, _, _ in keys)
    keys = [row for run, f in zip(runs, flat, strict=True) for row in key_rows.rows(run[0], f)]
    key_columns = key_rows.insert.split("(")[1].split(")")[0]
    db = cat.db
    run_columns = RUN_COLUMNS
    if db.dialect.name == "postgresql":  # with the hashes of strings, booleans and None
        runs = [(*run, key_rows.hashes(f)) for run, f in zip(runs, flat, strict=True)]
        run_columns += ", keys"
    tables = (
        ("runs", run_columns, runs),
        ("run_keys", key_columns, keys),
        ("documents", DOC_COLUMNS, docs),
    )
    with db.transaction():
        for table, columns, rows_ in tables:
            if db.dialect.name == "sqlite":
                marks = ", ".join("?" * len(rows_[0]))
                db.raw.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows_)
            else:
                with (
                    db.raw.cursor() as cur,
                    cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
                ):
                    for row in rows_:
                        copy.write_row(row)


def fill(uris: list[str], n: int, cache: Path, jobs: int) -> float:
    """Store ``n`` runs at each of ``uris`` (the runs made once, by ``jobs`` processes, for
    all of them); return the seconds it took."""
    t = time.perf_counter()
    check_bulk_rows(cache)
    cats = [open_catalog(uri) for uri in uris]
    indexes = [_indexes(cat) for cat in cats]
    for cat, named in zip(cats, indexes, strict=True):
        with cat.db.transaction():
            for name, _ in named:
                cat.db.execute(f"DROP INDEX {name}")
    bounds = [(first, min(n, first + 10_000)) for first in range(0, n, 10_000)]
    with multiprocessing.Pool(jobs) as pool:
        for (_, stop), rows in zip(bounds, pool.imap(_chunk, bounds), strict=True):
            for cat in cats:
                _insert(cat, rows)
            if stop % 100_000 == 0:
                print(f"    {stop:,} runs stored ({time.perf_counter() - t:.0f} s)", flush=True)
    for cat, named in zip(cats, indexes, strict=True):
        print(f"    building {len(named)} indexes ({cat.db.dialect.name})", flush=True)
        with cat.db.transaction():
            if cat.db.dialect.name == "postgresql":  # ids were given: new runs number after them
                cat.db.execute(f"ALTER TABLE runs ALTER COLUMN id RESTART WITH {n + 1}")
            for _, sql in named:
                cat.db.execute(sql)
        cat.optimize()
        cat.close()
    return time.perf_counter() - t


def _chunk(bounds: tuple[int, int]) -> Rows:
    return chunk_rows(*bounds)


@contextmanager
def postgres(folder: Path) -> Iterator[str]:
    """A PostgreSQL server on ``folder`` (created once, kept); yields an admin URI. A server
    another run of this script started there is used as it is (and left to that run)."""
    pgbin = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))[-1]
    pw = pwd.getpwnam("postgres")
    run = ["runuser", "-u", "postgres", "--"]
    if not (folder / "data" / "PG_VERSION").exists():
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, pw.pw_uid, pw.pw_gid)
        subprocess.run([*run, str(pgbin / "initdb"), "-D", str(folder / "data"), "-A", "trust",
                        "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"],
                       check=True, capture_output=True)  # fmt: skip
    pidfile = folder / "data" / "postmaster.pid"
    if pidfile.exists():  # started by another run of this script: use it, leave it running
        pid, _, _, port = pidfile.read_text().split("\n")[:4]
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            pass
        else:
            yield f"postgresql://postgres@127.0.0.1:{port}"
            return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    opts = (
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c shared_buffers=512MB -c max_wal_size=4GB -c maintenance_work_mem=512MB"
    )
    subprocess.run([*run, str(pgbin / "pg_ctl"), "-D", str(folder / "data"), "-l",
                    str(folder / "log"), "-w", "-o", opts, "start"], check=True, capture_output=True)  # fmt: skip
    pid = int((folder / "data" / "postmaster.pid").read_text().split()[0])
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        os.kill(pid, signal.SIGINT)  # fast shutdown: the data is kept
        for _ in range(600):
            if not (folder / "data" / "postmaster.pid").exists():
                break
            time.sleep(0.1)


def pg_database(admin: str, name: str, *, fresh: bool) -> str:
    """A URI for database ``name``, made empty first if ``fresh``."""
    import psycopg

    with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
        if fresh:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f"CREATE DATABASE {name}")
    return f"{admin}/{name}"


def ready(cache: Path, key: str) -> bool:
    return (cache / f"{key}.done").exists()


def mark(cache: Path, key: str, seconds: float) -> None:
    (cache / f"{key}.done").write_text(f"{seconds:.0f}\n")


# -- measuring ------------------------------------------------------------------------------
def median_ms(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """``(median, fastest)`` of ``repeat`` timings in ms after one warm-up (each query timed
    as a user would repeat it; on a loaded machine the median includes waiting for a CPU,
    the fastest much less); a query whose warm-up took over 2 s is timed once more only."""
    t = time.perf_counter()
    fn()
    if time.perf_counter() - t > 2.0:
        repeat = 1
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, min(times) * 1000


def queries(n: int) -> dict[str, Any]:
    """The query shapes of the issue and of docs/storage/catalog.md, on run-start keys."""
    mid = T0 + 30.0 * (n // 2)
    return {
        "equality, 1 run in 5,000 (sample)": Key("sample") == "S-42",
        "broad AND narrow (num_points > 5, sample)": (Key("num_points") > 5) & (Key("sample") == "S-42"),
        "nested key (proposal.id)": Key("proposal.id") == 300_000 + (n // 2) // 2000,
        "range on a number (temperature > 390)": Key("temperature") > 390,
        "list element (tags contains calibration)": Key("tags").contains("calibration"),
        "time range (one day)": TimeRange(mid, mid + 86_400),
        "scan id": ScanID(n // 2),
        "scan id range (100)": ScanID(start=n // 2, stop=n // 2 + 99),
        "exit status incomplete": ExitStatus("incomplete"),
        "full text, one word (1 in 10,000)": FullText("lot4242"),
        "regex on a key (^S-424)": Key("sample").regex("^S-424"),
    }  # fmt: skip


Figure = float | tuple[float, float]  # a number, or (median, fastest) of timings


def bench_cielo(uri: str, n: int, repeat: int) -> dict[str, Figure]:
    out: dict[str, Figure] = {}
    cat = open_catalog(uri)
    assert len(cat) == n, (len(cat), n)
    for label, query in queries(n).items():
        found = cat.search(query)
        out[f"{label}: first page"] = median_ms(lambda f=found: f.summaries(limit=20), repeat)  # type: ignore[misc]
        out[f"{label}: count"] = median_ms(lambda f=found: len(f), repeat)  # type: ignore[misc]
        out[f"{label}: count up to 10,000"] = median_ms(lambda f=found: f.count(10_001), repeat)  # type: ignore[misc]
    uids = [s["uid"] for s in cat.summaries(offset=n // 2, limit=3)]
    out["partial uid (8 characters)"] = median_ms(lambda: cat[uids[0][:8]], repeat)
    out["open a run by uid (start, stop)"] = median_ms(lambda: cat[uids[1]].stop, repeat)
    out["open a run and read its primary stream"] = median_ms(
        lambda: cat[uids[2]]["primary"].read(), repeat
    )
    out["page near the end (cat[n-20:n-10])"] = median_ms(lambda: cat[n - 20 : n - 10], repeat)
    out["page near the end from the end (cat[-20:-10])"] = median_ms(lambda: cat[-20:-10], repeat)
    out["page in the middle (offset n/2)"] = median_ms(
        lambda: cat.summaries(offset=n // 2, limit=20), repeat
    )
    out["next page after a uid (middle)"] = median_ms(
        lambda: cat.summaries(after=uids[0], limit=20), repeat
    )
    newest = cat.sorted("-time")
    out["newest 20 (sorted -time)"] = median_ms(lambda: newest.summaries(limit=20), repeat)
    t = time.perf_counter()
    count = sum(1 for _ in cat)
    out["iterate all uids (s)"] = time.perf_counter() - t
    assert count == n
    out.update(write_while_searching(uri, cat, n))
    out.update(disk(cat))
    cat.close()
    return out


def write_while_searching(
    uri: str, cat: Catalog, n: int, seconds: float = 10.0
) -> dict[str, float]:
    """Live runs (durable writer, as a RunEngine's) stored while another connection searches;
    the runs are deleted afterwards, so the cached catalog stays as filled."""
    stop = threading.Event()
    latencies: list[float] = []

    def searcher() -> None:
        reader = open_catalog(uri)
        found = reader.search(Key("sample") == "S-42")
        while not stop.is_set():
            t = time.perf_counter()
            found.summaries(limit=20)
            latencies.append(time.perf_counter() - t)
        reader.close()

    def write(duration: float, seed: int) -> list[str]:
        rng = random.Random(seed)
        uids = []
        deadline = time.perf_counter() + duration
        with cat.writer() as writer:
            i = n
            while time.perf_counter() < deadline:
                for name, doc in make_run(i, rng):
                    if name == "start":
                        doc["sample"] = "live"
                        uids.append(doc["uid"])
                    writer(name, doc)
                i += 1
        return uids

    quiet = write(seconds / 2, 7)
    thread = threading.Thread(target=searcher)
    thread.start()
    try:
        busy = write(seconds / 2, 8)
    finally:
        stop.set()
        thread.join()
    for uid in quiet + busy:
        cat.delete(uid)
    return {
        "insert runs/s alone": len(quiet) / (seconds / 2),
        "insert runs/s while searching": len(busy) / (seconds / 2),
        "search while inserting, median": statistics.median(latencies) * 1000,
        "search while inserting, p99": sorted(latencies)[int(len(latencies) * 0.99)] * 1000,
    }


def disk(cat: Catalog) -> dict[str, float]:
    """Bytes per run: all; besides the ``documents`` table (its rows and primary key);
    besides every document (the start and stop documents kept in ``runs`` too)."""
    db = cat.db
    if db.dialect.name == "sqlite":
        path = Path(cat.uri[len("sqlite:///") :])
        total = path.stat().st_size
        docs = db.query(
            "SELECT SUM(pgsize) FROM dbstat WHERE name = 'documents' OR name LIKE 'sqlite_autoindex_documents%'"
        )[0][0]
        own = db.query("SELECT SUM(length(start) + COALESCE(length(stop), 0)) FROM runs")[0][0]
    else:
        total = db.query("SELECT pg_database_size(current_database())")[0][0]
        docs = db.query("SELECT pg_total_relation_size('documents')")[0][0]
        own = db.query(
            "SELECT SUM(pg_column_size(start) + COALESCE(pg_column_size(stop), 0)) FROM runs"
        )[0][0]
    runs = db.query("SELECT COUNT(*) FROM runs")[0][0]
    size = "octet_length" if db.dialect.name == "postgresql" else "length"
    pages, events = db.query(
        f"SELECT SUM({size}(doc) + COALESCE({size}(data), 0)), SUM(last_seq - first_seq + 1) "
        "FROM documents WHERE name = 'events'"
    )[0]
    return {
        "stored pages of events, bytes/event": (pages or 0) / max(events or 1, 1),
        "disk bytes/run, all": total / runs,
        "disk bytes/run besides the documents table": (total - (docs or 0)) / runs,
        "disk bytes/run besides all documents (start, stop too)": (total - (docs or 0) - (own or 0))
        / runs,
    }


# -- Tiled ----------------------------------------------------------------------------------
def tiled_fill(python: str, uri: str, source: str, n: int, cache: Path, key: str) -> None:
    if not ready(cache, key):
        print(f"filling Tiled ({key})", flush=True)
        t = time.perf_counter()
        subprocess.run([python, str(SIDE), "--uri", uri, "--source", source, "--fill"], check=True)
        mark(cache, key, time.perf_counter() - t)


def tiled(python: str, uri: str, n: int, repeat: int) -> dict[str, Figure]:
    """Tiled's figures, measured in its own virtualenv by ``_tiled_catalog_side.py``."""
    args = [python, str(SIDE), "--uri", uri, "--runs", str(n), "--repeat", str(repeat),
            "--t0", str(T0)]  # fmt: skip
    proc = subprocess.run(args, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _cell(value: Figure | None) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, tuple):
        return " / ".join(_cell(v) for v in value)
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def report(results: dict[str, dict[str, Figure]]) -> None:
    columns = list(results)
    labels: list[str] = []
    for figures in results.values():
        labels += [k for k in figures if k not in labels]
    print("\n| measure | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for label in labels:
        cells = [_cell(results[c].get(label)) for c in columns]
        unit = "" if "(s)" in label or "bytes" in label or "runs/s" in label else " (ms)"
        print(f"| {label}{unit} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--cache", type=Path, default=Path("/work/bench-cache/catalog-scale"))
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=2, help="processes making the runs of a fill")
    parser.add_argument("--tiled-python", default="/work/tiled-venv/bin/python")
    parser.add_argument("--no-tiled", action="store_true")
    parser.add_argument("--fill-only", action="store_true")
    args = parser.parse_args()
    n, cache = args.runs, args.cache
    cache.mkdir(parents=True, exist_ok=True)
    os.chmod(cache, 0o755)
    use_tiled = not args.no_tiled and Path(args.tiled_python).exists()
    backends = args.backends.split(",")
    results: dict[str, dict[str, Figure]] = {}
    with ExitStack() as stack:
        uris: dict[str, str] = {}  # backend -> cielo's catalog URI
        tiled_uris: dict[str, Callable[[bool], str]] = {}
        if "sqlite" in backends or use_tiled:  # Tiled is filled from the SQLite catalog
            uris["sqlite"] = f"sqlite:///{cache / f'cielo-{n}.sqlite'}"
            tiled_uris["sqlite"] = lambda fresh: f"sqlite:///{cache / f'tiled-{n}.sqlite'}"
            if not ready(cache, f"cielo-sqlite-{n}"):
                for suffix in ("", "-wal", "-shm"):
                    (cache / f"cielo-{n}.sqlite{suffix}").unlink(missing_ok=True)
        if "postgresql" in backends:
            admin = stack.enter_context(postgres(cache / "pg"))
            fresh = not ready(cache, f"cielo-pg-{n}")
            uris["postgresql"] = pg_database(admin, f"cielo_{n}", fresh=fresh)
            tiled_uris["postgresql"] = lambda fresh: pg_database(admin, f"tiled_{n}", fresh=fresh)
        keys = {"sqlite": f"cielo-sqlite-{n}", "postgresql": f"cielo-pg-{n}"}
        todo = [b for b in uris if not ready(cache, keys[b])]
        if todo:  # the runs are made once for every backend filled
            print(f"filling {' and '.join(todo)} with {n:,} runs", flush=True)
            seconds = fill([uris[b] for b in todo], n, cache, args.jobs)
            for b in todo:
                mark(cache, keys[b], seconds)
        source = str(cache / f"cielo-{n}.sqlite")
        for backend in ("sqlite", "postgresql"):
            if backend not in backends:
                continue
            label = "SQLite" if backend == "sqlite" else "PostgreSQL"
            key = f"tiled-{'pg' if backend == 'postgresql' else backend}-{n}"
            tiled_uri = tiled_uris[backend](not ready(cache, key)) if use_tiled else ""
            if use_tiled:
                tiled_fill(args.tiled_python, tiled_uri, source, n, cache, key)
            if args.fill_only:
                continue
            print(f"measuring cielo on {label}", flush=True)
            results[f"cielo {label}"] = bench_cielo(uris[backend], n, args.repeat)
            if use_tiled:
                print(f"measuring Tiled on {label}", flush=True)
                results[f"Tiled {label}"] = tiled(args.tiled_python, tiled_uri, n, args.repeat)
    for key in ("sqlite", "pg"):
        done = cache / f"cielo-{key}-{n}.done"
        if done.exists():
            print(f"fill of cielo {key} ({n:,} runs): {done.read_text().strip()} s")
    if results:
        print(
            f"\n{n:,} runs; median / fastest of {args.repeat} after one warm-up; load {os.getloadavg()}"
        )
        report(results)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
