"""TIFF export: the frames of area detectors, one multi-page TIFF per stream and key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cielo.storage import Suitcase

from ._external import ExternalFrames

__all__ = ["TIFFSuitcase"]

Document = dict[str, Any]


class TIFFSuitcase(ExternalFrames, Suitcase):
    """Frames of every image-valued data key (``shape`` of 2 or more dimensions) as
    ``<name>-<stream>-<key>.tiff``, one page per frame in ``seq_num`` order.

    Frames carried in events are written as they arrive; frames stored outside the
    documents (stream_resource/stream_datum, resource/datum) are read with the
    catalog's readers at the stop document, once the detector has closed its files.

    :param directory: folder of the files. :param file_template: name over run-start keys.
    :param root_map: ``{old_root: new_root}`` for external files that moved.
    :param bigtiff: write BigTIFF (for files over 4 GB).
    """

    kind = "tiff"

    def __init__(
        self,
        start: Document,
        *,
        root_map: Mapping[str, str] | None = None,
        bigtiff: bool = False,
        **params: Any,
    ) -> None:
        self._init_external(root_map)
        self.bigtiff = bigtiff
        self._images: dict[str, list[str]] = {}  # descriptor -> inline image keys
        self._external: dict[str, list[str]] = {}  # descriptor -> external image keys
        self._stream_of: dict[str, str] = {}
        self._writers: dict[tuple[str, str], Any] = {}
        super().__init__(start, **params)

    def descriptor(self, doc: Document) -> None:
        stream = doc.get("name", "primary")
        self._stream_of[doc["uid"]] = stream
        images = [k for k, v in doc["data_keys"].items() if len(v.get("shape") or []) >= 2]
        self._images[doc["uid"]] = [k for k in images if not doc["data_keys"][k].get("external")]
        self._external[doc["uid"]] = [k for k in images if doc["data_keys"][k].get("external")]

    def _write(self, stream: str, key: str, frame: Any) -> None:
        import numpy as np
        import tifffile

        writer = self._writers.get((stream, key))
        if writer is None:
            path = self.new_file(".tiff", f"{stream}:{key}", extra=f"-{stream}-{key}")
            writer = self._writers[(stream, key)] = tifffile.TiffWriter(path, bigtiff=self.bigtiff)
        frame = np.asarray(frame)
        for page in frame.reshape(-1, *frame.shape[-2:]):
            writer.write(page, photometric="minisblack", contiguous=True)

    def event(self, doc: Document) -> None:
        descriptor = doc["descriptor"]
        stream = self._stream_of.get(descriptor)
        if stream is None:
            return
        for key in self._images[descriptor]:
            self._write(stream, key, doc["data"][key])
        for key in self._external[descriptor]:
            self.note_datum(descriptor, key, doc)

    def stop(self, doc: Document) -> None:
        for descriptor, keys in self._external.items():
            stream = self._stream_of[descriptor]
            for key in keys:
                frames = self.frames(descriptor, key)
                for seq in sorted(frames):
                    self._write(stream, key, frames[seq])

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        self.external.close()
