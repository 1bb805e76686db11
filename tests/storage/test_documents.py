"""Document helpers: event pages, per-run routing, JSON encoding, file-name templates."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cielo.storage import (
    RunRouter,
    SuitcaseError,
    dumps,
    pack_events,
    render_template,
    reserve_path,
    unpack_event_page,
)


def test_pack_and_unpack_events_round_trip(make_run, validate):
    events = [d for n, d in make_run(4) if n == "event" and "det" in d["data"]]
    page = pack_events(events)
    validate("event_page", page)
    assert list(unpack_event_page(page)) == events


def test_router_keeps_interleaved_runs_apart(make_run):
    a, b = make_run(3, scan_id=1), make_run(3, scan_id=2)
    for name, doc in b:  # a resource-like document without run_start goes to the last run
        doc.pop("run_start", None) if name == "descriptor" else None
    seen: dict[int, list[str]] = {}

    def make(start):
        return lambda name, doc: seen.setdefault(start["scan_id"], []).append(name)

    router = RunRouter(make)
    for pair in zip(a, b, strict=True):
        for name, doc in pair:
            router(name, doc)
    assert seen[1] == [n for n, _ in a]
    assert seen[2] == [n for n, _ in b]


def test_dumps_converts_numpy():
    text = dumps({"a": np.float32(1.5), "b": np.arange(3), "c": (1, 2)})
    assert json.loads(text) == {"a": 1.5, "b": [0, 1, 2], "c": [1, 2]}
    with pytest.raises(TypeError, match="cannot store a object"):
        dumps({"x": object()})


def test_templates_and_reserved_paths(tmp_path):
    start = {"uid": "0123456789abcdef", "scan_id": 7, "sample": "Fe/Ni 50%"}
    assert render_template("{scan_id:03d}-{sample}-{uid:.4}", start) == "007-Fe_Ni_50-0123"
    assert render_template("{plan_name}", start) == "run"  # defaults for plan_name, scan_id
    with pytest.raises(SuitcaseError, match=r"\{operator\} is not in the run-start document"):
        render_template("{operator}", start)
    with pytest.raises(SuitcaseError, match="bad file template"):
        render_template("{scan_id", start)
    first = reserve_path(tmp_path / "sub", "x", ".csv")
    second = reserve_path(tmp_path / "sub", "x", ".csv")
    assert (first.name, second.name) == ("x.csv", "x-1.csv") and first.exists()
