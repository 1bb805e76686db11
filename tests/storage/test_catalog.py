"""The catalog on SQLite and PostgreSQL: writing, looking runs up, reading streams."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cielo.storage import (
    CatalogError,
    ExternalDataError,
    RunNotFoundError,
    open_catalog,
)


def _store(uri, runs, **options):
    cat = open_catalog(uri)
    with cat.writer(**options) as writer:
        for docs in runs:
            for name, doc in docs:
                writer(name, doc)
    return cat


def _normalise(docs):
    return [(name, json.loads(json.dumps(doc))) for name, doc in docs]


def test_synthetic_runs_are_schema_valid(make_run, validate, tmp_path):
    for options in (
        {},
        {"pages": True},
        {"image_dir": tmp_path},
        {"image_dir": tmp_path, "image_kind": "tiff"},
    ):
        for name, doc in make_run(3, **options):
            validate(name, doc)


def test_documents_come_back_in_order(catalog_uri, make_run, validate):
    docs = make_run(7)
    cat = _store(catalog_uri, [docs], batch_size=3)
    run = cat[docs[0][1]["uid"]]
    out = list(run.documents())
    for name, doc in out:
        validate(name, doc)
    assert out == _normalise(docs)
    assert run.start == docs[0][1] and run.stop == docs[-1][1]
    assert [d["name"] for d in run.descriptors] == ["baseline", "primary"]


def test_event_pages_are_kept_as_pages(catalog_uri, make_run, validate):
    docs = make_run(4, pages=True)
    cat = _store(catalog_uri, [docs])
    out = list(cat[-1].documents())
    assert [n for n, _ in out] == [n for n, _ in docs]
    assert out == _normalise(docs)
    for name, doc in out:
        validate(name, doc)


def test_lookup_by_uid_partial_uid_scan_id_and_recency(catalog_uri, make_run):
    runs = [make_run(2, scan_id=s, t0=1000.0 + s) for s in (1, 2, 3)]
    runs.append(make_run(2, scan_id=2, t0=2000.0))  # scan_id reused: newest wins
    cat = _store(catalog_uri, runs)
    uids = [r[0][1]["uid"] for r in runs]
    assert len(cat) == 4
    assert cat[uids[0]].uid == uids[0]
    assert cat[uids[1][:8]].uid == uids[1]
    assert cat[2].uid == uids[3]
    assert cat[-1].uid == uids[3] and cat[-4].uid == uids[0]
    assert [r.uid for r in cat[1:3]] == uids[1:3]
    assert list(cat) == uids
    with pytest.raises(RunNotFoundError, match="scan_id 99"):
        cat[99]
    with pytest.raises(RunNotFoundError, match="no run with uid 'zzzzzz'"):
        cat["zzzzzz"]
    with pytest.raises(RunNotFoundError, match="fewer than 5 runs"):
        cat[-5]


def _with_uid(docs, uid):
    """The run ``docs`` with its start document's uid replaced by ``uid``."""
    old = docs[0][1]["uid"]
    swap = {"uid": uid, "run_start": uid}
    return [
        (name, {k: swap[k] if k in swap and v == old else v for k, v in doc.items()})
        for name, doc in docs
    ]


def test_lookup_of_typed_text_tells_scan_ids_from_uids_made_of_digits(catalog_uri, make_run):
    # A uid's first 8 characters are all digits once in 43 runs: typed (the CLI, the
    # server's /api/runs/{uid}), they are a scan id only if some run has that scan id.
    digits = _with_uid(make_run(2, scan_id=7, t0=1000.0), "12345678-90ab-4cde-8f01-23456789abcd")
    cat = _store(catalog_uri, [digits, make_run(2, scan_id=12345, t0=1001.0)])
    assert cat.lookup("12345678").uid == digits[0][1]["uid"]
    assert cat.lookup(" 7 ").uid == digits[0][1]["uid"]  # its scan id
    assert cat.lookup("12345").start["scan_id"] == 12345  # a scan id first
    assert cat.lookup("-1").start["scan_id"] == 12345  # the newest
    assert cat.lookup(digits[0][1]["uid"][:10]).uid == digits[0][1]["uid"]
    with pytest.raises(RunNotFoundError, match=r"scan_id 990 .*; no run with uid '990'"):
        cat.lookup("990")


