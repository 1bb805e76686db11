"""RunRouter: per-run callbacks, interleaved and nested runs, unlinked documents, failures."""

from __future__ import annotations

import itertools
import logging

import event_model
import pytest

import cielo.callbacks
import cielo.storage
from cielo.core import CallbackFailure, RunRouter, callback_name, per_run

Docs = list[tuple[str, dict]]


def _run(points: int = 3, *, resource: bool = False) -> Docs:
    """One run of real event-model documents: start, descriptor, [resource, datums], events."""
    run = event_model.compose_run(metadata={"plan_name": "count"})
    docs: Docs = [("start", dict(run.start_doc))]
    desc = run.compose_descriptor(
        name="primary", data_keys={"det": {"source": "sim", "dtype": "number", "shape": []}}
    )
    docs.append(("descriptor", dict(desc.descriptor_doc)))
    if resource:
        res = run.compose_resource(
            spec="AD_HDF5", root="/", resource_path="x.h5", resource_kwargs={}
        )
        docs.append(("resource", dict(res.resource_doc)))
        docs.append(("datum", dict(res.compose_datum(datum_kwargs={"point": 0}))))
    for i in range(points):
        docs.append(("event", dict(desc.compose_event(data={"det": i}, timestamps={"det": 0.0}))))
    docs.append(("stop", dict(run.compose_stop())))
    return docs


class Recorder:
    """A per-run callback that records what it sees and checks it stays in one run."""

    def __init__(self, start: dict | None = None) -> None:
        self.names: list[str] = []
        self.run: str | None = None
        self.descriptors: set[str] = set()

    def __call__(self, name: str, doc: dict) -> None:
        self.names.append(name)
        if name == "start":
            assert self.run is None, "a per-run callback saw two starts"
            self.run = doc["uid"]
        elif name == "descriptor":
            assert doc.get("run_start", self.run) == self.run
            self.descriptors.add(doc["uid"])
        elif name == "event":
            assert doc["descriptor"] in self.descriptors


def _interleave(*runs: Docs) -> Docs:
    """One document of each run in turn: starts first, the longest run stops last."""
    return [pair for row in itertools.zip_longest(*runs) for pair in row if pair is not None]


def _feed(router, docs: Docs) -> None:
    for name, doc in docs:
        router(name, doc)


def test_interleaved_runs_get_their_own_callbacks(validate):
    a, b = _run(2), _run(5, resource=True)
    made: list[Recorder] = []
    router = per_run(lambda: made.append(Recorder()) or made[-1])
    for name, doc in _interleave(a, b):
        validate(name, doc)
        router(name, doc)
    assert [r.names for r in made] == [[n for n, _ in a], [n for n, _ in b]]
    assert router.open_runs == () and router.failures == []
    assert router.last_run == [made[1]]  # the longer run stops last
    assert router._run_of == {}  # nothing of a finished run is kept


def test_nested_runs_and_factories_giving_several_or_no_callbacks():
    outer, inner = _run(2), _run(1)
    seen: dict[str, list[str]] = {}

    def factory(start):
        if start["uid"] == inner[0][1]["uid"]:
            return None  # skip this run
        return [lambda n, d: seen.setdefault("x", []).append(n), Recorder()]

    router = RunRouter([factory, Recorder])
    assert callback_name(router) == "RunRouter" and repr(router) == "RunRouter('RunRouter')"
    _feed(router, outer[:2])
    _feed(router, inner[:2])
    assert set(router.open_runs) == {outer[0][1]["uid"], inner[0][1]["uid"]}
    _feed(router, inner[2:] + outer[2:])
    assert seen["x"] == [n for n, _ in outer]
    outer_callbacks = router.last_run  # outer stopped last: its three callbacks
    assert len(outer_callbacks) == 3 and outer_callbacks[1].names == seen["x"]


def test_a_failing_callback_is_recorded_and_the_others_go_on(caplog):
    docs = _run(3)
    good = Recorder()

    def broken(name, doc):
        if name == "event":
            raise RuntimeError("bad point")

    router = RunRouter([lambda s: [broken, good]], name="router", max_failures=2)
    with caplog.at_level(logging.ERROR, logger="cielo.callbacks"):
        _feed(router, docs)
    assert good.names == [n for n, _ in docs]
    assert len(router.failures) == 2  # three failed events, bounded to the last two
    failure = router.failures[-1]
    assert isinstance(failure, CallbackFailure)
    assert failure.callback.endswith(".broken") and failure.document_name == "event"
    assert failure.document_uid == docs[-2][1]["uid"] and failure.run_uid == docs[0][1]["uid"]
    assert "bad point" in str(failure) and f"router: callback {failure.callback!r}" in caplog.text


