"""Each test gets its own catalog, lock directory, engine state and IPython directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("CIELO_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.setenv("CIELO_CATALOG", f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return tmp_path
