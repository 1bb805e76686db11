"""Every document kind the engine composes validates with event-model's schemas."""

from __future__ import annotations

import itertools
import time
import uuid

import pytest

from cielo import Msg, RunEngine
from cielo.core import IllegalMessageSequence, Status, finished_status


class Det:
    def __init__(self, name: str, value: float = 1.0) -> None:
        self.name, self.parent, self.value = name, None, value

    def read(self) -> dict:
        return {self.name: {"value": self.value, "timestamp": time.time()}}

    def describe(self) -> dict:
        return {self.name: {"source": "test", "dtype": "number", "shape": []}}

    def read_configuration(self) -> dict:
        return {f"{self.name}_gain": {"value": 2, "timestamp": 1.0}}

    def describe_configuration(self) -> dict:
        return {f"{self.name}_gain": {"source": "test", "dtype": "integer", "shape": []}}

    @property
    def hints(self) -> dict:
        return {"fields": [self.name]}

    def trigger(self) -> Status:
        return finished_status(self)


class FileDet(Det):
    """Writes each frame to a 'file': one resource, one datum per trigger (FILESTORE:)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.resource: dict | None = None
        self.pending: list = []
        self.counter = itertools.count()

    def describe(self) -> dict:
        return {
            f"{self.name}_image": {
                "source": "test",
                "dtype": "array",
                "shape": [4, 4],
                "external": "FILESTORE:",
            }
        }

    def trigger(self) -> Status:
        docs = []
        if self.resource is None:
            self.resource = {
                "uid": str(uuid.uuid4()),
                "spec": "NPY_SEQ",
                "root": "/tmp",
                "resource_path": "frames.npy",
                "resource_kwargs": {},
                "path_semantics": "posix",
            }
            docs.append(("resource", self.resource))
        datum_id = f"{self.resource['uid']}/{next(self.counter)}"
        docs.append(
            ("datum", {"resource": self.resource["uid"], "datum_id": datum_id, "datum_kwargs": {}})
        )
        self.pending = docs
        self.datum_id = datum_id
        return finished_status(self)

    def read(self) -> dict:
        return {f"{self.name}_image": {"value": self.datum_id, "timestamp": time.time()}}

    def collect_asset_docs(self):
        docs, self.pending = self.pending, []
        yield from docs


class StreamDet(Det):
    """Writes frames to HDF5 the ophyd-async way: stream_resource once, stream_datum per frame."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.sr_uid = str(uuid.uuid4())
        self.index = 0
        self.emitted = 0
        self.send_resource = True

    def describe(self) -> dict:
        return {
            self.name: {
                "source": "test",
                "dtype": "array",
                "shape": [1, 4, 4],
                "external": "STREAM:",
            },
            f"{self.name}_sum": {"source": "test", "dtype": "number", "shape": []},
        }

    def read(self) -> dict:
        return {f"{self.name}_sum": {"value": float(self.index), "timestamp": time.time()}}

    def trigger(self) -> Status:
        self.index += 1
        return finished_status(self)

    def get_index(self) -> int:
        return self.index

    def collect_asset_docs(self, index=None):
        stop = self.index if index is None else index
        if self.emitted == 0 and self.send_resource:
            yield (
                "stream_resource",
                {
                    "uid": self.sr_uid,
                    "data_key": self.name,
                    "mimetype": "application/x-hdf5",
                    "uri": "file://localhost/tmp/x.h5",
                    "parameters": {"dataset": "/entry/data"},
                },
            )
        if stop > self.emitted:
            yield (
                "stream_datum",
                {
                    "uid": f"{self.sr_uid}/{self.emitted}",
                    "stream_resource": self.sr_uid,
                    "descriptor": "",
                    "indices": {"start": self.emitted, "stop": stop},
                    "seq_nums": {"start": 0, "stop": 0},
                },
            )
            self.emitted = stop


def names(docs):
    return [n for n, _ in docs]


