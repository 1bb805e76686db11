"""Who holds the instrument's lock, for the status: the server's own worker, or another
runner (a ``cielo run`` in a terminal, a second server) that keeps the environment from
opening."""

from __future__ import annotations

import time
from typing import Any

from cielo.core import InstrumentLock, read_profile

__all__ = ["lock_holder"]

#: The status is built on every change; the lock file is read at most this often.
EVERY = 0.25
_seen: dict[str, tuple[float, dict[str, Any] | None]] = {}
_instruments: dict[str, str | None] = {}


def lock_holder(profile: str) -> dict[str, Any] | None:
    """The holder of ``profile``'s instrument lock (``instrument``, ``holder``, ``pid``,
    ``host``, ``since`` in ISO 8601, ``text``), or ``None`` while it is free."""
    now = time.monotonic()
    seen = _seen.get(profile)
    if seen is not None and now - seen[0] < EVERY:
        return seen[1]
    holder = _read(profile)
    _seen[profile] = (now, holder)
    return holder


def _read(profile: str) -> dict[str, Any] | None:
    if profile not in _instruments:
        try:
            _instruments[profile] = read_profile(profile).instrument
        except Exception:  # a profile that does not load: the environment says why
            _instruments[profile] = None
    instrument = _instruments[profile]
    if not instrument:
        return None
    info = InstrumentLock(instrument, holder="cielo serve status").info(wait=0)
    if info is None:
        return None
    return {**info.to_json(), "text": info.describe()}
