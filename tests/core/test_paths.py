"""cielo.core.paths: the user's directories come from platformdirs (XDG on Linux)."""

from __future__ import annotations

import json
import sys

import platformdirs
import pytest

from cielo.core.paths import (
    config_dir,
    data_dir,
    default_catalog_uri,
    state_dir,
    write_json_atomic,
)
from cielo.storage import default_catalog_uri as storage_default


def test_directories_are_the_platforms_own(monkeypatch):
    monkeypatch.delenv("CIELO_STATE_DIR", raising=False)
    assert state_dir() == platformdirs.user_state_path("cielo")
    assert data_dir() == platformdirs.user_data_path("cielo")
    assert config_dir() == platformdirs.user_config_path("cielo")
    assert storage_default() == default_catalog_uri() == f"sqlite:///{data_dir()}/catalog.sqlite"


@pytest.mark.skipif(sys.platform != "linux", reason="XDG variables are Linux's")
def test_xdg_variables_and_cielo_state_dir_are_followed(monkeypatch, tmp_path):
    monkeypatch.delenv("CIELO_STATE_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert state_dir() == tmp_path / "state" / "cielo"
    assert default_catalog_uri() == f"sqlite:///{tmp_path}/data/cielo/catalog.sqlite"
    assert config_dir() == tmp_path / "config" / "cielo"
    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path / "mine"))
    assert state_dir() == tmp_path / "mine"


@pytest.mark.parametrize("durable", [False, True])
def test_json_written_atomically_replaces_the_file_whole(tmp_path, durable):
    target = tmp_path / "deep" / "state.json"
    write_json_atomic(target, {"a": 1}, durable=durable)
    write_json_atomic(target, {"a": 2, "b": [1, 2]}, durable=durable, indent=1)
    assert json.loads(target.read_text()) == {"a": 2, "b": [1, 2]}
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]  # no temporary left


def test_json_that_cannot_be_written_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "state.json"
    write_json_atomic(target, {"a": 1})
    with pytest.raises(TypeError):
        write_json_atomic(target, {"a": object()})
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