def step(*dets, stream="primary"):
    for d in dets:
        yield Msg("trigger", d, group="t")
    yield Msg("wait", None, group="t")
    yield Msg("create", None, name=stream)
    for d in dets:
        yield Msg("read", d)
    yield Msg("save")


def test_descriptor_fields(RE, docs, validate):
    a, b = Det("a"), Det("b")

    def plan():
        yield Msg("open_run")
        yield from step(a, b)
        yield from step(a, stream="baseline")
        yield from step(b, a)  # same objects, other order: same descriptor
        yield Msg("close_run")

    RE(plan())
    for n, d in docs:
        validate(n, d)
    descs = [d for n, d in docs if n == "descriptor"]
    assert [d["name"] for d in descs] == ["primary", "baseline"]
    primary = descs[0]
    assert set(primary["data_keys"]) == {"a", "b"}
    assert primary["data_keys"]["a"]["object_name"] == "a"
    assert primary["configuration"]["a"]["data"] == {"a_gain": 2}
    assert primary["hints"] == {"a": {"fields": ["a"]}, "b": {"fields": ["b"]}}
    assert primary["object_keys"] == {"a": ["a"], "b": ["b"]}
    stop = [d for n, d in docs if n == "stop"][0]
    assert stop["num_events"] == {"primary": 2, "baseline": 1}


def test_resource_and_datum_come_before_their_event(RE, docs, validate):
    cam = FileDet("cam")

    def plan():
        yield Msg("open_run")
        for _ in range(2):
            yield from step(cam)
        yield Msg("close_run")

    RE(plan())
    for n, d in docs:
        validate(n, d)
    assert names(docs) == [
        "start",
        "descriptor",
        "resource",
        "datum",
        "event",
        "datum",
        "event",
        "stop",
    ]
    start = docs[0][1]
    assert docs[2][1]["run_start"] == start["uid"]
    event = docs[4][1]
    assert event["filled"] == {"cam_image": False}
    assert event["data"]["cam_image"] == docs[3][1]["datum_id"]


def test_stream_resource_and_datum_in_a_step_scan(RE, docs, validate):
    cam = StreamDet("cam")

    def plan():
        yield Msg("open_run")
        for _ in range(3):
            yield from step(cam)
        yield Msg("close_run")

    RE(plan())
    for n, d in docs:
        validate(n, d)
    assert names(docs) == [
        "start", "descriptor", "stream_resource", "stream_datum", "event",
        "stream_datum", "event", "stream_datum", "event", "stop",
    ]  # fmt: skip
    desc = docs[1][1]
    sdatums = [d for n, d in docs if n == "stream_datum"]
    assert all(sd["descriptor"] == desc["uid"] for sd in sdatums)
    assert [sd["seq_nums"] for sd in sdatums] == [{"start": i, "stop": i + 1} for i in (1, 2, 3)]
    assert [d["seq_num"] for n, d in docs if n == "event"] == [1, 2, 3]
    assert docs[2][1]["run_start"] == docs[0][1]["uid"]


def test_stream_datum_for_an_unknown_resource_is_refused(RE, docs):
    cam = StreamDet("cam")
    cam.send_resource = False  # as if the resource had gone out in another run

    def plan():
        yield Msg("open_run")
        yield from step(cam)
        yield Msg("close_run")

    with pytest.raises(IllegalMessageSequence, match="stream_resource"):
        RE(plan())
    assert [d for n, d in docs if n == "stop"][0]["exit_status"] == "fail"


def test_sim_area_detector_writes_hdf5_and_documents(RE, docs, validate, tmp_path):
    from cielo.devices.sim import SimAreaDetector

    cam = SimAreaDetector(name="camera", directory=str(tmp_path), width=8, height=6)

    def plan():
        yield Msg("stage", cam)
        yield Msg("open_run")
        for _ in range(2):
            yield from step(cam)
        yield Msg("close_run")
        yield Msg("unstage", cam)

    RE(plan())
    for n, d in docs:
        validate(n, d)
    assert names(docs).count("stream_resource") == 1
    assert names(docs).count("stream_datum") == 2
    assert names(docs).index("stream_datum") < names(docs).index("event")