def _router_with_broken(got: list[str], fails_on: str, **options) -> RunRouter:
    """A router whose runs get a callback failing on ``fails_on`` and one recording."""

    def broken(name, doc):
        if name == fails_on:
            raise RuntimeError(f"bad {name}")

    return RunRouter([lambda s: [broken, lambda n, d: got.append(n)]], **options)


def test_fatal_reraises_after_the_others_saw_the_document():
    docs, got = _run(1), []
    router = _router_with_broken(got, "stop", fatal=True)
    with pytest.raises(RuntimeError, match="bad stop"):
        _feed(router, docs)
    assert got == [n for n, _ in docs]
    assert router.open_runs == ()  # the run is forgotten even though its stop failed
    with pytest.raises(ZeroDivisionError):  # a broken factory is re-raised too
        RunRouter([lambda s: 1 / 0], fatal=True)(*docs[0])


def test_without_isolation_errors_go_straight_up():
    docs, got = _run(2), []
    router = _router_with_broken(got, "event", isolate=False)
    _feed(router, docs[:2])
    with pytest.raises(RuntimeError, match="bad event"):
        router(*docs[2])
    assert got == ["start", "descriptor"]  # the next callback did not see the event
    assert router.failures == []
    no_factory = RunRouter([lambda s: 1 / 0], isolate=False)
    with pytest.raises(ZeroDivisionError):
        no_factory(*docs[0])
    assert no_factory.open_runs == ()


def _unlink(docs: Docs) -> Docs:
    out = []
    for name, doc in docs:
        if name in ("descriptor", "resource"):
            doc = {k: v for k, v in doc.items() if k != "run_start"}
        out.append((name, doc))
    return out


def test_unlinked_all_sends_old_resources_to_every_open_run():
    a, b = _run(1, resource=True), _run(1, resource=True)
    recorders: list[Recorder] = []
    router = RunRouter([lambda s: recorders.append(Recorder()) or recorders[-1]])
    _feed(router, [a[0], b[0]])
    resource = {k: v for k, v in a[2][1].items() if k != "run_start"}
    router("resource", resource)
    router(*a[3])  # its datum follows the link made for the latest open run
    assert [r.names for r in recorders] == [["start", "resource"], ["start", "resource", "datum"]]
    router("descriptor", {**a[1][1], "run_start": "no-such-run"})  # ignored
    assert [r.names[-1] for r in recorders] == ["resource", "datum"]


def test_unlinked_latest_sends_them_to_the_latest_open_run():
    a, b = _run(2, resource=True), _unlink(_run(2, resource=True))
    seen: dict[int, list[str]] = {}

    def factory(start):
        key = len(seen)
        return lambda name, doc: seen.setdefault(key, []).append(name)

    router = RunRouter([factory], unlinked="latest")
    _feed(router, _interleave(a, b))
    assert seen == {0: [n for n, _ in a], 1: [n for n, _ in b]}
    late = _unlink(_run(1))
    _feed(router, [late[0], late[-1]])  # started and stopped: no latest open run now
    router(*late[1])
    assert seen[2] == ["start", "stop"]


def test_documents_of_unknown_runs_are_ignored_and_unknown_names_refused():
    docs = _run(1)
    router = RunRouter([Recorder])
    _feed(router, docs[1:])  # never saw the start
    assert router.open_runs == () and router.last_run == []
    with pytest.raises(ValueError, match=r"RunRouter: unknown document name 'bogus'"):
        router("bogus", {})
    with pytest.raises(ValueError, match="unlinked must be 'all' or 'latest', not 'some'"):
        RunRouter([Recorder], unlinked="some")  # type: ignore[arg-type]


def test_callbacks_and_storage_share_the_core_router():
    for name in ("CallbackFailure", "RunRouter", "callback_name", "per_run"):
        assert getattr(cielo.callbacks, name) is getattr(cielo.core, name)
    made: list[Recorder] = []
    router = cielo.storage.RunRouter(lambda s: made.append(Recorder()) or made[-1])
    assert isinstance(router, RunRouter)
    assert (router.isolate, router.unlinked) == (False, "latest")
    docs = _unlink(_run(2))
    _feed(router, docs)
    assert made[0].names == [n for n, _ in docs]
