"""Where cielo keeps a user's files, in each platform's own place (platformdirs).

On Linux these are the XDG directories (``${XDG_STATE_HOME:-~/.local/state}/cielo``,
``${XDG_DATA_HOME:-~/.local/share}/cielo``, ``${XDG_CONFIG_HOME:-~/.config}/cielo``); on
macOS ``~/Library/Application Support/cielo`` and on Windows ``%LOCALAPPDATA%\\cielo``.
``$CIELO_STATE_DIR`` replaces the state directory (tests, several instruments on one host).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import platformdirs

__all__ = ["config_dir", "data_dir", "default_catalog_uri", "state_dir", "write_json_atomic"]

_APP = "cielo"


def state_dir() -> Path:
    """Engine metadata, scan ids, instrument locks, server sockets: ``$CIELO_STATE_DIR``,
    else the platform's user state directory."""
    base = os.environ.get("CIELO_STATE_DIR")
    return Path(base).expanduser() if base else platformdirs.user_state_path(_APP)


def data_dir() -> Path:
    """The default catalog and the simulated detectors' frames."""
    return platformdirs.user_data_path(_APP)


def config_dir() -> Path:
    """The user's own profiles (``profiles/``)."""
    return platformdirs.user_config_path(_APP)


def default_catalog_uri() -> str:
    """``sqlite:///`` + :func:`data_dir` ``/catalog.sqlite``: where runs go by default."""
    return "sqlite:///" + str(data_dir() / "catalog.sqlite")


def write_json_atomic(
    path: Path,
    data: Any,
    *,
    durable: bool = False,
    default: Callable[[Any], Any] | None = None,
    **dump_options: Any,
) -> None:
    """Replace ``path`` with ``data`` as JSON all at once: written to a temporary file beside
    it, then renamed over it, so a reader never sees half a file. ``durable`` also syncs the
    file to disk before the rename (state that must survive a power cut, at a few ms each)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, default=default, **dump_options)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
