"""The manager's handle on its worker: start it, connect, read its messages, watch it.

A worker is declared lost when its process exits, its connection closes, or it hangs.
Silence alone does not make a hang: a plan can hold the interpreter (a long computation
in C, a loaded machine) so that even the heartbeat thread waits. A worker that sent
nothing for ``heartbeat_timeout`` seconds is looked at in ``/proc``: a stopped process
(SIGSTOP, a debugger) is hung; one that runs or waits for a CPU, or used CPU since it was
last looked at, is busy and left alone; one asleep without using CPU for
``hang_timeout`` seconds is hung. A hung worker is killed. ``on_lost`` is called once,
with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ._channel import MAX_LINE, decode, encode
from ._settings import Settings

__all__ = ["Standby", "WorkerLink"]

logger = logging.getLogger("cielo.server")


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
        *,
        standby: bool = False,
    ) -> None:
        self.settings = settings
        self.on_message = on_message
        self.on_lost = on_lost
        #: started ahead, its imports done, waiting for ``open`` (on its own socket)
        self.standby = standby
        self.path = settings.standby_socket_path if standby else settings.socket_path
        self.process: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None
        self.closing = False  # a close was asked: the process's end is expected
        self.lost: str | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._last_seen = time.monotonic()
        self._opening = True
        self._activity: _Activity | None = None  # looked at while it is silent

    # -- starting ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the worker process and connect to it (raises ``OSError`` if it cannot)."""
        settings = self.settings
        assert settings.run_dir is not None
        settings.run_dir.mkdir(parents=True, exist_ok=True)
        socket_path = self.path
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()
        standby = ["--standby", str(settings.standby_socket_path)] if self.standby else []
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
                    str(settings.socket_path),
                    *standby,
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
        if not self.path.exists():
            return False
        try:
            await self.connect()
        except (ConnectionRefusedError, FileNotFoundError):
            return False
        self._opening = self.standby  # a standby answers its hello, then waits
        return True

    def promote(
        self, on_message: Callable[[dict[str, Any]], None], on_lost: Callable[[str], None]
    ) -> None:
        """Open the environment in this standby worker: it moves to the worker's socket
        (where a restarted manager finds it) and loads the profile."""
        self.on_message, self.on_lost = on_message, on_lost
        self.standby, self.path = False, self.settings.socket_path
        self._opening, self._last_seen = True, time.monotonic()
        self.send({"cmd": "open"})

    async def connect(self) -> None:
        """Connect to the worker's socket and start reading and watching."""
        reader, writer = await asyncio.open_unix_connection(str(self.path), limit=MAX_LINE)
        self._writer = writer
        self._last_seen = time.monotonic()
        self._tasks = [
            asyncio.create_task(self._read(reader), name="cielo worker reader"),
            asyncio.create_task(self._watch(), name="cielo worker watchdog"),
        ]

    # -- running ----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Connected, and not lost."""
        return self._writer is not None and self.lost is None

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
            if message.get("type") == "hello" and message.get("pid"):
                self.pid = self.pid or int(message["pid"])
            self.on_message(message)

    async def _watch(self) -> None:
        settings = self.settings
        tick = min(0.1, settings.heartbeat_timeout / 4)
        while self.lost is None:
            asleep = time.monotonic()
            await asyncio.sleep(tick)
            reason = self._exit_reason()
            if reason:
                self._lose(reason)
                return
            now = time.monotonic()
            if now - asleep > tick + 0.25:
                continue  # this loop was held up: let the reader catch up first
            silent = now - self._last_seen
            if self._opening:
                hung = silent > settings.open_timeout
            elif silent > settings.heartbeat_timeout / 2:
                hung = self._hung(silent)
            else:
                self._activity = None
                continue
            if hung:
                self.kill()
                state = self._activity.state if self._activity else "no /proc to look at"
                self._lose(
                    f"stopped answering (no heartbeat for {silent:.1f} s; {state}); it was killed"
                )
                return

    def _hung(self, silent: float) -> bool:
        """Whether a worker silent for ``silent`` s is hung (see the module's docstring);
        sampled from half the heartbeat deadline on, judged past it."""
        settings = self.settings
        if self._activity is None:
            self._activity = _Activity(settings.heartbeat_timeout, since=self._last_seen)
        activity = self._activity
        if activity.look(self.pid) is None:  # no /proc: silence alone, the long bound
            return silent > settings.hang_timeout
        if silent <= settings.heartbeat_timeout:
            return False
        if activity.stopped:
            return True
        if activity.busy:
            if not activity.warned:
                activity.warned = True
                logger.warning(
                    "the worker sent nothing for %.1f s but is busy (%s): not a hang",
                    silent,
                    activity.state,
                )
            return False
        return time.monotonic() - activity.progress > settings.hang_timeout

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