def test_multiple_and_nested_runs_with_run_keys(RE, docs, validate):
    a, b = Det("a"), Det("b")

    def plan():
        yield Msg("open_run", run="outer", purpose="outer")
        yield Msg("open_run", run="inner", purpose="inner")
        yield Msg("create", None, name="primary", run="inner")
        yield Msg("read", b, run="inner")
        yield Msg("save", run="inner")
        yield Msg("close_run", run="inner")
        yield Msg("create", None, name="primary", run="outer")
        yield Msg("read", a, run="outer")
        yield Msg("save", run="outer")
        yield Msg("close_run", run="outer")
        for _ in range(2):  # then two runs one after another
            yield Msg("open_run")
            yield from step(a)
            yield Msg("close_run")

    result = RE(plan())
    for n, d in docs:
        validate(n, d)
    starts = [d for n, d in docs if n == "start"]
    assert len(result) == 4 and tuple(result) == tuple(s["uid"] for s in starts)
    assert [s["purpose"] for s in starts[:2]] == ["outer", "inner"]
    assert len({s["scan_id"] for s in starts}) == 4
    by_uid = {s["uid"]: s for s in starts}
    for n, d in docs:
        if n == "descriptor":
            assert d["run_start"] in by_uid
    inner_desc = [d for n, d in docs if n == "descriptor"][0]
    assert inner_desc["run_start"] == starts[1]["uid"]


def test_same_run_key_twice_is_refused(RE):
    with pytest.raises(IllegalMessageSequence, match="already open"):
        RE([Msg("open_run"), Msg("open_run")])


def test_bundle_errors(RE):
    a = Det("a")
    with pytest.raises(IllegalMessageSequence, match="open run"):
        RE([Msg("create", None, name="primary")])
    with pytest.raises(IllegalMessageSequence, match="read twice"):
        RE([Msg("open_run"), Msg("create", None, name="primary"), Msg("read", a), Msg("read", a)])
    with pytest.raises(IllegalMessageSequence, match="checkpoint"):
        RE([Msg("open_run"), Msg("create", None, name="primary"), Msg("checkpoint")])
    with pytest.raises(IllegalMessageSequence, match="described with"):
        RE([Msg("open_run"), *step(a), *step(Det("b"))])


def test_drop_discards_the_bundle(RE, docs, validate):
    a = Det("a")
    RE(
        [
            Msg("open_run"),
            Msg("create", None, name="primary"),
            Msg("read", a),
            Msg("drop"),
            *step(a),
            Msg("close_run"),
        ]
    )
    assert names(docs).count("event") == 1
    for n, d in docs:
        validate(n, d)


def test_declare_stream_and_configure_makes_a_new_descriptor(RE, docs, validate):
    class Configurable(Det):
        def configure(self, gain):
            old = self.read_configuration()
            self.gain = gain
            return old, self.read_configuration()

    a = Configurable("a")

    def plan():
        yield Msg("open_run")
        yield Msg("declare_stream", None, a, name="primary")
        yield from step(a)
        yield Msg("configure", a, 5)
        yield from step(a)
        yield Msg("close_run")

    RE(plan())
    for n, d in docs:
        validate(n, d)
    descs = [d for n, d in docs if n == "descriptor"]
    assert len(descs) == 2
    events = [d for n, d in docs if n == "event"]
    assert [e["descriptor"] for e in events] == [descs[0]["uid"], descs[1]["uid"]]
    assert [e["seq_num"] for e in events] == [1, 2]


