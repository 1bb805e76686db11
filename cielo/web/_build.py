"""The web application's build stamp: which front-end source the shipped assets come from.

``scripts/build_web.sh`` builds ``cielo/web/frontend`` into ``cielo/web/static`` and then
runs ``python cielo/web/_build.py`` to write ``static/build-info.json`` with the hash of
the source it built. The tests compare that hash with the source in the checkout, so a
committed build that lags behind its source fails with the command that rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent
FRONTEND_DIR = WEB_DIR / "frontend"
STATIC_DIR = WEB_DIR / "static"
BUILD_INFO = STATIC_DIR / "build-info.json"
REBUILD = "scripts/build_web.sh"

#: Folders of the front-end tree that are not its source.
_NOT_SOURCE = {"node_modules", "dist", ".vite"}


def source_files(frontend: Path = FRONTEND_DIR) -> list[Path]:
    """The files the build reads: sources, public assets, configs and the npm lock file."""
    return sorted(
        path
        for path in frontend.rglob("*")
        if path.is_file()
        and not _NOT_SOURCE.intersection(path.relative_to(frontend).parts)
        and path.name != ".gitignore"
    )


def source_hash(frontend: Path = FRONTEND_DIR) -> str:
    """SHA-256 over the front-end source: each file's relative path and bytes."""
    digest = hashlib.sha256()
    for path in source_files(frontend):
        digest.update(path.relative_to(frontend).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def built_hash(static: Path = STATIC_DIR) -> str | None:
    """The source hash the shipped build records (None if there is no stamped build)."""
    try:
        return str(json.loads((static / BUILD_INFO.name).read_text())["source_sha256"])
    except (OSError, ValueError, KeyError):
        return None


def stamp(frontend: Path = FRONTEND_DIR, static: Path = STATIC_DIR) -> str:
    """Record the source hash in the build output; returns the hash."""
    value = source_hash(frontend)
    info = {"source_sha256": value, "rebuild": REBUILD}
    (static / BUILD_INFO.name).write_text(json.dumps(info, indent=2) + "\n")
    return value


if __name__ == "__main__":  # pragma: no cover - called by scripts/build_web.sh
    print(f"{BUILD_INFO}: source sha256 {stamp()}", file=sys.stderr)
