"""Persistent engine metadata (``RE.md``) and a scan_id that survives restarts.

The mapping is kept in memory and written to a small JSON file (atomically, on every
change) when a path is given. The default path is ``engine-md.json`` in the state directory
(:func:`cielo.core.paths.state_dir`: ``$CIELO_STATE_DIR``, else the platform's user state
directory, ``~/.local/state/cielo`` on Linux).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from ..paths import state_dir, write_json_atomic

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["PersistentMetadata", "default_state_file", "json_metadata"]


def default_state_file() -> Path:
    """Where ``RE.md`` and the scan_id live unless the RunEngine is told otherwise."""
    return state_dir() / "engine-md.json"


def _to_json(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars
    if tolist is not None:
        return tolist()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_metadata(value: Any, where: str = "md") -> Any:
    """A JSON-ready copy of run-start metadata, as event-model's schema wants it.

    Tuples and sets become lists, numpy values Python ones; a key that is not a string or
    holds '.' or '/', a value JSON cannot hold, or text with a NUL character or a lone
    surrogate (no catalog can store them) is refused naming where it is.
    """
    if isinstance(value, str):
        _check_text(value, where)
        return value
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            here = f"{where}[{key!r}]"
            if not isinstance(key, str) or "." in key or "/" in key:
                raise ValueError(
                    f"run metadata key {here} must be a string without '.' or '/' "
                    "(event-model's rule for start documents); rename it, e.g. with '_'"
                )
            _check_text(key, f"the key of {here}")
            out[key] = json_metadata(item, here)
        return out
    if isinstance(value, list | tuple):
        return [json_metadata(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, set | frozenset):
        return json_metadata(sorted(value, key=repr), where)
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars
    if callable(tolist):
        return json_metadata(tolist(), where)
    raise TypeError(
        f"run metadata {where} = {value!r} ({type(value).__name__}) is not "
        "JSON-compatible; pass numbers, strings, booleans, None, lists or dicts "
        "(e.g. a device's name rather than the device)"
    )


def _check_text(text: str, where: str) -> None:
    """Refuse text no catalog can store: a NUL character or a lone surrogate."""
    if "\x00" in text:
        raise ValueError(
            f"run metadata {where} = {text[:60]!r} holds a NUL character ('\\x00'), which "
            "catalogs cannot store; remove it"
        )
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(
                f"run metadata {where} = {text[:60]!r} holds a lone surrogate, which is not "
                "valid Unicode; fix how the text was decoded"
            ) from None


class PersistentMetadata(MutableMapping[str, Any]):
    """A dict of metadata saved to ``path`` (JSON) after every change; ``None`` keeps it in memory.

    Values must be JSON-serializable (numpy values are converted); a value that is not
    is refused with a :class:`TypeError` naming the key.
    """

    def __init__(
        self, path: str | os.PathLike[str] | None, initial: Mapping[str, Any] | None = None
    ):
        self.path = Path(path) if path is not None else None
        self._lock = threading.RLock()
        self._data: dict[str, Any] = {}
        if self.path is not None and self.path.exists():
            try:
                loaded = json.loads(self.path.read_text() or "{}")
            except (OSError, ValueError) as exc:
                raise ValueError(
                    f"cannot read the RunEngine metadata file {str(self.path)!r}: {exc}; "
                    "fix or delete it, or pass another scan_id_file="
                ) from exc
            if not isinstance(loaded, dict):
                raise ValueError(
                    f"the RunEngine metadata file {str(self.path)!r} holds "
                    f"{type(loaded).__name__}, expected a JSON object"
                )
            self._data.update(loaded)
        if initial is not None and not isinstance(initial, Mapping):
            raise TypeError(
                f"RunEngine metadata must be a mapping such as {{'operator': 'ada'}}, "
                f"got {initial!r} ({type(initial).__name__})"
            )
        if initial:
            for key, value in initial.items():
                self._check(key, value)
            self._data.update(initial)
            self._save()

    # -- mapping -------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._check(key, value)
        with self._lock:
            self._data[key] = value
            self._save()

    def __delitem__(self, key: str) -> None:
        with self._lock:
            del self._data[key]
            self._save()

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"PersistentMetadata({self._data!r}, path={str(self.path) if self.path else None!r})"

    def update(self, *args: Any, **kwargs: Any) -> None:  # one write for many keys
        new = dict(*args, **kwargs)
        for key, value in new.items():
            self._check(key, value)
        with self._lock:
            self._data.update(new)
            self._save()

    def copy(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._data)

    # -- scan id -------------------------------------------------------------
    def next_scan_id(self) -> int:
        """Increment and return ``scan_id`` (saved at once, so it survives a restart).

        Engines sharing one file (two sessions on one beamline account) never hand out the
        same scan_id: the file is locked, and its scan_id counts if it is ahead.
        """
        with self._lock, self._file_lock():
            current = self._data.get("scan_id", 0)
            if not isinstance(current, int) or isinstance(current, bool):
                raise ValueError(
                    f"RE.md['scan_id'] is {current!r}; it must be an integer (set RE.md['scan_id'] = 0)"
                )
            on_disk = self._scan_id_on_disk()
            if on_disk > current:
                current = on_disk
            self._data["scan_id"] = current + 1
            self._save()
            return current + 1

    def _scan_id_on_disk(self) -> int:
        if self.path is None or not self.path.exists():
            return 0
        try:
            value = json.loads(self.path.read_text() or "{}").get("scan_id", 0)
        except (OSError, ValueError, AttributeError):
            return 0
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """An exclusive lock between processes on the file's directory (no extra file is
        created; where fcntl exists)."""
        if self.path is None or fcntl is None:
            yield
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    # -- storage -------------------------------------------------------------
    @staticmethod
    def _check(key: Any, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"RE.md keys must be strings, got {key!r}")
        try:
            json.dumps(value, default=_to_json)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"RE.md[{key!r}] = {value!r} cannot be stored: {exc}; use JSON-compatible values"
            ) from exc

    def _save(self) -> None:
        if self.path is None:
            return
        write_json_atomic(self.path, self._data, default=_to_json, indent=1, sort_keys=True)
