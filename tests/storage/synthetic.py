"""Schema-valid synthetic runs for storage tests (loaded by path from the conftests)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

Document = dict[str, Any]


def new_uid() -> str:
    return str(uuid.uuid4())


def synthetic_run(
    n: int = 5,
    *,
    scan_id: int = 1,
    plan_name: str = "scan",
    md: dict[str, Any] | None = None,
    t0: float | None = None,
    pages: bool = False,
    image_dir: Path | None = None,
    image_kind: str = "hdf5",
    stop: bool = True,
    exit_status: str = "success",
) -> list[tuple[str, Document]]:
    """A run scanning ``motor`` over ``n`` points reading ``det`` (and ``cam`` images).

    With ``image_dir``, the ``cam`` detector's frames are written to an HDF5 file
    (``stream_resource``/``stream_datum``) or to TIFF files (``resource``/``datum``).
    A ``baseline`` stream holds two readings of ``temperature``.
    """
    t0 = time.time() if t0 is None else t0
    start: Document = {
        "uid": new_uid(),
        "time": t0,
        "scan_id": scan_id,
        "plan_name": plan_name,
        "motors": ["motor"],
        "detectors": ["det"] + (["cam"] if image_dir else []),
        "num_points": n,
        "hints": {"dimensions": [[["motor"], "primary"]]},
        **(md or {}),
    }
    docs: list[tuple[str, Document]] = [("start", start)]
    data_keys: Document = {
        "motor": {
            "source": "sim:motor",
            "dtype": "number",
            "shape": [],
            "units": "mm",
            "precision": 3,
        },
        "motor_setpoint": {"source": "sim:motor_sp", "dtype": "number", "shape": [], "units": "mm"},
        "det": {"source": "sim:det", "dtype": "number", "shape": []},
    }
    shape = [4, 5]
    if image_dir:
        data_keys["cam"] = {
            "source": "sim:cam",
            "dtype": "array",
            "shape": shape,
            "external": "STREAM:" if image_kind == "hdf5" else "FILESTORE:",
        }
    primary: Document = {
        "uid": new_uid(),
        "run_start": start["uid"],
        "time": t0 + 0.01,
        "name": "primary",
        "data_keys": data_keys,
        "configuration": {},
        "object_keys": {
            "motor": ["motor", "motor_setpoint"],
            "det": ["det"],
            **({"cam": ["cam"]} if image_dir else {}),
        },
        "hints": {"motor": {"fields": ["motor"]}, "det": {"fields": ["det"]}},
    }
    baseline: Document = {
        "uid": new_uid(),
        "run_start": start["uid"],
        "time": t0 + 0.005,
        "name": "baseline",
        "data_keys": {
            "temperature": {"source": "sim:T", "dtype": "number", "shape": [], "units": "K"}
        },
        "configuration": {},
        "object_keys": {"temperature": ["temperature"]},
    }
    docs.append(("descriptor", baseline))
    docs.append(("event", _event(baseline, 1, t0 + 0.006, {"temperature": 295.0})))
    docs.append(("descriptor", primary))
    frames = np.arange(n * shape[0] * shape[1], dtype=np.float64).reshape(n, *shape)
    resource = None
    if image_dir:
        image_dir.mkdir(parents=True, exist_ok=True)
        if image_kind == "hdf5":
            import h5py

            path = image_dir / f"{start['uid']}.h5"
            with h5py.File(path, "w") as f:
                f.create_dataset("/entry/data/data", data=frames)
            resource = {
                "uid": new_uid(),
                "run_start": start["uid"],
                "data_key": "cam",
                "mimetype": "application/x-hdf5",
                "uri": f"file://localhost{path}",
                "parameters": {"dataset": "/entry/data/data"},
            }
            docs.append(("stream_resource", resource))
        else:
            import tifffile

            folder = image_dir / start["uid"]
            folder.mkdir()
            for i in range(n):
                tifffile.imwrite(folder / f"img_{i:06d}.tiff", frames[i])
            resource = {
                "uid": new_uid(),
                "run_start": start["uid"],
                "spec": "AD_TIFF",
                "root": str(image_dir),
                "resource_path": start["uid"],
                "resource_kwargs": {
                    "template": "%s%s_%6.6d.tiff",
                    "filename": "img",
                    "frame_per_point": 1,
                },
                "path_semantics": "posix",
            }
            docs.append(("resource", resource))
    events = []
    for i in range(n):
        t = t0 + 0.1 * (i + 1)
        data: Document = {
            "motor": -1.0 + i * 0.5,
            "motor_setpoint": -1.0 + i * 0.5,
            "det": float(np.exp(-((i - n / 2) ** 2))),
        }
        if resource is not None and image_kind == "hdf5":
            docs.append(
                (
                    "stream_datum",
                    {
                        "uid": f"{resource['uid']}/{i}",
                        "stream_resource": resource["uid"],
                        "descriptor": primary["uid"],
                        "indices": {"start": i, "stop": i + 1},
                        "seq_nums": {"start": i + 1, "stop": i + 2},
                    },
                )
            )
        elif resource is not None:
            datum = {
                "resource": resource["uid"],
                "datum_id": f"{resource['uid']}/{i}",
                "datum_kwargs": {"point_number": i},
            }
            docs.append(("datum", datum))
            data["cam"] = datum["datum_id"]
        event = _event(primary, i + 1, t, data)
        if pages:
            events.append(event)
        else:
            docs.append(("event", event))
    if pages and events:
        from cielo.storage import pack_events

        docs.append(("event_page", pack_events(events)))
    docs.append(("event", _event(baseline, 2, t0 + 0.1 * (n + 1), {"temperature": 296.5})))
    if stop:
        docs.append(
            (
                "stop",
                {
                    "uid": new_uid(),
                    "run_start": start["uid"],
                    "time": t0 + 0.1 * (n + 2),
                    "exit_status": exit_status,
                    "reason": "" if exit_status == "success" else "something went wrong",
                    "num_events": {"primary": n, "baseline": 2},
                },
            )
        )
    return docs


def _event(descriptor: Document, seq: int, t: float, data: Document) -> Document:
    return {
        "uid": new_uid(),
        "descriptor": descriptor["uid"],
        "time": t,
        "seq_num": seq,
        "data": data,
        "timestamps": {k: t for k in data},
        **({"filled": {"cam": False}} if "cam" in data else {}),
    }
