"""``cielo serve`` as a real subprocess, for tests and benchmarks of the queue server and
its clients."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._servers import free_port

__all__ = ["QueueServer"]


class QueueServer:
    """``cielo serve --profile P`` in a subprocess on a free loopback port, with its queue
    store, catalog, state and locks in ``base``.

    ``url``, ``key`` (the single-user admin key it was started with; ``api_key=False``:
    none, anonymous clients are let in), ``headers``; ``start()`` (again after
    ``kill()``: the same store), ``kill()`` SIGKILLs the manager, ``stop()`` ends it
    with SIGTERM and kills workers a killed manager left; ``request(path, body)`` and
    ``call(path, body)`` (its JSON) with the key; ``status()``, ``wait(condition)``.
    As a context manager it opens the environment (``open=True``) and stops at exit.

    :param store: the queue store's URI (default: SQLite in ``base``).
    :param args: more ``cielo serve`` arguments (``--permissions FILE``...).
    :param pythonpath: folders put first on the server's (and its worker's) ``PYTHONPATH``
        (modules a profile names, such as its ``[functions] allow``).
    """

    def __init__(
        self,
        base: Path,
        profile: str = "sim",
        *,
        api_key: bool = True,
        open: bool = True,
        store: str | None = None,
        args: Sequence[str] = (),
        pythonpath: Sequence[str | os.PathLike[str]] = (),
    ) -> None:
        import secrets

        self.base = Path(base)
        self.profile = profile
        self.open = open
        self.store = store or f"sqlite:///{self.base / 'queue.sqlite'}"
        self.args = list(args)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key = secrets.token_urlsafe(16) if api_key else ""
        self.headers = {"Authorization": f"ApiKey {self.key}"} if self.key else {}
        self.env = {
            **os.environ,
            "CIELO_SERVER_API_KEY": self.key,  # empty: anonymous clients on loopback
            "CIELO_CATALOG": f"sqlite:///{self.base / 'catalog.sqlite'}",
            "CIELO_STATE_DIR": str(self.base / "state"),
            "CIELO_LOCK_DIR": str(self.base / "locks"),
        }
        if pythonpath:
            paths = [os.fspath(p) for p in pythonpath]
            given = self.env.get("PYTHONPATH")
            self.env["PYTHONPATH"] = os.pathsep.join([*paths, *([given] if given else [])])
        self.process: Any = None
        #: workers seen in the status (a killed manager leaves its worker running)
        self.worker_pids: set[int] = set()

    def start(self, *extra: str) -> QueueServer:
        """Start the manager (``extra``: more arguments) and wait until it answers (on
        another free port if someone took this one meanwhile)."""
        for attempt in range(3):
            command = [sys.executable, "-m", "cielo.cli", "serve", "--profile", self.profile]
            command += ["--port", str(self.port), "--store", self.store, *self.args, *extra]
            with open(self.base / "serve.log", "ab") as log:
                self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=log)
            try:
                self.wait(lambda s: "manager_state" in s, 90)
                return self
            except RuntimeError as exc:
                if "address already in use" not in str(exc) or attempt == 2:
                    raise
                self.port = free_port()
                self.url = f"http://127.0.0.1:{self.port}"
        return self

    def __enter__(self) -> QueueServer:
        self.start(*(["--open"] if self.open else []))
        if self.open:
            self.wait(lambda s: s["manager_state"] == "idle" and s["worker_environment_exists"], 90)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def request(self, path: str, body: Any = None, *, method: str = "POST") -> Any:
        """One request with the key (``body`` default ``{}``); the ``httpx.Response``."""
        import httpx

        return httpx.request(
            method,
            self.url + path,
            json={} if body is None else body,
            headers=self.headers,
            timeout=30.0,
        )

    def call(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST (or GET without a body) to the API with the key; the JSON answer."""
        get = body is None and path.endswith(("/get", "/status", "/allowed"))
        data: dict[str, Any] = self.request(path, body, method="GET" if get else "POST").json()
        return data

    def status(self) -> dict[str, Any]:
        data = self.call("/api/status")
        for key in ("worker_pid", "worker_standby_pid"):
            if data.get(key):
                self.worker_pids.add(int(data[key]))
        return data

    def wait(
        self, condition: Callable[[dict[str, Any]], bool], timeout: float = 30.0
    ) -> dict[str, Any]:
        """Poll the status until ``condition(status)``; the status that satisfied it."""
        import httpx

        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                log = (self.base / "serve.log").read_text()
                raise RuntimeError(f"cielo serve exited {self.process.returncode}:\n{log}")
            try:
                status = self.status()
            except httpx.HTTPError:
                status = {}
            if status and condition(status):
                return status
            time.sleep(0.02)
        raise TimeoutError(f"the server's status never satisfied the condition: {status}")

    def open_environment(self) -> dict[str, Any]:
        """Open the environment and wait until it is idle."""
        reply = self.call("/api/environment/open", {})
        if not reply.get("success"):
            raise RuntimeError(f"environment_open refused: {reply.get('msg')}")
        return self.wait(lambda s: s["worker_environment_state"] == "idle", 90)

    def kill(self) -> None:
        """SIGKILL the manager (its worker goes on)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """End the manager with SIGTERM (SIGKILL after 30 s) and kill left-over workers."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.worker_pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
