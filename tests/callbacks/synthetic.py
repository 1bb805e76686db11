"""Synthetic, schema-valid document streams for callback tests (no RunEngine needed).

Loaded by path from the conftest files of tests/callbacks and tests/plugins/*.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

Doc = dict[str, Any]
_scan_ids = itertools.count(1)


def gaussian(x: Any, center: float = 0.3, sigma: float = 0.5, amp: float = 100.0, bg: float = 2.0):
    return bg + amp * np.exp(-((np.asarray(x) - center) ** 2) / (2 * sigma**2))


def _uid() -> str:
    return str(uuid.uuid4())


def step_run(
    xs: Iterable[float] | None = None,
    *,
    motor: str = "motor",
    detectors: Sequence[str] = ("det",),
    func: Callable[[float], Any] = gaussian,
    pages: bool = False,
    plan_name: str = "scan",
    exit_status: str = "success",
    units: str = "mm",
    extra_keys: dict[str, dict[str, Any]] | None = None,
    extra_values: Callable[[int], dict[str, Any]] | None = None,
    md: dict[str, Any] | None = None,
) -> list[tuple[str, Doc]]:
    """A one-dimensional step scan of ``detectors`` over ``motor`` (``motor=None``: a count)."""
    xs = list(np.linspace(-2, 2, 21) if xs is None else xs)
    t0 = time.time()
    start: Doc = {
        "uid": _uid(),
        "time": t0,
        "scan_id": next(_scan_ids),
        "plan_name": plan_name,
        "detectors": list(detectors),
        "num_points": len(xs),
        "hints": {"dimensions": [[[motor] if motor else ["time"], "primary"]]},
    }
    if motor:
        start["motors"] = [motor]
    start.update(md or {})
    data_keys: Doc = {}
    hints: Doc = {}
    if motor:
        data_keys[motor] = {
            "dtype": "number",
            "shape": [],
            "source": f"SIM:{motor}",
            "units": units,
            "precision": 3,
            "object_name": motor,
        }
        hints[motor] = {"fields": [motor]}
    for d in detectors:
        data_keys[d] = {
            "dtype": "number",
            "shape": [],
            "source": f"SIM:{d}",
            "units": "counts",
            "precision": 2,
            "object_name": d,
        }
        hints[d] = {"fields": [d]}
    data_keys.update(extra_keys or {})
    desc: Doc = {
        "uid": _uid(),
        "run_start": start["uid"],
        "time": t0,
        "name": "primary",
        "data_keys": data_keys,
        "hints": hints,
        "configuration": {},
        "object_keys": {k: [k] for k in data_keys},
    }
    docs: list[tuple[str, Doc]] = [("start", start), ("descriptor", desc)]
    events = []
    for i, x in enumerate(xs):
        data: Doc = {motor: float(x)} if motor else {}
        for j, d in enumerate(detectors):
            data[d] = float(func(x)) * (j + 1)
        if extra_values:
            data.update(extra_values(i))
        t = t0 + 0.01 * (i + 1)
        events.append(
            {
                "uid": _uid(),
                "descriptor": desc["uid"],
                "seq_num": i + 1,
                "time": t,
                "data": data,
                "timestamps": {k: t for k in data},
            }
        )
    if pages:
        for chunk in (events[i : i + 5] for i in range(0, len(events), 5)):
            docs.append(("event_page", _page(chunk)))
    else:
        docs.extend(("event", e) for e in events)
    stop: Doc = {
        "uid": _uid(),
        "run_start": start["uid"],
        "time": t0 + 0.01 * (len(xs) + 1),
        "exit_status": exit_status,
        "num_events": {"primary": len(xs)},
    }
    if exit_status != "success":
        stop["reason"] = "synthetic failure"
    docs.append(("stop", stop))
    return docs


def _page(events: list[Doc]) -> Doc:
    keys = list(events[0]["data"])
    return {
        "descriptor": events[0]["descriptor"],
        "uid": [e["uid"] for e in events],
        "seq_num": [e["seq_num"] for e in events],
        "time": [e["time"] for e in events],
        "data": {k: [e["data"][k] for e in events] for k in keys},
        "timestamps": {k: [e["timestamps"][k] for e in events] for k in keys},
    }


def grid_run(shape=(5, 7), extents=((-1.0, 1.0), (-2.0, 2.0)), *, snake: bool = True):
    """A 2D grid scan of ``det2`` over ``motor1`` (outer) and ``motor2`` (inner)."""
    n1, n2 = shape
    pts = []
    for i, y in enumerate(np.linspace(*extents[0], n1)):
        row = np.linspace(*extents[1], n2)
        if snake and i % 2:
            row = row[::-1]
        pts.extend((float(y), float(x)) for x in row)
    docs = step_run(
        [p[0] for p in pts],
        motor="motor1",
        detectors=("det2",),
        func=lambda x: 0.0,
        plan_name="grid_scan",
        extra_keys={
            "motor2": {"dtype": "number", "shape": [], "source": "SIM:motor2", "units": "mm"}
        },
        extra_values=lambda i: {"motor2": pts[i][1]},
        md={
            "motors": ["motor1", "motor2"],
            "shape": list(shape),
            "extents": [list(e) for e in extents],
            "snaking": [False, snake],
            "plan_pattern": "outer_product",
            "hints": {"dimensions": [[["motor1"], "primary"], [["motor2"], "primary"]]},
        },
    )
    docs[1][1]["hints"]["motor2"] = {"fields": ["motor2"]}
    for name, doc in docs:
        if name == "event":
            m1, m2 = doc["data"]["motor1"], doc["data"]["motor2"]
            doc["data"]["det2"] = float(np.exp(-(m1**2 + m2**2)))
    return docs


def image_run(n: int = 3, shape=(16, 24), *, external: bool = False) -> list[tuple[str, Doc]]:
    """A count of a camera: frames in the events, or (``external``) in a file via stream datums."""
    key: Doc = {"dtype": "array", "shape": list(shape), "source": "SIM:camera"}
    if external:
        key["external"] = "STREAM:"
    yy, xx = np.mgrid[: shape[0], : shape[1]]

    def frame(i: int):
        return (np.exp(-((yy - shape[0] / 2) ** 2 + (xx - 4 - 4 * i) ** 2) / 8.0)).tolist()

    docs = step_run(
        range(n),
        motor="",
        detectors=(),
        plan_name="count",
        extra_keys={"camera": key},
        extra_values=(lambda i: {}) if external else (lambda i: {"camera": frame(i)}),
    )
    docs[1][1]["hints"]["camera"] = {"fields": ["camera"]}
    if external:
        start, desc = docs[0][1], docs[1][1]
        sres = {
            "uid": _uid(),
            "run_start": start["uid"],
            "data_key": "camera",
            "mimetype": "application/x-hdf5",
            "uri": "file://localhost/tmp/camera.h5",
            "parameters": {"dataset": "/entry/data"},
        }
        datums = [
            (
                "stream_datum",
                {
                    "uid": f"{sres['uid']}/{i}",
                    "stream_resource": sres["uid"],
                    "descriptor": desc["uid"],
                    "indices": {"start": i, "stop": i + 1},
                    "seq_nums": {"start": i + 1, "stop": i + 2},
                },
            )
            for i in range(n)
        ]
        docs = docs[:2] + [("stream_resource", sres)] + datums + docs[2:]
    return docs
