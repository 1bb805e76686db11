"""Persistent RE.md and scan_id: a small JSON file, location configurable."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cielo import Msg, RunEngine
from cielo.core import PersistentMetadata


def test_metadata_file_round_trip(tmp_path):
    path = tmp_path / "sub" / "md.json"
    md = PersistentMetadata(path, {"beamline": "X1"})
    md["proposal"] = 1234
    md.update(pi="Curie", energy=np.float64(8.5))
    assert md.next_scan_id() == 1
    del md["pi"]
    on_disk = json.loads(path.read_text())
    assert on_disk == {"beamline": "X1", "proposal": 1234, "energy": 8.5, "scan_id": 1}
    again = PersistentMetadata(path)
    assert dict(again) == on_disk
    assert again.next_scan_id() == 2


def test_bad_values_and_files_are_refused_clearly(tmp_path):
    md = PersistentMetadata(None)
    with pytest.raises(TypeError, match=r"RE.md\['detector'\].*JSON"):
        md["detector"] = object()
    md["scan_id"] = "seven"
    with pytest.raises(ValueError, match="must be an integer"):
        md.next_scan_id()
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match="broken.json.*scan_id_file"):
        PersistentMetadata(broken)


def test_engine_default_location_follows_cielo_state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path))
    with RunEngine() as RE:
        RE([Msg("open_run"), Msg("close_run")])
    assert json.loads((tmp_path / "engine-md.json").read_text())["scan_id"] == 1


def test_md_precedence_and_in_memory_engine():
    docs = []
    with RunEngine({"sample": "engine", "operator": "op"}, scan_id_file=None) as RE:
        RE.subscribe(lambda n, d: docs.append((n, d)), "start")
        RE([Msg("open_run", sample="plan", plan_name="p")], sample="caller")
        RE([Msg("open_run", sample="plan")])
    first, second = (d for _, d in docs)
    assert first["sample"] == "caller" and first["operator"] == "op"
    assert second["sample"] == "plan"
    assert (first["scan_id"], second["scan_id"]) == (1, 2)
    assert RE.md["scan_id"] == 2
