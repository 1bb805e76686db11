"""An instrument lock: one plan runner per instrument at a time, released when it dies.

Whatever runs plans on an instrument (``cielo run``, the queue server's worker, a shell)
takes :class:`InstrumentLock` first; a second runner is refused with who holds it, since
when, and what to do. The lock is ``fcntl.flock`` on one file per instrument, so the
kernel releases it when the holding process exits, however it exits (SIGKILL included);
the file also holds the holder's description as JSON for the message.

The files live in ``$CIELO_LOCK_DIR``, else ``locks/`` in cielo's state directory
(:func:`cielo.core.paths.state_dir`). Every process
that should exclude the others must see the same directory (a local file system: flock
across NFS depends on the server).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from .._errors import CieloError
from ..engine import default_state_file

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["InstrumentBusy", "InstrumentLock", "LockInfo", "default_lock_dir"]


class InstrumentBusy(CieloError):
    """Another runner holds the instrument's lock (the message says who, since when)."""

    def __init__(self, message: str, info: LockInfo | None) -> None:
        super().__init__(message)
        self.info = info


@dataclass(frozen=True)
class LockInfo:
    """Who holds an instrument's lock: a description, process id, host and start time."""

    instrument: str
    holder: str
    pid: int
    host: str
    since: datetime

    def to_json(self) -> dict[str, Any]:
        """What the lock file holds (and a server's status shows): ``since`` in ISO 8601."""
        return {
            "instrument": self.instrument,
            "holder": self.holder,
            "pid": self.pid,
            "host": self.host,
            "since": self.since.isoformat(),
        }

    def describe(self) -> str:
        """``"cielo run 'count([det])' (pid 12, host h) since 2024-05-01 10:00:00 (3 min ago)"``."""
        local = self.since.astimezone()
        return (
            f"{self.holder} (pid {self.pid}, host {self.host}) since "
            f"{local:%Y-%m-%d %H:%M:%S} ({_ago(time.time() - self.since.timestamp())})"
        )


def default_lock_dir() -> Path:
    """``$CIELO_LOCK_DIR``, else ``locks/`` beside cielo's persistent engine state."""
    base = os.environ.get("CIELO_LOCK_DIR")
    if base:
        return Path(base).expanduser()
    return default_state_file().parent / "locks"


class InstrumentLock:
    """Exclusive use of ``instrument`` by one runner, described by ``holder``.

    :param instrument: the instrument's name (a profile's ``instrument``, else its name);
        two profiles driving the same hardware name the same instrument.
    :param holder: what holds it, shown to whoever is refused (e.g. ``"cielo run 'scan(...)'"``).
    :param directory: where the lock files live (default :func:`default_lock_dir`).

    ``acquire()`` raises :class:`InstrumentBusy` at once when another runner holds it (it
    does not wait); ``release()`` gives it back; ``with InstrumentLock(...):`` does both.
    """

    def __init__(
        self, instrument: str, *, holder: str, directory: str | os.PathLike[str] | None = None
    ) -> None:
        if not isinstance(instrument, str) or not instrument.strip():
            raise ValueError(
                f"an instrument lock needs a non-empty instrument name, got {instrument!r}"
            )
        self.instrument = instrument
        self.holder = holder
        self.directory = Path(directory) if directory is not None else default_lock_dir()
        self._fd: int | None = None
        self._info: LockInfo | None = None

    @property
    def path(self) -> Path:
        """The lock file (the instrument's name, %-escaped where a file name cannot hold it)."""
        return self.directory / f"{quote(self.instrument, safe='')}.lock"

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> LockInfo:
        """Take the lock, or raise :class:`InstrumentBusy` naming its holder; returns our info."""
        if self._fd is not None:
            raise CieloError(f"the lock of instrument {self.instrument!r} is already held here")
        info = LockInfo(self.instrument, self.holder, os.getpid(), socket.gethostname(), _now())
        if fcntl is None:  # pragma: no cover - Windows
            warnings.warn(
                "instrument locks need fcntl (POSIX); two runners are not kept apart here",
                stacklevel=2,
            )
            self._info = info
            return info
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_info(fd, self.instrument)
            os.close(fd)
            raise self._busy(holder) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info.to_json()).encode(), 0)
        self._fd, self._info = fd, info
        return info

    def release(self) -> None:
        """Give the lock back (nothing happens when it is not held)."""
        fd, self._fd, self._info = self._fd, None, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)  # before unlocking: the next holder writes its own
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def info(self, wait: float = 1.0) -> LockInfo | None:
        """Who holds the lock now (this object included), or ``None`` when it is free.

        :param wait: how long to wait for a holder that is just starting to describe
            itself (0 for a status that must not block)."""
        if self._info is not None:
            return self._info
        if fcntl is None or not self.path.exists():  # pragma: no cover - Windows
            return None
        fd = os.open(self.path, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _holder_info(fd, self.instrument, wait) or LockInfo(
                    self.instrument, "an unknown runner", 0, "?", _now()
                )
            return None  # we could take it: nobody holds it (closing the fd releases it)
        finally:
            os.close(fd)

    def _busy(self, info: LockInfo | None) -> InstrumentBusy:
        who = info.describe() if info is not None else "another runner (it is just starting)"
        kill = (
            f"stop it (kill {info.pid} on {info.host}) if it is stuck"
            if info is not None and info.pid
            else "stop it if it is stuck"
        )
        return InstrumentBusy(
            f"instrument {self.instrument!r} is in use by {who}; wait for it to finish, or "
            f"{kill}: the lock ({self.path}) is released when that process exits",
            info,
        )

    def __enter__(self) -> InstrumentLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.release()

    def __repr__(self) -> str:
        state = "held" if self.held else "not held"
        return f"InstrumentLock({self.instrument!r}, holder={self.holder!r}, {state})"


def _now() -> datetime:
    return datetime.now(UTC)


def _holder_info(fd: int, instrument: str, wait: float = 1.0) -> LockInfo | None:
    """The holder's info; a holder writes it just after taking the lock, so an empty
    file is read again for up to ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while True:
        info = _read_info(fd, instrument)
        if info is not None or time.monotonic() > deadline:
            return info
        time.sleep(0.01)


def _read_info(fd: int, instrument: str) -> LockInfo | None:
    """The holder's description from the lock file, or None (being written, or damaged)."""
    try:
        data = json.loads(os.pread(fd, 65536, 0).decode())
        return LockInfo(
            instrument,
            str(data["holder"]),
            int(data["pid"]),
            str(data["host"]),
            datetime.fromisoformat(data["since"]),
        )
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, OSError):
        return None


def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.1f} days ago"