class Standby:
    """A worker started ahead of ``environment_open``: its Python imports and plugin
    modules are loaded, no profile opened, no instrument lock taken. ``take`` hands it
    over to be opened; the manager starts the next one when the environment closes.
    A standby a previous manager left is adopted."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.link: WorkerLink | None = None
        self.warm = False  # its imports are done
        self._starting: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        """The standby worker's pid once its imports are done (else ``None``)."""
        link = self.link
        return link.pid if self.warm and link is not None and link.lost is None else None

    def _on_message(self, message: dict[str, Any]) -> None:
        if message.get("type") in ("hello", "standby") and message.get("warm"):
            self.warm = True

    def prestart(self) -> None:
        """Start (or adopt) a standby worker in the background, if none is there."""
        if not self.settings.prestart or self.link is not None or self._starting is not None:
            return
        self._starting = asyncio.get_running_loop().create_task(self._start())

    async def _start(self) -> None:
        link = WorkerLink(self.settings, self._on_message, self._lost, standby=True)
        self.link, self.warm = link, False
        try:
            if not await link.attach():
                await link.start()
        except OSError as exc:
            logger.warning("no standby worker: %s", exc)
            if self.link is link:
                self.link = None
        finally:
            self._starting = None

    def _lost(self, why: str) -> None:
        if self.link is not None and self.link.lost is not None:
            self.link = None

    async def take(self) -> WorkerLink | None:
        """The standby worker, connected, for the caller to :meth:`~WorkerLink.promote`;
        ``None`` if there is none (it is being started: waited for)."""
        if self._starting is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._starting)
        link, self.link, self.warm = self.link, None, False
        if link is None or not link.connected:
            return None
        return link

    async def discard(self) -> None:
        """End the standby (its imports may be older than the plugin files)."""
        if self._starting is not None:
            self._starting.cancel()
            with contextlib.suppress(BaseException):
                await self._starting
        link, self.link, self.warm = self.link, None, False
        if link is not None:
            link.closing = True
            link.kill()
            await link.aclose()


class _Activity:
    """What ``/proc`` says of a silent worker, sampled every watchdog tick.

    Busy means a thread on (or waiting for) a CPU in most samples of the last ``window``
    seconds, or at least :data:`BUSY_CPU` of a CPU used over them; threads waiting for
    the GIL wake every 5 ms and use a little CPU, which is not busy.
    """

    def __init__(self, window: float, since: float) -> None:
        self.window = window
        self.samples: deque[tuple[float, int, bool]] = deque()  # (time, cpu ticks, running)
        self.progress = since  # when it was last heard from or seen busy
        self.stopped = False
        self.busy = False
        self.warned = False
        self.state = "not looked at"

    def look(self, pid: int | None) -> bool | None:
        """Sample process ``pid`` (all its threads); ``None`` if ``/proc`` cannot say."""
        if pid is None:
            return None
        try:
            fields = _stat_fields(f"/proc/{pid}/stat")
            states = {_stat_fields(f"/proc/{pid}/task/{t}/stat")[0] for t in _tasks(pid)}
        except (OSError, IndexError, ValueError):
            return None
        now = time.monotonic()
        cpu = int(fields[11]) + int(fields[12])  # utime + stime of every thread, in ticks
        self.samples.append((now, cpu, bool(states & {"R", "D"})))
        while now - self.samples[0][0] > self.window:
            self.samples.popleft()
        self.stopped = bool(states & {"T", "t", "Z", "X"})
        first, span = self.samples[0], now - self.samples[0][0]
        share = (cpu - first[1]) / _TICKS / span if span > 0 else 0.0
        running = sum(r for _, _, r in self.samples) / len(self.samples)
        self.busy = not self.stopped and (running >= 0.5 or share >= BUSY_CPU)
        if self.busy:
            self.progress = now
        self.state = (
            "its process is stopped"
            if self.stopped
            else f"its process is running ({share:.0%} of a CPU)"
            if self.busy
            else f"its process sleeps and uses no CPU ({share:.0%})"
        )
        return True


#: The share of one CPU over the last second above which a silent worker is busy.
BUSY_CPU = 0.1
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(path: str) -> list[str]:
    """The fields of a ``/proc`` stat file after the command name (state first)."""
    with open(path) as f:
        text = f.read()
    return text[text.rindex(")") + 2 :].split()


def _tasks(pid: int) -> list[str]:
    return os.listdir(f"/proc/{pid}/task")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
