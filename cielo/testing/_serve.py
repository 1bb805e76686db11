"""``cielo serve`` as a real subprocess, for tests and benchmarks of the queue server's clients."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ._servers import free_port

__all__ = ["QueueServer"]


class QueueServer:
    """``cielo serve --profile P --open`` in a subprocess on a free loopback port, with its
    queue store, catalog, state and locks in ``base``; stopped by PID on exit.

    ``url``, ``key`` (the single-user API key it was started with; ``api_key=False``: none,
    anonymous clients are let in), ``call(path, body)``
    and ``wait(condition)`` on its status.
    """

    def __init__(self, base: Path, profile: str = "sim", *, api_key: bool = True) -> None:
        import secrets

        self.base = base
        self.profile = profile
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key = secrets.token_urlsafe(16) if api_key else ""
        self.env = {
            **os.environ,
            "CIELO_SERVER_API_KEY": self.key,  # empty: anonymous clients on loopback
            "CIELO_CATALOG": f"sqlite:///{base / 'catalog.sqlite'}",
            "CIELO_STATE_DIR": str(base / "state"),
            "CIELO_LOCK_DIR": str(base / "locks"),
        }
        self.process: Any = None

    def __enter__(self) -> QueueServer:
        import subprocess
        import sys

        command = [sys.executable, "-m", "cielo.cli", "serve", "--profile", self.profile, "--open"]
        command += ["--port", str(self.port), "--store", f"sqlite:///{self.base / 'queue.sqlite'}"]
        with open(self.base / "serve.log", "ab") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=log)
        self.wait(lambda s: s["manager_state"] == "idle" and s["worker_environment_exists"], 90)
        return self

    def __exit__(self, *exc: object) -> None:
        import subprocess

        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def call(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST (or GET without a body) to the API with the key; the JSON answer."""
        import httpx

        headers = {"Authorization": f"ApiKey {self.key}"} if self.key else {}
        if body is None and path.endswith(("/get", "/status", "/allowed")):
            response = httpx.get(self.url + path, headers=headers, timeout=30)
        else:
            response = httpx.post(self.url + path, json=body or {}, headers=headers, timeout=30)
        data: dict[str, Any] = response.json()
        return data

    def wait(self, condition: Any, timeout: float = 30.0) -> dict[str, Any]:
        """Poll the status until ``condition(status)``; the status that satisfied it."""
        import httpx

        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.base / "serve.log").read_text()
                raise RuntimeError(f"cielo serve exited {self.process.returncode}:\n{log}")
            try:
                status = self.call("/api/status")
            except httpx.HTTPError:
                status = {}
            if status and condition(status):
                return status
            time.sleep(0.1)
        raise TimeoutError(f"the server's status never satisfied the condition: {status}")
