"""What the suitcases that copy detector frames share: resource/datum documents kept,
frames given back by event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cielo.storage import ExternalData

__all__ = ["ExternalFrames"]

Document = dict[str, Any]


class ExternalFrames:
    """Mixin: keep (stream_)resource and (stream_)datum documents, note the datum ids
    events refer to, and give each external data key's frames back at the stop."""

    def _init_external(self, root_map: Mapping[str, str] | None) -> None:
        self.external = ExternalData(root_map=root_map)
        self._datum_refs: dict[tuple[str, str], list[tuple[int, str]]] = {}

    def resource(self, doc: Document) -> None:
        self.external.add("resource", doc)

    def stream_resource(self, doc: Document) -> None:
        self.external.add("stream_resource", doc)

    def datum(self, doc: Document) -> None:
        self.external.add("datum", doc)

    def stream_datum(self, doc: Document) -> None:
        self.external.add("stream_datum", doc)

    def note_datum(self, descriptor: str, key: str, event: Document) -> None:
        """Remember the datum id ``event`` gives for ``key`` (resource/datum style)."""
        ref = event["data"].get(key)
        if ref is not None:
            self._datum_refs.setdefault((descriptor, key), []).append((event["seq_num"], ref))

    def frames(self, descriptor: str, key: str) -> dict[int, Any]:
        """``{seq_num: array}`` of ``key``: from stream_datum documents and datum ids."""
        frames = self.external.stream_frames(descriptor, key)
        for seq, ref in self._datum_refs.get((descriptor, key), []):
            frames[seq] = self.external.datum(ref)
        return frames
