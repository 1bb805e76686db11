"""The manager-worker channel: one JSON object per line over a Unix socket.

The worker listens (so a restarted manager can connect to a worker that went on
running); the manager connects. Worker to manager: ``hello``, ``heartbeat``,
``environment`` (opening/open/failed/closed), ``re_state``, ``item_started``,
``paused``, ``item_done``, ``document``, ``console``. Manager to worker: commands
``{"cmd": "run" | "pause" | "resume" | "stop" | "abort" | "halt" | "close", ...}``.
"""

from __future__ import annotations

import datetime
import json
import math
import socket
import threading
from typing import Any

__all__ = ["LineSocket", "decode", "encode"]

#: The longest line either side accepts (a document with a large array).
MAX_LINE = 256 * 1024 * 1024


def _default(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars
    if callable(tolist):
        return tolist()
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return repr(value)


def _finite(value: Any) -> Any:
    """NaN and infinities as ``null`` (JSON has no spelling for them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def encode(message: dict[str, Any]) -> bytes:
    """One line of JSON (NaN and infinities become ``null``)."""
    try:
        text = json.dumps(message, default=_default, allow_nan=False, separators=(",", ":"))
    except ValueError:  # NaN somewhere: convert through plain structures first
        plain = json.loads(json.dumps(message, default=_default))
        text = json.dumps(_finite(plain), allow_nan=False, separators=(",", ":"))
    return text.encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    message = json.loads(line)
    if not isinstance(message, dict):
        raise ValueError(f"expected a JSON object, got {line[:80]!r}")
    return message


class LineSocket:
    """The worker's end of one connection: thread-safe ``send``, blocking ``receive``."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._reader = sock.makefile("rb")
        self._send_lock = threading.Lock()
        self.closed = False

    def send(self, message: dict[str, Any]) -> bool:
        """Send one message; ``False`` (and the socket marked closed) if the peer is gone."""
        data = encode(message)
        with self._send_lock:
            if self.closed:
                return False
            try:
                self.sock.sendall(data)
            except OSError:
                self.closed = True
                return False
        return True

    def receive(self) -> dict[str, Any] | None:
        """The next message, or ``None`` at the end of the connection."""
        try:
            line = self._reader.readline(MAX_LINE)
        except OSError:
            line = b""
        if not line:
            self.closed = True
            return None
        return decode(line)

    def close(self) -> None:
        self.closed = True
        for closing in (self._reader.close, self.sock.close):
            try:
                closing()
            except OSError:
                pass
