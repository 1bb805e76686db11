"""The manager's handle on its worker: start it, connect, read its messages, watch it.

A worker is declared lost when its process exits, its connection closes, or it sends
nothing (not even a heartbeat) for ``heartbeat_timeout`` seconds (a hung or stopped
process, which is then killed). ``on_lost`` is called once, with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from ._channel import MAX_LINE, decode, encode
from ._settings import Settings

__all__ = ["WorkerLink"]


class WorkerLink:
    """One worker process and the connection to it.

    :param on_message: called with every message the worker sends.
    :param on_lost: called once with the reason when the worker is gone.
    """

    def __init__(
        self,
        settings: Settings,
        on_message: Callable[[dict[str, Any]], None],
        on_lost: Callable[[str], None],
    ) -> None:
        self.settings = settings
        self.on_message = on_message
        self.on_lost = on_lost
        self.process: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None
        self.closing = False  # a close was asked: the process's end is expected
        self.lost: str | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._last_seen = time.monotonic()
        self._opening = True

    # -- starting ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the worker process and connect to it (raises ``OSError`` if it cannot)."""
        settings = self.settings
        assert settings.run_dir is not None
        settings.run_dir.mkdir(parents=True, exist_ok=True)
        socket_path = settings.socket_path
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()
        log = open(settings.log_path, "ab")
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "cielo.server._worker",
                    "--profile",
                    settings.profile,
                    "--socket",
                    str(socket_path),
                    "--heartbeat",
                    str(settings.heartbeat),
                    "--orphan-timeout",
                    str(settings.orphan_timeout),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the manager's terminal is the manager's
            )
        finally:
            log.close()
        self.pid = self.process.pid
        deadline = time.monotonic() + settings.open_timeout
        while True:
            if self.process.poll() is not None:
                raise OSError(
                    f"the worker exited with code {self.process.returncode} before it "
                    f"listened; see {settings.log_path}"
                )
            try:
                await self.connect()
                return
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    self.kill()
                    raise OSError(
                        f"the worker did not listen within {settings.open_timeout} s"
                    ) from None
                await asyncio.sleep(0.02)

    async def attach(self) -> bool:
        """Connect to a worker that is already running (left by a previous manager);
        ``False`` if none listens. Its ``hello`` message says its state and pid."""
        if not self.settings.socket_path.exists():
            return False
        try:
            await self.connect()
        except (ConnectionRefusedError, FileNotFoundError):
            return False
        self._opening = False
        return True

    async def connect(self) -> None:
        """Connect to the worker's socket and start reading and watching."""
        reader, writer = await asyncio.open_unix_connection(
            str(self.settings.socket_path), limit=MAX_LINE
        )
        self._writer = writer
        self._last_seen = time.monotonic()
        self._tasks = [
            asyncio.create_task(self._read(reader), name="cielo worker reader"),
            asyncio.create_task(self._watch(), name="cielo worker watchdog"),
        ]

    # -- running ----------------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        if self._writer is None or self.lost is not None:
            raise ConnectionError("the worker is not connected")
        self._writer.write(encode(message))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                line = await reader.readline()
            except (ConnectionError, asyncio.LimitOverrunError, ValueError) as exc:
                self._lose(f"connection broken ({type(exc).__name__}: {exc})")
                return
            if not line:
                await asyncio.sleep(0.05)  # let the process's exit code show
                self._lose(self._exit_reason() or "closed its connection")
                return
            self._last_seen = time.monotonic()
            try:
                message = decode(line)
            except ValueError:
                continue
            if message.get("type") == "environment" and message.get("state") != "opening":
                self._opening = False
            self.on_message(message)

    async def _watch(self) -> None:
        settings = self.settings
        while self.lost is None:
            await asyncio.sleep(min(0.1, settings.heartbeat_timeout / 4))
            reason = self._exit_reason()
            if reason:
                self._lose(reason)
                return
            silent = time.monotonic() - self._last_seen
            limit = settings.open_timeout if self._opening else settings.heartbeat_timeout
            if silent > limit:
                self.kill()
                self._lose(f"stopped answering (no heartbeat for {silent:.1f} s); it was killed")
                return

    def _exit_reason(self) -> str | None:
        if self.process is not None:
            code = self.process.poll()
            if code is None:
                return None
            if code < 0:
                try:
                    name = signal.Signals(-code).name
                except ValueError:
                    name = f"signal {-code}"
                return f"was killed by {name}"
            return f"exited with code {code}"
        if self.pid is not None and not _alive(self.pid):
            return "exited"
        return None

    def _lose(self, reason: str) -> None:
        if self.lost is not None:
            return
        self.lost = reason
        if self._writer is not None:
            self._writer.close()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        self.on_lost(reason)

    # -- ending -------------------------------------------------------------------------

    def kill(self) -> None:
        """SIGKILL the worker (it releases its instrument lock as it dies)."""
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)

    async def wait_exit(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the process to end; whether it did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._exit_reason() is not None:
                return True
            await asyncio.sleep(0.02)
        return False

    async def aclose(self) -> None:
        """Stop reading and watching (the process is left as it is)."""
        self.lost = self.lost or "detached"
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        if self._writer is not None:
            self._writer.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