def test_read_primary_stream_as_table(catalog_uri, make_run):
    docs = make_run(6)
    cat = _store(catalog_uri, [docs])
    events = [d for n, d in docs if n == "event" and "det" in d["data"]]
    table = cat[-1]["primary"].read()
    assert {"motor", "motor_setpoint", "det", "time"} <= set(table.columns)
    assert list(table.index) == [e["seq_num"] for e in events]
    np.testing.assert_allclose(table["det"], [e["data"]["det"] for e in events])
    np.testing.assert_allclose(table["time"], [e["time"] for e in events])
    only = cat[-1]["primary"].read(["det"])
    assert list(only.columns) == ["time", "det"]
    part = cat[-1]["primary"].read(first=2, last=4)
    assert list(part.index) == [2, 3, 4]
    baseline = cat[-1]["baseline"].read()
    assert list(baseline["temperature"]) == [295.0, 296.5]
    with pytest.raises(KeyError, match="no data key"):
        cat[-1]["primary"].read(["nope"])
    with pytest.raises(KeyError, match="no stream 'dark'"):
        cat[-1]["dark"]


def test_read_as_xarray_and_in_chunks(catalog_uri, make_run):
    cat = _store(catalog_uri, [make_run(25)], batch_size=4)
    ds = cat[-1]["primary"].to_xarray()
    assert ds["det"].dims == ("time",) and ds.sizes["time"] == 25
    assert ds["motor"].attrs["units"] == "mm"
    chunks = list(cat[-1]["primary"].iter_tables(chunk=10))
    assert [len(c) for c in chunks] == [10, 10, 5]


def test_external_hdf5_frames_are_arrays(catalog_uri, make_run, tmp_path):
    docs = make_run(4, image_dir=tmp_path / "data")
    cat = _store(catalog_uri, [docs])
    table = cat[-1]["primary"].read()
    frames = np.stack(list(table["cam"]))
    assert frames.shape == (4, 4, 5)
    np.testing.assert_array_equal(frames, np.arange(80, dtype=float).reshape(4, 4, 5))
    ds = cat[-1]["primary"].to_xarray(["cam"])
    assert ds["cam"].shape == (4, 4, 5)


def test_external_tiff_datum_frames_are_arrays(catalog_uri, make_run, tmp_path):
    docs = make_run(3, image_dir=tmp_path / "tiffs", image_kind="tiff")
    cat = _store(catalog_uri, [docs])
    table = cat[-1]["primary"].read()
    np.testing.assert_array_equal(
        table["cam"].iloc[2], np.arange(40, 60, dtype=float).reshape(4, 5)
    )
    raw = cat[-1]["primary"].read(["cam"], fill=False)
    assert raw["cam"].iloc[0].endswith("/0")


def test_missing_external_file_names_the_resource(catalog_uri, make_run, tmp_path):
    docs = make_run(2, image_dir=tmp_path / "gone")
    resource = next(d for n, d in docs if n == "stream_resource")
    cat = _store(catalog_uri, [docs])
    for path in (tmp_path / "gone").iterdir():
        path.unlink()
    with pytest.raises(ExternalDataError, match=resource["uid"]) as info:
        cat[-1]["primary"].read()
    assert "does not exist" in str(info.value) and "root_map" in str(info.value)
    # the other columns are still readable
    assert len(cat[-1]["primary"].read(["det"])) == 2


def test_root_map_finds_moved_files(catalog_uri, make_run, tmp_path):
    docs = make_run(2, image_dir=tmp_path / "old")
    _store(catalog_uri, [docs]).close()
    (tmp_path / "old").rename(tmp_path / "new")
    cat = open_catalog(catalog_uri, root_map={str(tmp_path / "old"): str(tmp_path / "new")})
    assert np.stack(list(cat[-1]["primary"].read()["cam"])).shape == (2, 4, 5)


