"""JSONL and msgpack archives: lossless, read back with json/msgpack, replayable."""

from __future__ import annotations

import json

import msgpack
import numpy as np
import pytest

from cielo.storage import SuitcaseError, iter_documents, replay


def _normalise(docs):
    return [[name, json.loads(json.dumps(doc))] for name, doc in docs]


def feed(callback, *runs):
    for docs in runs:
        for name, doc in docs:
            callback(name, doc)
    return callback


def test_jsonl_is_lossless_for_every_document_kind(suitcases, make_run, tmp_path, validate):
    runs = [
        make_run(3, image_dir=tmp_path / "h5"),  # stream_resource / stream_datum
        make_run(3, image_dir=tmp_path / "tif", image_kind="tiff", scan_id=2),  # resource / datum
        make_run(3, pages=True, scan_id=3),  # event_page
    ]
    cb = feed(suitcases["jsonl"](directory=tmp_path / "out"), *runs)
    kinds = set()
    for docs in runs:
        files = cb.artifacts[docs[0][1]["uid"]]["archive"]
        assert len(files) == 1 and files[0].suffix == ".jsonl"
        with open(files[0]) as f:
            back = [json.loads(line) for line in f]
        assert back == _normalise(docs)
        for name, doc in back:
            validate(name, doc)
            kinds.add(name)
    assert kinds >= {"start", "descriptor", "event", "event_page", "resource", "datum",
                     "stream_resource", "stream_datum", "stop"}  # fmt: skip


def test_msgpack_is_lossless(suitcases, make_run, tmp_path, validate):
    docs = make_run(4, image_dir=tmp_path / "h5")
    event = next(d for n, d in docs if n == "event" and "det" in d["data"])
    cb = feed(suitcases["msgpack"](directory=tmp_path), docs[:1])
    event["data"]["det"] = np.float32(2.5)  # numpy values are stored as numbers
    feed(cb, docs[1:])
    event["data"]["det"] = 2.5
    path = cb.artifacts[docs[0][1]["uid"]]["archive"][0]
    with open(path, "rb") as f:
        back = [list(item) for item in msgpack.Unpacker(f, raw=False)]
    assert back == _normalise(docs)
    for name, doc in back:
        validate(name, doc)
    assert [list(p) for p in iter_documents(path)] == back


def test_archives_replay_into_any_callback(suitcases, make_run, tmp_path):
    docs = make_run(5)
    for kind in ("jsonl", "msgpack"):
        cb = feed(suitcases[kind](directory=tmp_path / kind), docs)
        seen: list = []
        n = replay(
            cb.artifacts[docs[0][1]["uid"]]["archive"][0],
            lambda name, doc, seen=seen: seen.append([name, doc]),
        )
        assert n == len(docs) and seen == _normalise(docs)


def test_file_names_follow_the_template_and_never_overwrite(suitcases, make_run, tmp_path):
    docs = make_run(2, scan_id=42, md={"sample": "Si 111/a"})
    factory = suitcases["jsonl"]
    first = feed(factory(directory=tmp_path, file_template="{sample}-{scan_id:05d}"), docs)
    second = feed(factory(directory=tmp_path, file_template="{sample}-{scan_id:05d}"), docs)
    uid = docs[0][1]["uid"]
    assert first.artifacts[uid]["archive"][0].name == "Si_111_a-00042.jsonl"
    assert second.artifacts[uid]["archive"][0].name == "Si_111_a-00042-1.jsonl"
    assert first.artifacts[uid]["archive"][0].read_text()  # the first file is intact
    default = feed(factory(directory=tmp_path), docs)
    assert default.artifacts[uid]["archive"][0].name == f"42-scan-{uid[:8]}.jsonl"
    sub = feed(factory(directory=tmp_path, file_template="{plan_name}/{scan_id}"), docs)
    assert sub.artifacts[uid]["archive"][0] == tmp_path / "scan" / "42.jsonl"


def test_bad_template_and_parameters_are_reported(suitcases, make_run, tmp_path):
    cb = suitcases["jsonl"](directory=tmp_path, file_template="{proposal}-{scan_id}")
    with pytest.raises(SuitcaseError, match=r"\{proposal\} is not in the run-start document"):
        feed(cb, make_run(1))
    with pytest.raises(
        SuitcaseError, match="unknown parameter.*dir\\b.*accepted: flush_every, directory"
    ):
        suitcases["jsonl"](dir=tmp_path)
    for bad in ("{scan_id", "{}-{plan_name}", "{0}"):  # refused when the factory is called
        with pytest.raises(SuitcaseError, match=r"jsonl suitcase: bad file template"):
            suitcases["jsonl"](directory=tmp_path, file_template=bad)
    assert suitcases["csv"](directory=tmp_path, file_template="{{literal}}-{scan_id}")
