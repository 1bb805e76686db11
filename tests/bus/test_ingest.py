"""The catalog writer as a bus consumer: a catalog outage (PostgreSQL stopped) is caught
up once the catalog returns, every run stored once and whole; acquisition never waits."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from cielo import RunEngine, load_profile
from cielo.bus import BusConsumer, CatalogIngest, Publisher, RedisStream, iter_entries
from cielo.storage import open_catalog

pytestmark = pytest.mark.postgresql


def wait_for(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def stored(uri: str) -> dict[str, str]:
    try:
        with open_catalog(uri) as catalog:
            return {uid: catalog[uid].exit_status for uid in catalog}
    except Exception:  # the catalog is down
        return {}


def test_a_catalog_outage_is_caught_up_with_nothing_lost(stream_uri, postgres_server, caplog):
    sim = load_profile("sim")
    catalog_uri = postgres_server.uri
    sink = CatalogIngest(lambda: open_catalog(catalog_uri))
    reader = RedisStream(stream_uri).group_reader("catalog", "ingest-1")
    consumer = BusConsumer(reader, sink, ack="run", retry_interval=0.2)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    try:
        with (
            Publisher(RedisStream(stream_uri)) as publisher,
            RunEngine(plugin_manager=sim.pm, scan_id_file=None) as RE,
        ):
            RE.subscribe(publisher)
            (first,) = RE(sim.plans["count"]([sim.devices["det"]], num=5))
            wait_for(lambda: stored(catalog_uri).get(first) == "success")

            postgres_server.stop()  # the catalog goes away
            t0 = time.monotonic()
            during = [
                uid
                for _ in range(2)
                for uid in RE(sim.plans["count"]([sim.devices["det"]], num=50))
            ]
            assert time.monotonic() - t0 < 30  # acquisition did not wait for storage
            publisher.flush(10)
            wait_for(lambda: consumer.failures > 0)
            postgres_server.start()  # back: the consumer catches up on its own
            wait_for(lambda: all(stored(catalog_uri).get(u) == "success" for u in during))
    finally:
        consumer.stop()
        thread.join(10)
        sink.close()
    stream = RedisStream(stream_uri)
    with open_catalog(catalog_uri) as catalog:
        assert sorted(catalog) == sorted([first, *during])
        for uid in (first, *during):
            assert list(catalog[uid].documents()) == list(iter_entries(list(stream.replay(uid))))
    assert any(
        "retrying from the oldest unacknowledged entry" in r.getMessage() for r in caplog.records
    )
