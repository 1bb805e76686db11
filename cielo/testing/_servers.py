"""Real servers for tests, on loopback, owned by the test session and stopped by PID.

A server that cannot start skips the tests that need it on a developer's machine, and fails
them under ``CI=true`` (as ``.ci/run`` runs): a broken CI image must not stay green by
skipping. :func:`require_server` applies that rule; :class:`RedisServer` starts a throwaway
``redis-server``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import NoReturn

__all__ = ["RedisServer", "free_port", "in_ci", "require_server"]


def in_ci() -> bool:
    """True when the suite runs under CI (``CI`` set to something other than ``0``/``false``)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_server(reason: str) -> NoReturn:
    """Skip the calling test (or fixture) because a server is missing; fail under CI."""
    import pytest

    if in_ci():
        pytest.fail(f"{reason} (CI is set: a server that cannot start fails the run)")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A ``redis-server`` on a free loopback port, with its data in a temporary folder.

    ``appendonly`` keeps what was written across a restart of the same server
    (:meth:`restart`), as a facility's Redis would.
    """

    def __init__(self, port: int | None = None, *, appendonly: bool = True) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server not found (apt-get install -y redis-server)")
        self.binary = binary
        self.port = port or free_port()
        self.appendonly = appendonly
        self.dir = Path(tempfile.mkdtemp(prefix="cielo-redis-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it accepts connections."""
        args = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir",
                str(self.dir), "--save", "", "--appendonly", "yes" if self.appendonly else "no",
                "--logfile", str(self.dir / "redis.log")]  # fmt: skip
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = (
                    self.process.stderr.read().decode(errors="replace")
                    if self.process.stderr
                    else ""
                )
                raise RuntimeError(f"redis-server exited with {self.process.returncode}: {err}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} in {timeout} s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server started here (by PID), keeping its data folder for a restart."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> None:
        """Stop and start again on the same port and data folder."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the server and remove its data."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
