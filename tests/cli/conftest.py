"""Keep the RunEngine's persistent state (RE.md, scan_id) of CLI runs inside the test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path_factory.mktemp("state")))
