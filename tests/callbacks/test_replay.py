"""replay() feeds stored documents to callbacks, as a live RunEngine would."""

from __future__ import annotations

import json

import pytest

from cielo.callbacks import LiveTable, replay


def test_replay_from_jsonl_file_matches_live(docs, tmp_path):
    import io

    run = docs.step_run(range(3))
    path = tmp_path / "run.jsonl"
    path.write_text("".join(json.dumps([n, d]) + "\n" for n, d in run))
    live, stored = io.StringIO(), io.StringIO()
    replay(run, LiveTable(out=live, width=100))
    with path.open() as f:
        count = replay((json.loads(line) for line in f), LiveTable(out=stored, width=100))
    assert count == len(run)
    assert stored.getvalue() == live.getvalue()


def test_replay_accepts_a_run_object(docs):
    run = docs.step_run(range(2))

    class StoredRun:
        def documents(self):
            return iter(run)

    seen = []
    assert replay(StoredRun(), lambda n, d: seen.append(n)) == len(run)
    assert seen == [n for n, _ in run]


def test_replay_rejects_bad_input():
    with pytest.raises(TypeError, match="needs at least one callback"):
        replay([])
    with pytest.raises(TypeError, match=r"\(name, doc\) pairs; item 0"):
        replay([42], print)
    with pytest.raises(TypeError, match="iterable"):
        replay(3.5, print)
