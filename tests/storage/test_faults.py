"""Storage faults (issue 10): a run never vanishes from the catalog while the run succeeds.

A value the catalog cannot hold fails the run visibly (its stop document says why, ``cielo
run`` exits 1) and every document that could be stored is; text no catalog can store is
refused at run start, naming the key.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from cielo import RunEngine, hookimpl, load_profile
from cielo.cli import main, run_plan_text
from cielo.core import RunEngineError, make_plugin_manager
from cielo.plugins.scans import count
from cielo.storage import CatalogError, open_catalog


class Unjsonable:
    """A value a device might hand back by mistake (no JSON form)."""

    def __repr__(self) -> str:
        return "<Unjsonable>"


class FlakyReader:
    """A readable whose 4th reading is a value JSON cannot hold."""

    parent = None

    def __init__(self, name: str = "flaky", bad_at: int = 4) -> None:
        self.name = name
        self.bad_at = bad_at
        self.reads = 0

    def describe(self) -> dict[str, Any]:
        return {self.name: {"source": "test", "dtype": "number", "shape": []}}

    def read(self) -> dict[str, Any]:
        self.reads += 1
        value: Any = Unjsonable() if self.reads == self.bad_at else float(self.reads)
        return {self.name: {"value": value, "timestamp": time.time()}}


class FlakyPlugin:
    @hookimpl
    def cielo_devices(self, profile: Any) -> dict[str, Any]:
        return {"flaky": FlakyReader()}


def test_a_value_json_cannot_hold_fails_the_run_and_the_rest_is_stored(catalog_uri: str):
    with open_catalog(catalog_uri) as cat, cat.writer() as writer:
        with RunEngine(scan_id_file=None) as RE:
            RE.subscribe(writer, fatal=True)
            with pytest.raises(RunEngineError, match=r"event 4 .*data\['flaky'\] = <Unjsonable>"):
                RE(count([FlakyReader()], num=6, delay=0.05))
        writer.flush()
        (run,) = cat.values()
        stop = run.metadata["stop"]
        assert stop["exit_status"] == "fail"
        assert "flaky" in stop["reason"] and "not stored" in stop["reason"]
        seq = [d["seq_num"] for n, d in run.documents() if n == "event"]
        assert seq[:3] == [1, 2, 3] and 4 not in seq


def test_cielo_run_exits_1_when_the_catalog_cannot_store_a_value(
    catalog_uri: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("CIELO_CATALOG", catalog_uri)
    env = load_profile("sim", plugin_manager=make_plugin_manager(plugins=[FlakyPlugin()]))
    with pytest.raises(RunEngineError, match="flaky"):
        run_plan_text(env, "count([det, flaky], num=6)", quiet=True)
    with open_catalog(catalog_uri) as cat:
        (run,) = cat.values()
        assert run.metadata["stop"]["exit_status"] == "fail"
        assert [d["seq_num"] for n, d in run.documents() if n == "event"][:3] == [1, 2, 3]


@pytest.mark.parametrize("value", ["a\x00b", "\ud800", ["ok", "x\x00"]])
def test_text_no_catalog_can_store_is_refused_at_run_start(catalog_uri: str, value: Any):
    with open_catalog(catalog_uri) as cat, cat.writer() as writer:
        with RunEngine(scan_id_file=None) as RE:
            RE.subscribe(writer, fatal=True)
            with pytest.raises(ValueError, match=r"md\['sample'\]"):
                RE(count([FlakyReader(bad_at=0)], num=1), sample=value)
            assert RE.md.get("scan_id", 0) == 0  # refused before a scan_id is spent
            RE(count([FlakyReader(bad_at=0)], num=2), sample="fine")
        writer.flush()
        assert [r.metadata["start"]["sample"] for r in cat.values()] == ["fine"]


def test_the_writer_refuses_a_start_document_it_cannot_store(catalog_uri: str, make_run):
    docs = make_run(n=2)
    docs[0][1]["sample"] = "bad\x00"
    with open_catalog(catalog_uri) as cat, cat.writer() as writer:
        with pytest.raises(CatalogError, match=r"start\['sample'\] = 'bad\\x00' holds a NUL"):
            writer(*docs[0])
        assert len(cat) == 0


def test_an_integer_too_large_for_a_float_is_stored(catalog_uri: str, tmp_path: Path):
    big = 10**400
    with open_catalog(catalog_uri) as cat, cat.writer() as writer:
        with RunEngine(scan_id_file=None) as RE:
            RE.subscribe(writer, fatal=True)
            RE(count([FlakyReader(bad_at=0)], num=1), huge=big)
        writer.flush()
        (run,) = cat.values()
        assert run.metadata["start"]["huge"] == big


def test_cielo_run_refuses_nul_in_metadata_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    uri = f"sqlite:///{tmp_path / 'c.sqlite'}"
    monkeypatch.setenv("CIELO_CATALOG", uri)
    assert main(["run", "-q", "count([det], md={'sample': 'a\\x00b'})"]) == 1
    err = capsys.readouterr().err
    assert "md['sample']" in err and "NUL" in err
    with open_catalog(uri) as cat:
        assert len(cat) == 0


def test_documents_of_a_run_whose_start_was_missed_are_dropped_with_a_warning(
    catalog_uri: str, make_run, caplog: pytest.LogCaptureFixture, tmp_path: Path
):
    from cielo.plugins.suitcases import cielo_suitcases

    docs = make_run(3)
    jsonl = cielo_suitcases()["jsonl"](directory=tmp_path)
    with open_catalog(catalog_uri) as cat, cat.writer() as writer:
        for name, doc in docs[1:]:  # subscribed after the start document
            writer(name, doc)
            jsonl(name, doc)
        assert len(cat) == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(m.startswith("CatalogWriter(") and "never saw" in m for m in warnings)
    assert any(m.startswith("jsonl suitcase") and "never saw" in m for m in warnings)
    assert len(warnings) <= 6  # once per descriptor or run, not once per document


class TwoReaders:
    def __init__(self, name: str) -> None:
        self.__name__ = name

    @hookimpl
    def cielo_readers(self) -> dict[str, Any]:
        return {"application/x-hdf5": lambda *a, **k: None}


def test_open_catalog_refuses_a_reader_two_plugins_offer(tmp_path: Path):
    from cielo.core import PluginError

    pm = make_plugin_manager(plugins=[TwoReaders("readers_a")])
    with pytest.raises(PluginError, match="readers_a"):
        open_catalog(f"sqlite:///{tmp_path / 'c.sqlite'}", plugin_manager=pm)


def test_cielo_run_exits_1_when_a_suitcase_fails_and_the_catalog_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    uri = f"sqlite:///{tmp_path / 'c.sqlite'}"
    monkeypatch.setenv("CIELO_CATALOG", uri)
    profile = tmp_path / "p.toml"
    profile.write_text(
        '[devices.det]\ntype = "sim.peak_detector"\nmotors = ["motor"]\n'
        '[devices.motor]\ntype = "sim.motor"\n'
        f'[suitcases.archive]\ntype = "jsonl"\ndirectory = "{tmp_path / "out"}"\n'
        'file_template = "{sample}/{scan_id}"\n'  # runs without a sample cannot be named
    )
    assert main(["run", "-q", "--profile", str(profile), "count([det], num=3)"]) == 1
    err = capsys.readouterr().err
    assert "jsonl suitcase" in err and "{sample}" in err
    with open_catalog(uri) as cat:
        (run,) = cat.values()
        assert run.metadata["stop"]["exit_status"] == "fail"
        assert "{sample}" in run.metadata["stop"]["reason"]
    assert (
        main(["run", "-q", "--profile", str(profile), "count([det], num=3, md={'sample': 'Si'})"])
        == 0
    )


class TextReader(FlakyReader):
    """Readings that are text with a NUL character and a lone surrogate."""

    def describe(self) -> dict[str, Any]:
        return {self.name: {"source": "test", "dtype": "string", "shape": []}}

    def read(self) -> dict[str, Any]:
        self.reads += 1
        return {self.name: {"value": ["a\x00b", "\ud800", "ok"][self.reads - 1], "timestamp": 1.0}}


def test_text_readings_json_can_escape_are_stored_as_they_were(catalog_uri: str):
    with open_catalog(catalog_uri) as cat, cat.writer() as writer:
        with RunEngine(scan_id_file=None) as RE:
            RE.subscribe(writer, fatal=True)
            RE(count([TextReader("text")], num=3))
        writer.flush()
        (run,) = cat.values()
        assert run.metadata["stop"]["exit_status"] == "success"
        events = [d["data"]["text"] for n, d in run.documents() if n == "event"]
        assert events == ["a\x00b", "\ud800", "ok"]
