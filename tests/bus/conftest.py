"""Fixtures for the bus tests: a unique stream on the session's real redis-server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("redis")


@pytest.fixture
def stream_uri(redis_server: Any) -> str:
    """``redis://127.0.0.1:PORT/test-<uuid>``: a stream no other test uses."""
    return f"redis://127.0.0.1:{redis_server.port}/test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def own_redis() -> Iterator[Any]:
    """A redis-server of the test's own, for tests that stop and restart it."""
    from cielo.testing import RedisServer, require_server

    try:
        server = RedisServer()
    except Exception as exc:
        require_server(f"cannot start redis-server: {exc}")
    try:
        yield server
    finally:
        server.close()


class PostgresServer:
    """A throwaway PostgreSQL server (as the ``postgres`` user, data under /tmp) that a test
    may stop and start again, keeping its data, to play a catalog outage."""

    def __init__(self) -> None:
        import os
        import pwd
        import shutil
        import subprocess
        import tempfile
        from pathlib import Path

        from cielo.testing import free_port

        versions = sorted(
            Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
        )
        if not versions or not shutil.which("runuser"):
            raise RuntimeError("PostgreSQL binaries or runuser not found")
        self.bin = versions[-1]
        self.dir = Path(tempfile.mkdtemp(prefix="cielo-bus-pg-", dir="/tmp"))
        pw = pwd.getpwnam("postgres")
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.port = free_port()
        self._run = ["runuser", "-u", "postgres", "--"]
        self._subprocess = subprocess
        subprocess.run(
            [*self._run, str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-A", "trust",
             "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"],
            check=True, capture_output=True,
        )  # fmt: skip
        self.start()
        self.uri = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        self._subprocess.run(
            [*self._run, str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), *args],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-l", str(self.dir / "log"), "-w", "-o", opts, "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")

    def close(self) -> None:
        import shutil

        try:
            self.stop()
        except Exception:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def postgres_server() -> Iterator[PostgresServer]:
    pytest.importorskip("psycopg")
    from cielo.testing import require_server

    try:
        server = PostgresServer()
    except Exception as exc:
        require_server(f"cannot start PostgreSQL: {exc}")
    try:
        yield server
    finally:
        server.close()