def test_replay_feeds_callbacks_like_live(catalog_uri, make_run):
    docs = make_run(3)
    cat = _store(catalog_uri, [docs])
    seen = []
    n = cat[-1].replay(lambda name, doc: seen.append((name, doc)))
    assert n == len(docs) and seen == _normalise(docs)


def test_duplicate_run_is_refused_or_skipped(catalog_uri, make_run):
    docs = make_run(2)
    cat = _store(catalog_uri, [docs])
    with pytest.raises(CatalogError, match="already in catalog"):
        _store(catalog_uri, [docs])
    assert cat.import_documents(docs) == []
    assert len(cat) == 1


def test_interleaved_runs_are_kept_apart(catalog_uri, make_run):
    a, b = make_run(5, scan_id=1), make_run(5, scan_id=2)
    mixed = [doc for pair in zip(a, b, strict=True) for doc in pair]
    cat = _store(catalog_uri, [mixed], batch_size=2)
    assert list(cat[1].documents()) == _normalise(a)
    assert list(cat[2].documents()) == _normalise(b)


def test_numpy_values_are_stored(catalog_uri, make_run):
    docs = make_run(2)
    for name, doc in docs:
        if name == "event" and "det" in doc["data"]:
            doc["data"]["det"] = np.float32(1.5)
    cat = _store(catalog_uri, [docs])
    assert list(cat[-1]["primary"].read()["det"]) == [1.5, 1.5]


def test_catalog_uri_errors_are_clear(tmp_path):
    with pytest.raises(CatalogError, match="unknown catalog URI scheme 'mongodb'"):
        open_catalog("mongodb://localhost/x")
    with pytest.raises(CatalogError, match="three slashes"):
        open_catalog("sqlite://relative.db")


def test_default_uri_comes_from_environment(tmp_path, monkeypatch, make_run):
    monkeypatch.setenv("CIELO_CATALOG", f"sqlite:///{tmp_path / 'env.sqlite'}")
    cat = open_catalog()
    assert cat.uri.endswith("env.sqlite")
    monkeypatch.delenv("CIELO_CATALOG")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    cat = open_catalog()
    assert cat.uri == f"sqlite:///{tmp_path / 'xdg' / 'cielo' / 'catalog.sqlite'}"
    cat = open_catalog("sqlite:///${XDG_DATA_HOME:-/nowhere}/c2.sqlite")
    assert (tmp_path / "xdg" / "c2.sqlite").exists()


def test_ambiguous_partial_uid_and_delete(catalog_uri, make_run):
    runs = [make_run(1, scan_id=s) for s in (1, 2)]
    for i, docs in enumerate(runs):  # two uids sharing their first characters
        old = docs[0][1]["uid"]
        new = f"abcdef{i}" + old[7:]
        for _, doc in docs:
            for key in ("uid", "run_start"):
                if doc.get(key) == old:
                    doc[key] = new
    cat = _store(catalog_uri, runs)
    with pytest.raises(RunNotFoundError, match="matches several runs.*give more characters"):
        cat["abcdef"]
    assert cat["abcdef1"].start["scan_id"] == 2
    cat.delete(cat["abcdef0"].uid)
    assert len(cat) == 1 and cat["abcdef"].start["scan_id"] == 2
    assert len(cat.search("scan")) == 1  # gone from the full-text index too


def test_stream_without_events_reads_as_empty_table(catalog_uri, make_run):
    docs = [(n, d) for n, d in make_run(3) if not (n == "event" and "det" in d["data"])]
    cat = _store(catalog_uri, [docs])
    table = cat[-1]["primary"].read()
    assert len(table) == 0 and {"det", "motor"} <= set(table.columns)
    assert cat[-1]["primary"].to_xarray().sizes["time"] == 0
    assert list(cat[-1]["primary"].iter_tables()) == []
