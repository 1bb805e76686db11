"""The built web application in the package is the build of the source beside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cielo.web import STATIC_DIR
from cielo.web._build import FRONTEND_DIR, REBUILD, built_hash, source_files, source_hash


def test_committed_build_is_current() -> None:
    built = built_hash()
    assert built is not None, f"no build stamp in {STATIC_DIR}: run {REBUILD}"
    assert built == source_hash(), (
        f"cielo/web/static was built from other front-end source than cielo/web/frontend "
        f"now holds: run {REBUILD} and commit cielo/web/static"
    )


def test_source_hash_follows_every_source_file(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.ts").write_text("export const a = 1;\n")
    (tmp_path / "package-lock.json").write_text("{}\n")
    (tmp_path / "node_modules" / "x").mkdir(parents=True)
    (tmp_path / "node_modules" / "x" / "index.js").write_text("1")
    before = source_hash(tmp_path)
    (tmp_path / "node_modules" / "x" / "index.js").write_text("2")  # not source
    assert source_hash(tmp_path) == before
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3}\n')
    assert source_hash(tmp_path) != before
    (tmp_path / "src" / "a.ts").rename(tmp_path / "src" / "b.ts")
    assert source_hash(tmp_path) != before


def test_the_build_reads_a_locked_dependency_tree() -> None:
    names = {p.relative_to(FRONTEND_DIR).as_posix() for p in source_files()}
    assert {"package.json", "package-lock.json", "index.html", "vite.config.ts"} <= names


@pytest.mark.parametrize("name", ["index.html", "assets/*.css"])
def test_nothing_is_fetched_from_the_internet(name: str) -> None:
    """Pages and styles refer only to files of the build (no web fonts, no CDN scripts)."""
    files = sorted(STATIC_DIR.glob(name))
    assert files, f"no {name} in {STATIC_DIR}: run {REBUILD}"
    for path in files:
        text = path.read_text()
        remote = re.findall(
            r"""(?:src|href)\s*=\s*["']?(?:https?:)?//[^"'\s>]+|url\(\s*["']?(?:https?:)?//[^)]+""",
            text,
        )
        assert remote == [], f"{path.name} loads from the internet: {remote}"
