"""RunRouter: per-run callback instances, interleaved and nested runs, isolated failures."""

from __future__ import annotations

import logging

from cielo.callbacks import CallbackBase, RunRouter, per_run, replay


class Recorder(CallbackBase):
    instances: list[Recorder] = []

    def __init__(self):
        self.names = []
        self.run = None
        Recorder.instances.append(self)

    def __call__(self, name, doc):
        self.names.append(name)
        return super().__call__(name, doc)

    def start(self, doc):
        assert self.run is None, "a per-run callback saw two starts"
        self.run = doc["uid"]

    def event(self, doc):
        assert doc["descriptor"] in self.descriptors

    def descriptor(self, doc):
        assert doc["run_start"] == self.run
        self.descriptors = {doc["uid"]}


def interleave(*runs):
    """Interleave several document streams: starts first, stops last (nested runs)."""
    out, iters = [], [iter(r) for r in runs]
    while iters:
        for it in list(iters):
            item = next(it, None)
            if item is None:
                iters.remove(it)
            else:
                out.append(item)
    return out


def test_interleaved_runs_get_their_own_instances(docs):
    Recorder.instances = []
    a, b = docs.step_run(), docs.step_run(range(5), pages=True)
    router = per_run(Recorder)
    replay(interleave(a, b), router)
    assert len(Recorder.instances) == 2
    first, second = Recorder.instances
    assert first.names == [n for n, _ in a]
    assert second.names == [n for n, _ in b]
    assert router.open_runs == ()
    assert router.failures == []
    assert router.last_run == [first]  # the longer run stops last


def test_nested_run_inside_another(docs):
    Recorder.instances = []
    outer, inner = docs.step_run(range(3)), docs.step_run(range(2))
    nested = outer[:3] + inner + outer[3:]
    replay(nested, per_run(Recorder))
    assert [r.names.count("event") for r in Recorder.instances] == [3, 2]


def test_factory_may_skip_runs_and_return_several(docs):
    seen = []

    def factory(start):
        if start["plan_name"] == "count":
            return None
        return [lambda n, d: seen.append(("a", n)), lambda n, d: seen.append(("b", n))]

    replay(
        docs.step_run(motor="", plan_name="count") + docs.step_run(range(2)), RunRouter([factory])
    )
    assert seen.count(("a", "event")) == 2 and seen.count(("b", "event")) == 2
    assert len(seen) == 2 * 5


def test_a_failing_callback_is_reported_and_others_continue(docs, caplog):
    got = []

    def broken(name, doc):
        if name == "event":
            raise ZeroDivisionError("bad point")

    def good(name, doc):
        got.append(name)

    router = RunRouter([lambda start: [broken, good]], name="router")
    run = docs.step_run(range(4))
    with caplog.at_level(logging.ERROR, logger="cielo.callbacks"):
        replay(run, router)
    assert got == [n for n, _ in run]
    assert len(router.failures) == 4
    failure = router.failures[0]
    assert failure.callback.endswith("broken")
    assert failure.document_name == "event"
    assert failure.document_uid == run[2][1]["uid"]
    assert "bad point" in str(failure) and "broken" in caplog.text


def test_fatal_router_reraises_after_others_saw_the_document(docs):
    import pytest

    got = []

    def broken(name, doc):
        raise RuntimeError("boom")

    router = RunRouter([lambda s: [broken, lambda n, d: got.append(n)]], fatal=True)
    with pytest.raises(RuntimeError, match="boom"):
        replay(docs.step_run(range(1)), router)
    assert got == ["start"]


def test_broken_factory_skips_only_itself(docs):
    import pytest

    got = []

    def broken_factory(start):
        raise KeyError("no such field")

    router = RunRouter([broken_factory, lambda s: lambda n, d: got.append(n)])
    run = docs.step_run(range(2))
    replay(run, router)
    assert got == [n for n, _ in run]
    assert router.failures[0].callback.endswith("broken_factory")
    with pytest.raises(KeyError):
        replay(run, RunRouter([broken_factory], fatal=True))


def test_fatal_stop_still_forgets_the_run(docs):
    import pytest

    def broken(name, doc):
        if name == "stop":
            raise RuntimeError("stop failed")

    router = RunRouter([lambda s: broken], fatal=True)
    with pytest.raises(RuntimeError):
        replay(docs.step_run(range(1)), router)
    assert router.open_runs == ()
