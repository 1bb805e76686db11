"""Document-bus figures through a real redis-server on loopback.

- throughput: documents/s from the publisher's ``__call__`` until the last entry is in
  Redis, for a run of ``--events`` single events, packed into pages by the publisher
  (the default) and sent one entry per event (``pack_events=False``), and for the same
  events as engine-made event pages; the RunEngine's ``count`` with and without a publisher;
- latency: publisher call -> consumer in another process (``XREAD`` without a group),
  events sent at ``--rate`` per second, p50 and p99;
- catch-up: a consumer-group member that was down while ``--events`` events were
  published reads and acknowledges them all: documents/s, with a do-nothing callback
  and with the catalog writer (SQLite) behind it.

Run: ``.venv/bin/python benchmarks/bench_bus.py`` (``--events 100000 --rate 1000``).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import tempfile
import time
import uuid
from typing import Any

from cielo.bus import BusConsumer, CatalogIngest, Publisher, RedisStream, iter_entries
from cielo.core import pack_events
from cielo.testing import RedisServer

Document = dict[str, Any]


def make_run(n: int) -> list[tuple[str, Document]]:
    """A run of ``n`` events of three scalar keys."""
    t0 = time.time()
    uid = str(uuid.uuid4())
    desc = {
        "uid": str(uuid.uuid4()), "run_start": uid, "time": t0, "name": "primary",
        "data_keys": {k: {"source": f"sim:{k}", "dtype": "number", "shape": []}
                      for k in ("motor", "motor_setpoint", "det")},
        "configuration": {}, "object_keys": {"motor": ["motor", "motor_setpoint"], "det": ["det"]},
    }  # fmt: skip
    docs: list[tuple[str, Document]] = [
        ("start", {"uid": uid, "time": t0, "scan_id": 1, "plan_name": "scan"}),
        ("descriptor", desc),
    ]
    for i in range(n):
        t = t0 + i * 1e-3
        docs.append(("event", {
            "uid": str(uuid.uuid4()), "descriptor": desc["uid"], "time": t, "seq_num": i + 1,
            "data": {"motor": i * 0.01, "motor_setpoint": i * 0.01, "det": i % 7 * 0.5},
            "timestamps": {"motor": t, "motor_setpoint": t, "det": t}, "filled": {},
        }))  # fmt: skip
    docs.append(("stop", {"uid": str(uuid.uuid4()), "run_start": uid, "time": t0 + n * 1e-3,
                          "exit_status": "success", "num_events": {"primary": n}}))  # fmt: skip
    return docs


def as_pages(docs: list[tuple[str, Document]], size: int = 100) -> list[tuple[str, Document]]:
    events = [d for n, d in docs if n == "event"]
    pages = [("event_page", pack_events(events[i : i + size])) for i in range(0, len(events), size)]
    return [*docs[:2], *pages, docs[-1]]


def publish_rate(uri: str, docs: list[tuple[str, Document]], **options: Any) -> tuple[float, float]:
    """(documents/s until all are in Redis, µs per call on the caller's thread)."""
    stream = RedisStream(uri)
    publisher = Publisher(stream, max_buffer=len(docs) + 10, **options)
    t0 = time.perf_counter()
    for name, doc in docs:
        publisher(name, doc)
    called = time.perf_counter() - t0
    publisher.flush()
    elapsed = time.perf_counter() - t0
    publisher.close()
    return len(docs) / elapsed, called / len(docs) * 1e6


def engine_rate(uri: str | None, n: int) -> float:
    from cielo import RunEngine, load_profile

    sim = load_profile("sim")
    with RunEngine(plugin_manager=sim.pm, scan_id_file=None) as RE:
        publisher = Publisher(RedisStream(uri)) if uri else None
        if publisher is not None:
            RE.subscribe(publisher)
        t0 = time.perf_counter()
        RE(sim.plans["count"]([sim.devices["det"]], num=n))
        if publisher is not None:
            publisher.close()
        return n / (time.perf_counter() - t0)


def _listen(uri: str, n: int, ready: Any, out: Any) -> None:
    stream = RedisStream(uri)
    lags: list[float] = []
    ready.set()
    for batch in stream.follow("$", block=0.2):
        now = time.time()
        for name, doc in iter_entries(batch):
            if name == "event":
                lags.append(now - doc["time"])
        if len(lags) >= n:
            break
    out.send(lags)


def latency(uri: str, n: int, rate: float) -> list[float]:
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    here, there = ctx.Pipe()
    listener = ctx.Process(target=_listen, args=(uri, n, ready, there))
    listener.start()
    ready.wait(30)
    time.sleep(0.3)
    run = make_run(n)
    with Publisher(RedisStream(uri)) as publisher:
        publisher(*run[0])
        publisher(*run[1])
        period = 1.0 / rate
        next_t = time.perf_counter()
        for name, doc in run[2:-1]:
            doc["time"] = time.time()  # stamped as it is handed to the publisher
            publisher(name, doc)
            next_t += period
            while time.perf_counter() < next_t:
                pass
        publisher(*run[-1])
    if not here.poll(60):
        listener.kill()
        raise RuntimeError("the consumer process did not report")
    lags = here.recv()
    listener.join(10)
    return sorted(lags)


def catch_up(uri: str, docs: list[tuple[str, Document]], sink: Any) -> float:
    stream = RedisStream(uri)
    reader = stream.group_reader("bench", "b1", start="0")
    with Publisher(stream, max_buffer=len(docs) + 10) as publisher:  # published while "down"
        for name, doc in docs:
            publisher(name, doc)
    consumer = BusConsumer(reader, sink, ack="run" if isinstance(sink, CatalogIngest) else "batch")
    t0 = time.perf_counter()
    consumer.run(idle_timeout=0.5)
    elapsed = time.perf_counter() - t0 - 0.5
    assert consumer.delivered == len(docs), (consumer.delivered, len(docs))
    return len(docs) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    args = parser.parse_args()
    n = args.events
    with RedisServer() as server:
        base = f"redis://127.0.0.1:{server.port}"
        docs = make_run(n)
        print(f"throughput, {n} events (+3 documents), redis-server {server.port} (appendonly)")
        for label, run, opts in [
            ("single events, packed into pages by the publisher", docs, {}),
            ("single events, one entry each (pack_events=False)", docs, {"pack_events": False}),
            ("event pages of 100 from the engine", as_pages(docs), {}),
        ]:
            rate, call = publish_rate(f"{base}/t-{uuid.uuid4().hex[:6]}", run, **opts)
            events = n / (len(run) / rate)
            print(
                f"  {label}: {rate:,.0f} documents/s ({events:,.0f} events/s), {call:.2f} µs per call"
            )
        m = min(n, 20_000)
        print(f"RunEngine count of {m} points: {engine_rate(None, m):,.0f} points/s without, "
              f"{engine_rate(f'{base}/e-{uuid.uuid4().hex[:6]}', m):,.0f} with a publisher")  # fmt: skip

        k = int(args.rate * 5)
        lags = latency(f"{base}/l-{uuid.uuid4().hex[:6]}", k, args.rate)
        q = statistics.quantiles(lags, n=100)
        print(f"latency publisher -> consumer process, {k} events at {args.rate:.0f}/s: "
              f"p50 {q[49] * 1e3:.2f} ms, p99 {q[98] * 1e3:.2f} ms, max {lags[-1] * 1e3:.2f} ms")  # fmt: skip

        rate = catch_up(f"{base}/c-{uuid.uuid4().hex[:6]}", docs, lambda name, doc: None)
        print(
            f"catch-up of a restarted group member, {n} events: {rate:,.0f} documents/s (no-op callback)"
        )
        with tempfile.TemporaryDirectory() as tmp:
            from cielo.storage import open_catalog

            sink = CatalogIngest(lambda: open_catalog(f"sqlite:///{tmp}/bench.db"))
            rate = catch_up(f"{base}/k-{uuid.uuid4().hex[:6]}", docs, sink)
            sink.close()
            print(f"catch-up into the catalog (SQLite), {n} events: {rate:,.0f} documents/s")


if __name__ == "__main__":
    main()
