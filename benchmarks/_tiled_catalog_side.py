"""Tiled's half of ``bench_catalog_scale.py``, run by the Python of a virtualenv holding
``tiled[server]`` and ``psycopg[binary]`` (cielo is not imported here).

``--fill``: ``tiled catalog init`` creates Tiled's tables at ``--uri``; every run of the
cielo SQLite catalog ``--source`` becomes one container node under the root, key = run
uid, metadata ``{"start": ..., "stop": ...}``, spec ``BlueskyRun`` (the shape Bluesky's
Tiled writer gives a run), inserted into ``nodes`` in batches; Tiled's triggers maintain
its closure table (and on SQLite its full-text table).

Without ``--fill``: the same query shapes as the cielo side through Tiled's own
``CatalogContainerAdapter`` (the object its server calls), printed as one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

SPECS = json.dumps([{"name": "BlueskyRun", "version": "3.0"}])
INSERT = (
    "INSERT INTO nodes (key, parent, structure_family, metadata, specs) "
    "VALUES (?, 0, 'container', ?, ?)"
)


def _connect(uri: str) -> tuple[Any, str]:
    if uri.startswith("sqlite"):
        return sqlite3.connect(uri[len("sqlite:///") :]), "?"
    import psycopg

    return psycopg.connect(uri), "%s"


def fill(uri: str, source: str) -> None:
    subprocess.run([sys.executable, "-m", "tiled", "catalog", "init", "--if-not-exists", uri],
                   check=True)  # fmt: skip
    conn, mark = _connect(uri)
    src = sqlite3.connect(source)
    sql = INSERT.replace("?", mark)
    done = 0
    t = time.perf_counter()
    rows = src.execute("SELECT uid, start, stop FROM runs ORDER BY time, uid")
    while batch := rows.fetchmany(20_000):
        values = [(uid, f'{{"start": {start}, "stop": {stop or "null"}}}', SPECS)
                  for uid, start, stop in batch]  # fmt: skip
        cur = conn.cursor()
        cur.executemany(sql, values)
        conn.commit()
        done += len(batch)
        if done % 100_000 == 0:
            print(f"    Tiled: {done:,} runs ({time.perf_counter() - t:.0f} s)", flush=True)
    if mark == "?":
        conn.execute("ANALYZE")
        conn.commit()
    else:
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    conn.close()


async def median_ms(fn: Any, repeat: int) -> float:
    t = time.perf_counter()
    await fn()
    if time.perf_counter() - t > 2.0:  # as on the cielo side: timed once more only
        repeat = 1
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


async def measure(uri: str, n: int, repeat: int, t0: float) -> dict[str, float]:
    from tiled.catalog import from_uri
    from tiled.queries import Comparison, Contains, Eq, FullText, KeyPresent, Like

    root = from_uri(uri)
    await root.context.startup()
    mid = t0 + 30.0 * (n // 2)
    shapes: dict[str, list[Any]] = {
        "equality, 1 run in 5,000 (sample)": [Eq("start.sample", "S-42")],
        "broad AND narrow (num_points > 5, sample)": [
            Comparison("gt", "start.num_points", 5), Eq("start.sample", "S-42")],
        "nested key (proposal.id)": [Eq("start.proposal.id", 300_000 + (n // 2) // 2000)],
        "range on a number (temperature > 390)": [Comparison("gt", "start.temperature", 390)],
        "list element (tags contains calibration)": [Contains("start.tags", "calibration")],
        "time range (one day)": [Comparison("ge", "start.time", mid),
                                 Comparison("lt", "start.time", mid + 86_400)],
        "scan id": [Eq("start.scan_id", n // 2)],
        "scan id range (100)": [Comparison("ge", "start.scan_id", n // 2),
                                Comparison("le", "start.scan_id", n // 2 + 99)],
        "exit status incomplete": [KeyPresent("stop.exit_status", exists=False)],
        "full text, one word (1 in 10,000)": [FullText("lot4242")],
        "regex on a key (^S-424)": [Like("start.sample", "S-424%")],  # no regex in Tiled's catalog
    }  # fmt: skip
    out: dict[str, float] = {}

    async def page(found: Any) -> None:
        for _, child in await found.items_range(0, 20):
            child.metadata()

    for label, queries in shapes.items():
        found = root
        for q in queries:
            found = found.search(q)
        try:
            out[f"{label}: first page"] = await median_ms(lambda f=found: page(f), repeat)
            out[f"{label}: count"] = await median_ms(found.exact_len, repeat)
        except Exception as exc:  # a query shape Tiled's catalog cannot run
            print(f"Tiled: {label}: {type(exc).__name__}: {exc}", file=sys.stderr)
    keys = await root.keys_range(n // 2, 3)

    async def open_run() -> None:
        (await root.lookup_adapter([keys[1]])).metadata()

    out["open a run by uid (start, stop)"] = await median_ms(open_run, repeat)
    out["page near the end (cat[n-20:n-10])"] = await median_ms(
        lambda: root.items_range(n - 20, 10), repeat
    )
    out["page in the middle (offset n/2)"] = await median_ms(
        lambda: root.items_range(n // 2, 20), repeat
    )
    cursor = await root.cursor_for_offset(n // 2)
    out["next page after a uid (middle)"] = await median_ms(
        lambda: root.items_page(cursor=cursor, limit=20), repeat
    )
    newest = root.sort([("start.time", -1)])
    out["newest 20 (sorted -time)"] = await median_ms(lambda: newest.items_range(0, 20), repeat)
    t = time.perf_counter()
    count, cursor = 0, None
    while True:
        page_keys, cursor = await root.keys_page(cursor=cursor, limit=1000)
        count += len(page_keys)
        if cursor is None:
            break
    out["iterate all uids (s)"] = time.perf_counter() - t
    assert count == n, (count, n)
    out.update(await insert_while_searching(root, seconds=10.0))
    conn, _ = _connect(uri)
    conn.cursor().execute("DELETE FROM nodes WHERE key LIKE 'live-%'")
    conn.commit()
    if uri.startswith("sqlite"):
        import os

        total = os.path.getsize(uri[len("sqlite:///") :])
    else:
        total = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    conn.close()
    out["disk bytes/run, all"] = total / n
    out["disk bytes/run besides documents"] = total / n
    await root.context.shutdown()
    return out  # fmt: skip


async def insert_while_searching(root: Any, seconds: float) -> dict[str, float]:
    """Runs added as container nodes (start and stop, no events) through Tiled's
    ``create_node``, alone and while another task searches."""
    from tiled.queries import Eq
    from tiled.structures.core import StructureFamily

    async def write(duration: float) -> int:
        count = 0
        deadline = time.perf_counter() + duration
        while time.perf_counter() < deadline:
            uid = str(uuid.uuid4())
            md = {"start": {"uid": uid, "time": time.time(), "sample": "live"},
                  "stop": {"exit_status": "success"}}  # fmt: skip
            await root.create_node(StructureFamily.container, md, key=f"live-{uid}",
                                   specs=[])  # fmt: skip
            count += 1
        return count

    quiet = await write(seconds / 2)
    latencies: list[float] = []
    stop = asyncio.Event()

    async def searcher() -> None:
        found = root.search(Eq("start.sample", "S-42"))
        while not stop.is_set():
            t = time.perf_counter()
            await found.items_range(0, 20)
            latencies.append(time.perf_counter() - t)

    task = asyncio.create_task(searcher())
    busy = await write(seconds / 2)
    stop.set()
    await task
    return {
        "insert runs/s alone": quiet / (seconds / 2),
        "insert runs/s while searching": busy / (seconds / 2),
        "search while inserting, median": statistics.median(latencies) * 1000,
        "search while inserting, p99": sorted(latencies)[int(len(latencies) * 0.99)] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uri", required=True)
    parser.add_argument("--source")
    parser.add_argument("--fill", action="store_true")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--t0", type=float, default=0.0)
    args = parser.parse_args()
    if args.fill:
        fill(args.uri, args.source)
        return
    print(json.dumps(asyncio.run(measure(args.uri, args.runs, args.repeat, args.t0))))


if __name__ == "__main__":
    main()
