"""cielo.testing's helpers and the fixtures of its pytest plugin, used as a plugin author would."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from cielo import Msg
from cielo.testing import DocumentCollector, make_run_engine, validate_documents


def simple_plan():
    class Det:
        name, parent = "det", None

        def read(self):
            return {"det": {"value": 1.0, "timestamp": 0.0}}

        def describe(self):
            return {"det": {"source": "t", "dtype": "number", "shape": []}}

    det = Det()
    yield Msg("open_run")
    for _ in range(2):
        yield Msg("create", None, name="primary")
        yield Msg("read", det)
        yield Msg("save")
    yield Msg("close_run")


def test_collector_and_validation():
    col = DocumentCollector()
    with make_run_engine() as RE:
        RE.subscribe(col)
        RE(simple_plan())
    assert col.names == ["start", "descriptor", "event", "event", "stop"]
    assert col.start["uid"] == col.stop["run_start"]
    assert [e["seq_num"] for e in col.events("primary")] == [1, 2]
    assert list(col.by_run()) == [col.start["uid"]]
    assert validate_documents(col.docs) == 5
    col.validate()
    bad = [("stop", {"uid": "x"})]
    with pytest.raises(Exception, match="run_start|required") as info:
        validate_documents(bad)
    assert "document #0" in "\n".join(info.value.__notes__)
    with pytest.raises(AssertionError, match="exactly one 'start'"):
        _ = DocumentCollector().start


def event_page_plan():
    """Two events in ``primary`` (one as an event page), one in ``baseline``."""
    from cielo.devices import SoftSignal

    x = SoftSignal(name="x", value=1.0)
    yield Msg("open_run")
    yield Msg("create", None, name="baseline")
    yield Msg("read", x)
    yield Msg("save")
    for value in (2.0, 3.0):
        yield Msg("set", x, value)
        yield Msg("create", None, name="primary")
        yield Msg("read", x)
        yield Msg("save")
    yield Msg("close_run")


def test_column_indexing_and_clear(RE):
    col = DocumentCollector()
    RE.subscribe(col)
    RE(event_page_plan())
    assert col.column("x") == [2.0, 3.0]
    assert col.column("x", "baseline") == [1.0]
    assert col.column("x", "no such stream") == []
    assert col[0] == ("start", col.start)
    assert col[-1] == ("stop", col.stop)
    assert [name for name, _ in col[1:3]] == col.names[1:3]
    # event pages are unpacked like events
    page = {
        "uid": ["p1", "p2"],
        "time": [0.0, 0.0],
        "seq_num": [3, 4],
        "descriptor": col.of("descriptor")[1]["uid"],
        "data": {"x": [4.0, 5.0]},
        "timestamps": {"x": [0.0, 0.0]},
        "filled": {},
    }
    col("event_page", page)
    assert col.column("x") == [2.0, 3.0, 4.0, 5.0]
    col.clear()
    assert len(col) == 0 and col.column("x") == []


def test_validating_collector_keeps_only_valid_documents():
    col = DocumentCollector(validate=True)
    with make_run_engine() as RE:
        RE.subscribe(col)
        RE(simple_plan())
        assert RE.handle_sigint is False
    assert col.names == ["start", "descriptor", "event", "event", "stop"]
    with pytest.raises(Exception, match="run_start|required") as info:
        col("stop", {"uid": "x"})
    assert "keeps only valid documents" in "\n".join(info.value.__notes__)
    assert len(col) == 5


def test_fixtures_from_the_pytest_plugin(tmp_path) -> None:
    (tmp_path / "test_author.py").write_text(
        textwrap.dedent(
            """
            from cielo import Msg

            def test_uses_fixtures(RE, cielo_docs, plugin_manager):
                RE([Msg("open_run"), Msg("close_run")])
                assert cielo_docs.names == ["start", "stop"]
                cielo_docs.validate()
                assert "sim" in dict(plugin_manager.list_name_plugin())

            def test_sim(sim_env, sim_RE):
                docs = []
                sim_RE.subscribe(lambda n, d: docs.append((n, d)))
                det = sim_env.devices["det"]
                sim_RE([Msg("open_run"), Msg("trigger", det), Msg("create", None, name="primary"),
                        Msg("read", det), Msg("save"), Msg("close_run")])
                assert [n for n, _ in docs] == ["start", "descriptor", "event", "stop"]
                assert "sim" in docs[0][1]["versions"]
            """
        )
    )
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 passed" in out.stdout


def test_pytest_plugin_imports_cheaply():
    heavy = ["event_model", "bluesky", "ophyd", "h5py", "matplotlib", "jsonschema"]
    code = (
        "import sys, cielo.testing._pytest_plugin; "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
