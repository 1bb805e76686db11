"""Fixtures of the queue-server tests.

``store`` runs the store test-suite once per backend of :data:`STORE_URIS`: each entry
maps a backend name to a function ``(tmp_path, request) -> uri`` giving a fresh, empty
store location (a backend that needs a server can get it with
``request.getfixturevalue(...)``). ``store_uri`` is that location, so a test can open
a second handle on the same store (a restarted manager) with ``open_store(store_uri)``.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cielo.server import QueueStore, open_store


def _sqlite_uri(tmp_path: pathlib.Path, request: pytest.FixtureRequest) -> str:
    return f"sqlite:///{tmp_path / 'queue' / 'queue.db'}"


def _redis_uri(tmp_path: pathlib.Path, request: pytest.FixtureRequest) -> str:
    """A fresh key prefix on the session's real redis-server (tests/conftest.py)."""
    import uuid

    server = request.getfixturevalue("redis_server")
    return f"redis://127.0.0.1:{server.port}/0?prefix=test:{uuid.uuid4().hex}"


#: backend name -> ``(tmp_path, request) -> uri`` of a fresh store
STORE_URIS: dict[str, Callable[[pathlib.Path, pytest.FixtureRequest], str]] = {
    "sqlite": _sqlite_uri,
    "redis": _redis_uri,
}


@pytest.fixture(params=sorted(STORE_URIS))
def store_uri(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> str:
    return STORE_URIS[request.param](tmp_path, request)


@pytest.fixture
def store(store_uri: str) -> Iterator[QueueStore]:
    opened = open_store(store_uri)
    yield opened
    opened.close()


@pytest.fixture
def new_item() -> Callable[..., dict[str, Any]]:
    """``new_item(name="count", **extra)``: a plan item as the manager stores it, fresh uid."""
    return _new_item


def _new_item(name: str = "count", **extra: Any) -> dict[str, Any]:
    import uuid

    return {
        "item_type": "plan",
        "name": name,
        "args": [["det"]],
        "kwargs": {},
        "item_uid": str(uuid.uuid4()),
        **extra,
    }


# -- a real server: `cielo serve` in a subprocess --------------------------------------------

API_KEY = "test-key-0123456789"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """``cielo serve`` running in a subprocess on a free loopback port.

    ``url``, ``key``, ``headers``; ``start()`` (again after ``kill()``: the same store),
    ``kill()`` SIGKILLs the manager, ``stop()`` ends it with SIGTERM; ``request(path,
    body)`` posts with the key; ``worker_pid()``; ``wait(cond)`` polls the status.
    """

    def __init__(self, base: pathlib.Path, profile: str = "sim") -> None:
        import os

        self.base = base
        self.profile = profile
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key = API_KEY
        self.headers = {"Authorization": f"ApiKey {API_KEY}"}
        self.env = {
            **os.environ,
            "CIELO_SERVER_API_KEY": API_KEY,
            "CIELO_LOCK_DIR": str(base / "locks"),
            "CIELO_CATALOG": f"sqlite:///{base / 'catalog.sqlite'}",
            "CIELO_STATE_DIR": str(base / "state"),
        }
        self.process: Any = None
        self.worker_pids: set[int] = set()

    def start(self, *extra: str) -> Served:
        import subprocess
        import sys
        import time

        import httpx

        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cielo.cli",
                "serve",
                "--profile",
                self.profile,
                "--port",
                str(self.port),
                *extra,
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.base / "manager.log", "ab"),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.base / "manager.log").read_text()
                raise RuntimeError(f"cielo serve exited {self.process.returncode}: {log}")
            try:
                httpx.get(f"{self.url}/api/status", headers=self.headers, timeout=1.0)
                return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("cielo serve did not answer within 60 s")

    def request(self, path: str, body: Any = None, *, method: str = "POST") -> Any:
        import httpx

        response = httpx.request(
            method,
            f"{self.url}{path}",
            json={} if body is None else body,
            headers=self.headers,
            timeout=30.0,
        )
        return response

    def status(self) -> dict[str, Any]:
        data: dict[str, Any] = self.request("/api/status", method="GET").json()
        if data.get("worker_pid"):
            self.worker_pids.add(int(data["worker_pid"]))
        return data

    def wait(
        self, condition: Callable[[dict[str, Any]], bool], timeout: float = 30.0
    ) -> dict[str, Any]:
        import time

        deadline = time.monotonic() + timeout
        while True:
            status = self.status()
            if condition(status):
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"status never satisfied the condition: {status}")
            time.sleep(0.02)

    def open_environment(self) -> dict[str, Any]:
        assert self.request("/api/environment/open").json()["success"]
        return self.wait(lambda s: s["worker_environment_state"] == "idle")

    def kill(self) -> None:
        import signal

        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        import contextlib
        import os
        import signal
        import subprocess

        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.worker_pids:  # a worker left behind by a killed manager
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def served(tmp_path: pathlib.Path) -> Iterator[Served]:
    """A fresh ``cielo serve --profile sim`` (environment closed), stopped after the test."""
    server = Served(tmp_path)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def served_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One ``cielo serve --profile sim`` shared by a test module."""
    server = Served(tmp_path_factory.mktemp("served"))
    try:
        yield server.start()
    finally:
        server.stop()