def test_monitor_emits_events_in_its_own_stream(RE, docs, validate):
    from ophyd import Signal

    sig = Signal(name="temperature", value=20.0)

    def plan():
        yield Msg("open_run")
        yield Msg("monitor", sig, name="temperature_monitor")
        yield Msg("sleep", None, 0.05)
        sig.put(21.0)
        yield Msg("sleep", None, 0.05)
        sig.put(22.0)
        yield Msg("sleep", None, 0.05)
        yield Msg("unmonitor", sig)
        sig.put(23.0)  # not recorded
        yield Msg("sleep", None, 0.05)
        yield Msg("close_run")

    RE(plan())
    for n, d in docs:
        validate(n, d)
    desc = [d for n, d in docs if n == "descriptor"][0]
    assert desc["name"] == "temperature_monitor"
    values = [d["data"]["temperature"] for n, d in docs if n == "event"]
    # events come from the signal's callbacks only (as in Bluesky): an ophyd Signal never
    # put calls back on changes, not when subscribed
    assert values == [21.0, 22.0]
    assert [d for n, d in docs if n == "stop"][0]["num_events"] == {"temperature_monitor": 2}


def test_monitor_is_removed_when_the_run_closes(RE, docs):
    from cielo.devices import SoftSignal

    sig = SoftSignal(1.0, name="s")
    RE([Msg("open_run"), Msg("monitor", sig), Msg("close_run")])
    sig.put(2.0)
    RE.flush()
    assert [d["data"]["s"] for n, d in docs if n == "event"] == [1.0]


def test_monitors_do_not_record_while_paused(RE, docs, validate):
    import threading

    from cielo.core import RunEngineInterrupted
    from cielo.devices import SoftSignal

    sig = SoftSignal(1.0, name="t")

    def plan():
        yield Msg("open_run")
        yield Msg("monitor", sig)
        yield Msg("checkpoint")
        yield Msg("pause")
        yield Msg("sleep", None, 0.05)
        yield Msg("close_run")

    with pytest.raises(RunEngineInterrupted):
        RE(plan())
    sig.put(2.0)  # while paused: not recorded
    RE.flush()
    assert [d["data"]["t"] for n, d in docs if n == "event"] == [1.0]
    threading.Timer(0.02, sig.put, args=(3.0,)).start()
    RE.resume()  # re-subscribing records the current value, then changes
    assert [d["data"]["t"] for n, d in docs if n == "event"] == [1.0, 2.0, 3.0]
    for n, d in docs:
        validate(n, d)


def test_debug_mode_validates_every_document():
    class BadKeys(Det):
        def describe(self):
            return {self.name: {"source": "test", "shape": []}}  # no dtype

    with RunEngine(scan_id_file=None, validate_documents=True) as RE:
        RE([Msg("open_run"), *step(Det("good")), Msg("close_run")])
        assert RE.callback_errors == []
        RE([Msg("open_run"), *step(BadKeys("bad")), Msg("close_run")])
        (error,) = RE.callback_errors
        assert error.name == "descriptor" and "dtype" in str(error.exception)
    with RunEngine(scan_id_file=None, validate_documents=True, fatal_callback_errors=True) as RE:
        from cielo.core import RunEngineError

        with pytest.raises(RunEngineError, match="dtype"):
            RE([Msg("open_run"), *step(BadKeys("bad")), Msg("close_run")])


def test_datum_page_from_a_device_is_passed_on(RE, docs, validate):
    class PagedFileDet(FileDet):
        def trigger(self):
            super().trigger()
            resource = self.resource["uid"]
            self.pending = [d for d in self.pending if d[0] == "resource"] + [
                (
                    "datum_page",
                    {"resource": resource, "datum_id": [self.datum_id], "datum_kwargs": {}},
                )
            ]
            return finished_status(self)

    cam = PagedFileDet("cam")
    RE([Msg("open_run"), *step(cam), *step(cam), Msg("close_run")])
    kinds = names(docs)
    assert kinds.count("datum_page") == 2 and kinds.count("resource") == 1
    assert kinds.index("datum_page") < kinds.index("event")
    for n, d in docs:
        validate(n, d)


def test_a_new_object_with_the_same_name_is_named_as_such(RE):
    with pytest.raises(IllegalMessageSequence, match="other objects with the same names"):
        RE([Msg("open_run"), *step(Det("a")), *step(Det("a"))])
    with pytest.raises(IllegalMessageSequence, match=r"\['b'\](?!.*same names)"):
        RE([Msg("open_run"), *step(Det("a")), *step(Det("b"))])
