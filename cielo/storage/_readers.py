"""Readers of external data: arrays for stream_datum ranges and datum documents.

A reader factory is registered under a stream_resource ``mimetype`` or a resource
``spec`` and called as ``factory(resource_doc, root_map=...)``. The reader it returns
offers ``read(start, stop)`` (rows ``start:stop`` of a stream resource, first axis is
the frame) and/or ``read_datum(**datum_kwargs)`` (one datum of a resource), and
optionally ``close()``. HDF5 and TIFF readers are built in; plugins add others through
the ``cielo_readers`` hook.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ._errors import ExternalDataError

__all__ = [
    "BUILTIN_READERS",
    "HDF5Reader",
    "ReaderRegistry",
    "TIFFReader",
    "resource_path",
]

Document = dict[str, Any]
ReaderFactory = Callable[..., Any]


def resource_path(doc: Mapping[str, Any], root_map: Mapping[str, str] | None = None) -> Path:
    """The local path of a stream_resource (``uri``) or resource (``root`` + ``resource_path``)."""
    if "uri" in doc:
        parts = urlsplit(doc["uri"])
        path = unquote(parts.path) if parts.scheme in ("file", "") else doc["uri"]
        root = ""
    else:
        root = doc.get("root", "") or ""
        path = doc["resource_path"]
    for old, new in (root_map or {}).items():
        if root and root == old:
            root = new
        elif not root and path.startswith(old):
            path = new + path[len(old) :]
    return Path(root) / path if root else Path(path)


def _missing(doc: Mapping[str, Any], path: Path) -> ExternalDataError:
    kind = "stream_resource" if "uri" in doc else "resource"
    return ExternalDataError(
        f"{kind} {doc.get('uid')} (data key {doc.get('data_key', '?')!r}, "
        f"{doc.get('mimetype') or doc.get('spec')}) points to {path}, which does not exist; "
        "pass root_map={'old/root': 'new/root'} to open_catalog if the files moved"
    )


class HDF5Reader:
    """Frames of one HDF5 dataset (``parameters["dataset"]``, default ``/entry/data/data``).

    For stream resources (``application/x-hdf5``) ``read(start, stop)`` slices the first
    axis; for ``AD_HDF5`` resources ``read_datum(point_number=N)`` returns the
    ``frame_per_point`` frames of point N.
    """

    def __init__(self, doc: Mapping[str, Any], root_map: Mapping[str, str] | None = None) -> None:
        self.doc = doc
        self.path = resource_path(doc, root_map)
        if not self.path.exists():
            raise _missing(doc, self.path)
        params = doc.get("parameters") or doc.get("resource_kwargs") or {}
        self.dataset = params.get("dataset", "/entry/data/data")
        self.frame_per_point = int(params.get("frame_per_point", 1))
        self._file: Any = None

    def _data(self) -> Any:
        import h5py

        if self._file is None:
            self._file = h5py.File(self.path, "r", swmr=True)
        try:
            return self._file[self.dataset]
        except KeyError:
            raise ExternalDataError(
                f"{self.path} has no dataset {self.dataset!r} (resource {self.doc.get('uid')})"
            ) from None

    def read(self, start: int, stop: int) -> Any:
        data = self._data()
        data.refresh() if hasattr(data, "refresh") else None
        return data[start:stop]

    def read_datum(self, point_number: int = 0, **_: Any) -> Any:
        n = self.frame_per_point
        frames = self.read(point_number * n, (point_number + 1) * n)
        return frames[0] if n == 1 else frames

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class TIFFReader:
    """Frames from TIFF files: a multi-page file, or a folder of one file per frame.

    A stream resource's ``uri`` names the file or folder; for a folder,
    ``parameters["template"]`` (``str.format`` with the frame index, default
    ``"{:06d}.tiff"``) names each frame's file. ``AD_TIFF`` resources use
    ``resource_kwargs`` ``template`` (``%s%s_%6.6d.tiff`` style), ``filename`` and
    ``frame_per_point`` with ``read_datum(point_number=N)``.
    """

    def __init__(self, doc: Mapping[str, Any], root_map: Mapping[str, str] | None = None) -> None:
        self.doc = doc
        self.path = resource_path(doc, root_map)
        if not self.path.exists():
            raise _missing(doc, self.path)
        self.params = dict(doc.get("parameters") or doc.get("resource_kwargs") or {})

    def _frame_file(self, index: int) -> Path:
        template = self.params.get("template", "{:06d}.tiff")
        if "%" in template:  # area-detector style: path, filename, number
            name = template % (str(self.path) + os.sep, self.params.get("filename", ""), index)
            return Path(name)
        return self.path / template.format(index)

    def read(self, start: int, stop: int) -> Any:
        import numpy as np
        import tifffile

        if self.path.is_file():
            with tifffile.TiffFile(self.path) as tif:
                return np.stack([tif.pages[i].asarray() for i in range(start, stop)])
        frames = []
        for i in range(start, stop):
            path = self._frame_file(i)
            if not path.exists():
                raise _missing(self.doc, path)
            frames.append(tifffile.imread(path))
        return np.stack(frames)

    def read_datum(self, point_number: int = 0, **_: Any) -> Any:
        n = int(self.params.get("frame_per_point", 1))
        frames = self.read(point_number * n, (point_number + 1) * n)
        return frames[0] if n == 1 else frames

    def close(self) -> None:
        pass


#: Readers every catalog has, by stream_resource mimetype or resource spec.
BUILTIN_READERS: Mapping[str, ReaderFactory] = {
    "application/x-hdf5": HDF5Reader,
    "AD_HDF5": HDF5Reader,
    "AD_HDF5_SWMR": HDF5Reader,
    "multipart/related;type=image/tiff": TIFFReader,
    "image/tiff": TIFFReader,
    "AD_TIFF": TIFFReader,
}


class ReaderRegistry:
    """Reader factories by key, and the open readers of one catalog."""

    def __init__(
        self,
        readers: Mapping[str, ReaderFactory] | None = None,
        root_map: Mapping[str, str] | None = None,
    ) -> None:
        self.factories: dict[str, ReaderFactory] = {**BUILTIN_READERS, **(readers or {})}
        self.root_map = dict(root_map or {})
        self._open: dict[str, Any] = {}

    def reader(self, doc: Mapping[str, Any]) -> Any:
        """The (cached) reader for a stream_resource or resource document."""
        uid = doc["uid"]
        if uid not in self._open:
            key = str(doc.get("mimetype") or doc.get("spec"))
            factory = self.factories.get(key)
            if factory is None:
                raise ExternalDataError(
                    f"no reader for {key!r} (resource {uid}, data key "
                    f"{doc.get('data_key', '?')!r}); known: {', '.join(sorted(self.factories))}."
                    " A plugin can add one through the cielo_readers hook"
                )
            self._open[uid] = factory(doc, root_map=self.root_map)
        return self._open[uid]

    def close(self) -> None:
        for reader in self._open.values():
            close = getattr(reader, "close", None)
            if close is not None:
                close()
        self._open.clear()
