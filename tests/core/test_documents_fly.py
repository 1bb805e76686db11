"""Fly scanning: kickoff/complete/collect into event pages and stream documents."""

from __future__ import annotations

import time
import uuid

import pytest

from cielo import Msg
from cielo.core import IllegalMessageSequence, finished_status


def fly(flyer, *, declare=True, name="primary"):
    yield Msg("open_run")
    if declare:
        yield Msg("declare_stream", None, flyer, name=name, collect=True)
    yield Msg("kickoff", flyer, group="k")
    yield Msg("wait", None, group="k")
    yield Msg("complete", flyer, group="c")
    yield Msg("wait", None, group="c")
    payload = yield Msg("collect", flyer, name=name if declare else None)
    yield Msg("close_run")
    return payload


def test_sim_flyer_event_page(RE, docs, validate):
    from cielo.devices.sim import SimFlyer

    flyer = SimFlyer(name="flyer", num=7, period=0.005)
    result = RE(fly(flyer))
    for n, d in docs:
        validate(n, d)
    assert [n for n, _ in docs] == ["start", "descriptor", "event_page", "stop"]
    page = docs[2][1]
    assert page["seq_num"] == list(range(1, 8))
    assert len(page["data"]["flyer_x"]) == 7
    assert docs[3][1]["num_events"] == {"primary": 7}
    assert len(result.plan_result) == 7


class NestedFlyer:
    """An old-style flyer: describe_collect gives {stream: data_keys}; collect yields events."""

    name = "oldflyer"
    parent = None

    def kickoff(self):
        return finished_status(self)

    def complete(self):
        return finished_status(self)

    def describe_collect(self):
        return {
            "fast": {"x": {"source": "t", "dtype": "number", "shape": []}},
            "slow": {"y": {"source": "t", "dtype": "number", "shape": []}},
        }

    def collect(self):
        for i in range(3):
            yield {"time": time.time(), "data": {"x": i}, "timestamps": {"x": time.time()}}
        yield {"time": time.time(), "data": {"y": 10}, "timestamps": {"y": time.time()}}


def test_nested_describe_collect_makes_one_stream_each(RE, docs, validate):
    RE(fly(NestedFlyer(), declare=False))
    for n, d in docs:
        validate(n, d)
    descs = {d["name"]: d for n, d in docs if n == "descriptor"}
    assert set(descs) == {"fast", "slow"}
    pages = [d for n, d in docs if n == "event_page"]
    assert sorted(len(p["seq_num"]) for p in pages) == [1, 3]
    assert docs[-1][1]["num_events"] == {"fast": 3, "slow": 1}


class StreamFlyer:
    """An ophyd-async style detector in a fly scan: only stream_resource/stream_datum."""

    def __init__(self, name):
        self.name, self.parent = name, None
        self.sr = str(uuid.uuid4())
        self.index = 0
        self.emitted = 0

    def kickoff(self):
        self.index = 5  # frames written while flying
        return finished_status(self)

    def complete(self):
        return finished_status(self)

    def describe_collect(self):
        return {
            self.name: {"source": "t", "dtype": "array", "shape": [1, 2, 2], "external": "STREAM:"}
        }

    def get_index(self):
        return self.index

    def collect_asset_docs(self, index=None):
        stop = self.index if index is None else index
        if self.emitted == 0:
            yield (
                "stream_resource",
                {
                    "uid": self.sr,
                    "data_key": self.name,
                    "mimetype": "application/x-hdf5",
                    "uri": "file://localhost/tmp/f.h5",
                    "parameters": {},
                },
            )
        yield (
            "stream_datum",
            {
                "uid": f"{self.sr}/0",
                "stream_resource": self.sr,
                "descriptor": "",
                "indices": {"start": self.emitted, "stop": stop},
                "seq_nums": {"start": 0, "stop": 0},
            },
        )
        self.emitted = stop


def test_stream_assets_from_a_flyer(RE, docs, validate):
    RE(fly(StreamFlyer("cam")))
    for n, d in docs:
        validate(n, d)
    assert [n for n, _ in docs] == [
        "start",
        "descriptor",
        "stream_resource",
        "stream_datum",
        "stop",
    ]
    assert docs[3][1]["seq_nums"] == {"start": 1, "stop": 6}
    assert docs[-1][1]["num_events"] == {"primary": 5}


def test_collect_several_flyers_uses_the_lowest_index(RE, docs, validate):
    a, b = StreamFlyer("a"), StreamFlyer("b")

    def plan():
        yield Msg("open_run")
        yield Msg("declare_stream", None, a, b, name="primary", collect=True)
        yield Msg("kickoff", a)
        yield Msg("kickoff", b)
        b.index = 3
        yield Msg("collect", a, b, name="primary")
        yield Msg("close_run")

    RE(plan())
    for n, d in docs:
        validate(n, d)
    datums = [d for n, d in docs if n == "stream_datum"]
    assert [d["indices"] for d in datums] == [{"start": 0, "stop": 3}] * 2
    assert docs[-1][1]["num_events"] == {"primary": 3}


def test_collect_into_undeclared_stream_fails_clearly(RE):
    from cielo.devices.sim import SimFlyer

    def plan():
        yield Msg("open_run")
        yield Msg("collect", SimFlyer(name="f"), name="nowhere")

    with pytest.raises(IllegalMessageSequence, match="declare_stream"):
        RE(plan())
