"""Interop with the Bluesky ecosystem: cielo's archives in event-model consumers, and
documents made by bluesky's RunEngine with ophyd's simulated devices in cielo's catalog."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from event_model import DocumentRouter

from cielo import load_profile, open_catalog
from cielo.storage import ExternalDataError, dumps, iter_documents
from cielo.testing import make_run_engine

pytestmark = pytest.mark.interop


class Recorder(DocumentRouter):
    """An event-model consumer that only knows event pages (the router converts)."""

    def __init__(self, validate):
        super().__init__()
        self.validate = validate
        self.names: list[str] = []
        self.rows = 0

    def __call__(self, name, doc, validate=False):
        self.validate(name, doc)
        self.names.append(name)
        return super().__call__(name, doc, validate=validate)

    def event_page(self, doc):
        self.rows += len(doc["seq_num"])


def test_cielo_jsonl_replays_through_event_model(tmp_path, validate, monkeypatch):
    monkeypatch.setenv("CIELO_CATALOG", f"sqlite:///{tmp_path / 'c.sqlite'}")
    env = load_profile("sim")
    jsonl = env.suitcases["jsonl"](directory=tmp_path / "archive")
    with make_run_engine(plugin_manager=env.pm) as RE:
        RE.subscribe(jsonl)
        (uid,) = RE(env.plans["scan"]([env.devices["det"]], env.devices["motor"], -1, 1, 4))
        (uid2,) = RE(env.plans["count"]([env.devices["camera"]], num=2))
    for run_uid, expected_rows in ((uid, 4), (uid2, 2)):
        (path,) = jsonl.artifacts[run_uid]["archive"]
        recorder = Recorder(validate)
        for name, doc in iter_documents(path):
            recorder(name, doc, validate=True)
        assert recorder.names[0] == "start" and recorder.names[-1] == "stop"
        assert recorder.rows == expected_rows
    names = [n for n, _ in iter_documents(jsonl.artifacts[uid2]["archive"][0])]
    assert {"stream_resource", "stream_datum"} <= set(names)


@pytest.fixture
def bluesky_re():
    from bluesky import RunEngine

    return RunEngine({})


def _run_docs(docs, uid):
    """The documents of one run from a sequential stream, JSON-normalised."""
    first = next(i for i, (n, d) in enumerate(docs) if n == "start" and d["uid"] == uid)
    last = next(i for i, (n, d) in enumerate(docs) if n == "stop" and d["run_start"] == uid)
    return [(n, json.loads(dumps(d))) for n, d in docs[first : last + 1]]


def test_bluesky_documents_import_into_the_catalog(tmp_path, bluesky_re, validate):
    import bluesky.plans as bp
    from ophyd.sim import det, direct_img, motor

    cat = open_catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    docs: list[tuple[str, dict]] = []
    bluesky_re.subscribe(lambda name, doc: docs.append((name, doc)))
    with cat.writer() as writer:
        bluesky_re.subscribe(writer)
        (scan_uid,) = bluesky_re(bp.scan([det], motor, -1, 1, 5), sample="bluesky Si")
        (img_uid,) = bluesky_re(bp.count([direct_img], num=2))
    for name, doc in docs:
        validate(name, doc)
    assert len(cat) == 2
    run = cat[scan_uid]
    assert run.start["plan_name"] == "scan" and run.exit_status == "success"
    table = run["primary"].read()
    events = [
        d
        for n, d in docs
        if n == "event" and d["descriptor"] == run["primary"].descriptors[0]["uid"]
    ]
    np.testing.assert_allclose(table["motor"], [e["data"]["motor"] for e in events])
    np.testing.assert_allclose(table["det"], [e["data"]["det"] for e in events])
    assert [r.uid for r in cat.search("bluesky").runs()] == [scan_uid]
    assert list(run.documents()) == _run_docs(docs, scan_uid)
    assert list(cat[img_uid].documents()) == _run_docs(docs, img_uid)
    frames = np.stack(list(cat[img_uid]["primary"].read()["img"]))
    assert frames.shape == (2, 10, 10)


def test_bluesky_archive_imports_and_reads_back(tmp_path, bluesky_re, validate):
    """The same through a file: bluesky documents -> cielo's jsonl suitcase -> import."""
    import bluesky.plans as bp
    from ophyd.sim import det1, det2, motor1, motor2

    from cielo.plugins.suitcases import cielo_suitcases

    jsonl = cielo_suitcases()["jsonl"](directory=tmp_path)
    bluesky_re.subscribe(jsonl)
    (uid,) = bluesky_re(bp.grid_scan([det1, det2], motor1, -1, 1, 3, motor2, -1, 1, 2))
    cat = open_catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    assert cat.import_documents(jsonl.artifacts[uid]["archive"][0]) == [uid]
    table = cat[uid]["primary"].read()
    assert len(table) == 6 and {"motor1", "motor2", "det1", "det2"} <= set(table.columns)
    for name, doc in cat[uid].documents():
        validate(name, doc)


def test_files_with_an_unknown_spec_need_a_reader(tmp_path, bluesky_re):
    """ophyd's NPY_SEQ detector: no bundled reader (clear error), then one passed in."""
    import bluesky.plans as bp
    from ophyd.sim import SynSignalWithRegistry

    (tmp_path / "npy").mkdir()
    cam = SynSignalWithRegistry(
        lambda: np.ones((3, 3)) * 7, name="npcam", save_path=str(tmp_path / "npy")
    )
    cat = open_catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    with cat.writer() as writer:
        bluesky_re.subscribe(writer)
        (uid,) = bluesky_re(bp.count([cam], num=2))
    with pytest.raises(ExternalDataError, match="no reader for 'NPY_SEQ'.*cielo_readers"):
        cat[uid]["primary"].read()

    class NpySeq:
        def __init__(self, resource, root_map=None):
            self.template = str(Path(resource["root"]) / resource["resource_path"]) + "_{}.npy"

        def read_datum(self, index):
            return np.load(self.template.format(index))

    cat = open_catalog(cat.uri, readers={"NPY_SEQ": NpySeq})
    frames = np.stack(list(cat[uid]["primary"].read()["npcam"]))
    np.testing.assert_array_equal(frames, np.full((2, 3, 3), 7.0))
