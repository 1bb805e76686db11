"""NeXus/HDF5 export: NXentry with the primary stream as NXdata, the sample as NXsample,
the devices under NXinstrument and the rest of the metadata as NXcollection."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from cielo.storage import Suitcase

from ._external import ExternalFrames

__all__ = ["NeXusSuitcase"]

Document = dict[str, Any]


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat()


def _group(parent: Any, name: str, nx_class: str) -> Any:
    group = parent.require_group(name)
    group.attrs["NX_class"] = nx_class
    return group


def _put_metadata(group: Any, md: Mapping[str, Any]) -> None:
    """Scalars and lists as datasets, mappings as sub-collections, the rest as JSON text."""
    import h5py
    import numpy as np

    for key, value in md.items():
        name = str(key).replace("/", "_") or "_"
        if isinstance(value, Mapping):
            _put_metadata(_group(group, name, "NXcollection"), value)
            continue
        try:
            if isinstance(value, str):
                group.create_dataset(name, data=value, dtype=h5py.string_dtype())
                continue
            arr = np.asarray(value)
            if arr.dtype.kind in "biuf" and arr.dtype != object:
                group.create_dataset(name, data=arr)
                continue
            if arr.dtype.kind == "U":
                group.create_dataset(name, data=arr.astype(object), dtype=h5py.string_dtype())
                continue
        except (TypeError, ValueError):
            pass
        group.create_dataset(name, data=json.dumps(value, default=str), dtype=h5py.string_dtype())
        group[name].attrs["format"] = "json"


class NeXusSuitcase(ExternalFrames, Suitcase):
    """A run as a NeXus file (``.nxs``, HDF5).

    ``/entry`` (NXentry, ``default="data"``) holds ``title``, ``start_time``,
    ``end_time`` and ``entry_identifier`` (the run uid); ``/entry/data`` (NXdata) holds
    the primary stream, one dataset per data key (images included, external frames
    read at the stop document), with ``signal`` (the main detector field), ``axes``
    (the scanned motors) and ``AXIS_indices`` attributes; other streams go to
    ``/entry/<stream>`` (NXcollection); the run-start and run-stop documents to
    ``/entry/metadata`` and ``/entry/metadata/stop`` (NXcollection). Every field
    carries its ``units`` attribute (from the descriptor's data keys). The run-start
    ``sample`` (a name, or a mapping of its properties) is ``/entry/sample``
    (NXsample); each device is a group of ``/entry/instrument`` (NXinstrument):
    NXpositioner for the scanned motors, NXdetector for the detectors, NXcollection
    otherwise, holding its configuration and links to its fields' data.

    :param directory: folder of the files. :param file_template: name over run-start keys.
    :param root_map: ``{old_root: new_root}`` for external files that moved.
    :param buffer: events held per stream before they are appended to the file.
    """

    kind = "nexus"

    def __init__(
        self,
        start: Document,
        *,
        root_map: Mapping[str, str] | None = None,
        buffer: int = 1000,
        **params: Any,
    ) -> None:
        self._init_external(root_map)
        self.buffer = int(buffer)
        self._file: Any = None
        self._groups: dict[str, Any] = {}  # descriptor uid -> h5 group
        self._keys: dict[str, list[str]] = {}  # descriptor uid -> inline data keys
        self._external_keys: dict[str, list[str]] = {}
        self._pending: dict[str, dict[str, list[Any]]] = {}
        self._seq: dict[str, list[int]] = {}
        self._units: dict[tuple[str, str], str] = {}  # (descriptor, key) -> units
        self._devices: dict[str, list[tuple[str, str]]] = {}  # device -> (descriptor, key)
        super().__init__(start, **params)

    def start(self, doc: Document) -> None:
        import h5py

        self.path = self.new_file(".nxs", "nexus")
        self._file = h5py.File(self.path, "w")
        self._file.attrs.update({"NX_class": "NXroot", "default": "entry", "creator": "cielo"})
        entry = _group(self._file, "entry", "NXentry")
        entry.attrs["default"] = "data"
        title = f"{doc.get('plan_name', 'run')} {doc.get('scan_id', '')}".strip()
        for name, value in (
            ("title", title),
            ("start_time", _iso(doc["time"])),
            ("entry_identifier", doc["uid"]),
        ):
            entry.create_dataset(name, data=value, dtype=h5py.string_dtype())
        _put_metadata(_group(entry, "metadata", "NXcollection"), doc)
        sample = doc.get("sample")
        if sample is not None:
            group = _group(entry, "sample", "NXsample")
            _put_metadata(group, sample if isinstance(sample, Mapping) else {"name": sample})
        _group(entry, "instrument", "NXinstrument")

    def _device_group(self, device: str) -> Any:
        start = self.start_doc
        motors, detectors = start.get("motors") or [], start.get("detectors") or []
        nx_class = (
            "NXpositioner" if device in motors else "NXdetector" if device in detectors
            else "NXcollection"
        )  # fmt: skip
        return _group(self._file["entry/instrument"], device.replace("/", "_"), nx_class)

    def descriptor(self, doc: Document) -> None:
        stream = doc.get("name", "primary")
        entry = self._file["entry"]
        if stream == "primary":
            group = _group(entry, "data", "NXdata")
            self._set_plot(group, doc)
        else:
            group = _group(entry, stream, "NXcollection")
        self._groups[doc["uid"]] = group
        keys = doc["data_keys"]
        self._keys[doc["uid"]] = [k for k in keys if not keys[k].get("external")]
        self._external_keys[doc["uid"]] = [k for k in keys if keys[k].get("external")]
        self._pending[doc["uid"]] = {k: [] for k in ["time", "seq_num", *self._keys[doc["uid"]]]}
        self._units.update(
            {(doc["uid"], k): str(v["units"]) for k, v in keys.items() if "units" in v}
        )
        for device, fields in (doc.get("object_keys") or {}).items():
            self._devices.setdefault(device, []).extend((doc["uid"], f) for f in fields)
        for device, config in (doc.get("configuration") or {}).items():
            values = config.get("data") or {}
            if values:
                device_group = self._device_group(device)
                _put_metadata(
                    device_group, {k: v for k, v in values.items() if k not in device_group}
                )
                for key, info in (config.get("data_keys") or {}).items():
                    if key in device_group and "units" in info:
                        device_group[key].attrs["units"] = str(info["units"])

    def _set_plot(self, group: Any, doc: Document) -> None:
        keys = doc["data_keys"]
        axes = [
            f for fields, stream in self.start_doc.get("hints", {}).get("dimensions", [])
            if stream == "primary" for f in fields if f in keys
        ] or [m for m in self.start_doc.get("motors", []) if m in keys]  # fmt: skip
        hinted = [
            f for obj, hint in (doc.get("hints") or {}).items()
            for f in hint.get("fields", []) if f in keys and f not in axes
        ]  # fmt: skip
        signal = (hinted or [k for k in keys if k not in axes] or list(keys))[0]
        group.attrs["signal"] = signal
        group.attrs["axes"] = axes or ["."]
        for i, axis in enumerate(axes):
            group.attrs[f"{axis}_indices"] = 0 if len(axes) == 1 else i

    def event(self, doc: Document) -> None:
        descriptor = doc["descriptor"]
        pending = self._pending.get(descriptor)
        if pending is None:
            return
        pending["time"].append(doc["time"])
        pending["seq_num"].append(doc["seq_num"])
        data = doc["data"]
        for key in self._keys[descriptor]:
            pending[key].append(data[key])
        for key in self._external_keys[descriptor]:
            self.note_datum(descriptor, key, doc)
        if len(pending["time"]) >= self.buffer:
            self._flush(descriptor)

    def _flush(self, descriptor: str) -> None:
        pending = self._pending[descriptor]
        if pending["time"]:
            self._seq.setdefault(descriptor, []).extend(pending["seq_num"])
        for key, values in pending.items():
            if values:
                self._append(descriptor, key, values)
                values.clear()

    def _append(self, descriptor: str, key: str, values: list[Any]) -> None:
        import h5py
        import numpy as np

        group = self._groups[descriptor]
        arr = np.asarray(values)
        if arr.dtype.kind in "UO":
            arr = np.asarray([str(v) for v in values], dtype=object)
            dtype = h5py.string_dtype()
        else:
            dtype = arr.dtype
        if key not in group:
            ds = group.create_dataset(
                key, data=arr, dtype=dtype, maxshape=(None, *arr.shape[1:]), chunks=True
            )
            if (descriptor, key) in self._units:
                ds.attrs["units"] = self._units[descriptor, key]
            return
        ds = group[key]
        n = ds.shape[0]
        ds.resize(n + len(arr), axis=0)
        ds[n:] = arr

    def stop(self, doc: Document) -> None:
        import h5py

        for descriptor in self._pending:
            self._flush(descriptor)
        for descriptor, keys in self._external_keys.items():
            for key in keys:
                frames = self.frames(descriptor, key)
                ordered = [frames[s] for s in self._seq.get(descriptor, []) if s in frames]
                if ordered:
                    self._append(descriptor, key, ordered)
        self._link_devices()
        entry = self._file["entry"]
        entry.create_dataset("end_time", data=_iso(doc["time"]), dtype=h5py.string_dtype())
        _put_metadata(_group(entry["metadata"], "stop", "NXcollection"), doc)

    def _link_devices(self) -> None:
        """Each device's group links to its fields' data (one copy in the file)."""
        for device, fields in self._devices.items():
            group = self._device_group(device)
            for descriptor, key in fields:
                data = self._groups[descriptor]
                if key in data and key not in group:
                    group[key] = data[key]  # a hard link: the same dataset, units included

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.external.close()
