"""Persistent RE.md and scan_id: a small JSON file, location configurable."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cielo import Msg, RunEngine
from cielo.core.engine import PersistentMetadata


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


class FacilityMetadata:
    """A plugin adding facility metadata and refusing runs without a proposal."""

    from cielo import hookimpl

    @hookimpl
    def cielo_run_metadata(self, plan_name, md):
        return {"facility": "ALS", "beamline": "default", "seen_plan": plan_name}

    @hookimpl
    def cielo_check_run_metadata(self, md):
        if "proposal" not in md:
            raise ValueError("md['proposal'] is missing: pass RE(plan, proposal=NUMBER)")
        md["proposal"] = int(md["proposal"])


def test_plugin_metadata_is_added_checked_and_normalised(validate):
    from cielo.core import make_plugin_manager

    pm = make_plugin_manager(autoload=False, bundled=(), plugins=[("facility", FacilityMetadata())])
    docs = []
    with RunEngine(plugin_manager=pm, scan_id_file=None) as RE:
        RE.subscribe(lambda n, d: docs.append((n, d)))
        RE([Msg("open_run", plan_name="align", beamline="7.3.3"), Msg("close_run")], proposal="42")
        start = docs[0][1]
        validate("start", start)
        assert start["facility"] == "ALS" and start["seen_plan"] == "align"
        assert start["beamline"] == "7.3.3"  # the plan's own keys win over the plugin's
        assert start["proposal"] == 42  # normalised by the check hook
        assert "facility" in start["versions"]
        docs.clear()
        with pytest.raises(ValueError, match="proposal.*is missing"):
            RE([Msg("open_run"), Msg("close_run")])
        assert docs == []  # refused before anything was emitted
        assert RE.state == "idle"


def test_two_engines_sharing_a_file_never_repeat_a_scan_id(tmp_path):
    path = tmp_path / "shared.json"
    ids = []
    with RunEngine(scan_id_file=path) as a, RunEngine(scan_id_file=path) as b:
        a.subscribe(lambda n, d: ids.append(d["scan_id"]), "start")
        b.subscribe(lambda n, d: ids.append(d["scan_id"]), "start")
        for _ in range(2):
            a([Msg("open_run"), Msg("close_run")])
            b([Msg("open_run"), Msg("close_run")])
    assert ids == [1, 2, 3, 4]


def test_state_file_is_the_only_file_written(tmp_path):
    with RunEngine(scan_id_file=tmp_path / "md.json") as RE:
        RE([Msg("open_run"), Msg("close_run")])
    assert [p.name for p in tmp_path.iterdir()] == ["md.json"]


def test_start_metadata_is_made_json_ready_or_refused_clearly(validate):
    import numpy as np

    docs: list[tuple[str, dict]] = []
    with RunEngine(scan_id_file=None) as RE:
        RE.subscribe(lambda n, d: docs.append((n, d)))
        plan = [Msg("open_run", time="now", uid=3, shape=(2, 3)), Msg("close_run")]
        RE(plan, gain=np.float32(1.5), steps=np.arange(3), tags={"b", "a"})
        start = docs[0][1]
        validate("start", start)
        assert isinstance(start["time"], float) and isinstance(start["uid"], str)
        assert start["gain"] == 1.5 and type(start["gain"]) is float
        assert start["steps"] == [0, 1, 2] and start["shape"] == [2, 3]
        assert start["tags"] == ["a", "b"]
        docs.clear()
        with pytest.raises(TypeError, match=r"'sample'.*object.*JSON"):
            RE([Msg("open_run"), Msg("close_run")], sample=object())
        with pytest.raises(ValueError, match=r"'a\.b'.*'\.' or '/'"):
            RE([Msg("open_run"), Msg("close_run")], **{"a.b": 1})
        with pytest.raises(ValueError, match=r"\['cfg'\]\[1\].*string"):
            RE([Msg("open_run", cfg={1: 2}), Msg("close_run")])
        assert docs == []  # refused before anything was emitted
        assert RE.state == "idle"
        RE([Msg("open_run"), Msg("close_run")])
        assert docs[0][1]["scan_id"] == 2  # the refused runs spent no scan_id


def test_engine_metadata_must_be_a_mapping_of_json_values():
    with pytest.raises(TypeError, match=r"mapping such as .*got 'operator=ada' \(str\)"):
        RunEngine("operator=ada", scan_id_file=None)
    with RunEngine({"operator": "ada"}, scan_id_file=None) as RE:
        with pytest.raises(TypeError, match=r"mapping such as .*got \['a', 'b'\] \(list\)"):
            RE.md = ["a", "b"]  # type: ignore[assignment]
        with pytest.raises(TypeError, match=r"RE.md\['sample'\].*JSON"):
            RE.md = {"sample": object()}
        # a refused replacement changes nothing (versions: the engine's, as Bluesky's)
        assert dict(RE.md) == {"operator": "ada", "versions": RE.md["versions"]}
