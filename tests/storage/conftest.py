"""Storage fixtures: every catalog test on SQLite and PostgreSQL (``make_run``, the
synthetic runs, comes from tests/conftest.py).

A throwaway PostgreSQL cluster is started once per session (``initdb`` and ``pg_ctl``
as the ``postgres`` user, on a free loopback port, data under /tmp) and stopped by
its PID; each test gets a fresh database in it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cielo.testing import require_server


def _pg_bin() -> Path | None:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    return versions[-1] if versions and shutil.which("runuser") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresCluster:
    """A PostgreSQL server owned by this test session."""

    def __init__(self) -> None:
        pgbin = _pg_bin()
        if pgbin is None:
            raise RuntimeError("PostgreSQL binaries or runuser not found")
        self.dir = Path(tempfile.mkdtemp(prefix="cielo-pg-", dir="/tmp"))
        pw = pwd.getpwnam("postgres")
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.port = _free_port()
        run = ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [*run, str(pgbin / "initdb"), "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres",
             "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"],
            check=True, capture_output=True,
        )  # fmt: skip
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [*run, str(pgbin / "pg_ctl"), "-D", str(self.dir / "data"), "-l", str(self.dir / "log"),
             "-w", "-o", opts, "start"],
            check=True, capture_output=True,
        )  # fmt: skip
        self.pid = int((self.dir / "data" / "postmaster.pid").read_text().split()[0])
        self.admin = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def new_database(self) -> str:
        """A URI for an empty schema of its own (much cheaper than a new database)."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return f"{self.admin}?options=-csearch_path%3D{name}"

    def stop(self) -> None:
        os.kill(self.pid, signal.SIGQUIT)  # immediate shutdown: the data is thrown away
        for _ in range(200):
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    try:
        cluster = PostgresCluster()
    except Exception as exc:  # pragma: no cover - depends on the machine
        require_server(f"cannot start PostgreSQL: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def catalog_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty catalog URI on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    return request.getfixturevalue("postgres_cluster").new_database()
