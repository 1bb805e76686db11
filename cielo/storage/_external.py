"""Resolve references to external data while documents stream by (for writers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._documents import unpack_datum_page
from ._errors import ExternalDataError
from ._readers import ReaderFactory, ReaderRegistry

__all__ = ["ExternalData"]

Document = dict[str, Any]


class ExternalData:
    """Remember (stream_)resource and (stream_)datum documents; give arrays back.

    Feed every document with :meth:`add`; then :meth:`datum` turns a datum id from an
    event into its array, and :meth:`stream_frames` gives ``{seq_num: array}`` for a
    data key of a descriptor, from the stream_datum documents seen.
    """

    def __init__(
        self,
        readers: Mapping[str, ReaderFactory] | None = None,
        root_map: Mapping[str, str] | None = None,
    ) -> None:
        self.registry = ReaderRegistry(readers, root_map)
        self.resources: dict[str, Document] = {}
        self.datums: dict[str, Document] = {}
        self.stream_datums: list[Document] = []

    def add(self, name: str, doc: Document) -> None:
        if name in ("resource", "stream_resource"):
            self.resources[doc["uid"]] = doc
        elif name == "datum":
            self.datums[doc["datum_id"]] = doc
        elif name == "datum_page":
            self.datums.update((d["datum_id"], d) for d in unpack_datum_page(doc))
        elif name == "stream_datum":
            self.stream_datums.append(doc)

    def datum(self, datum_id: str) -> Any:
        datum = self.datums.get(datum_id)
        if datum is None:
            raise ExternalDataError(f"datum {datum_id!r} was referenced before it was seen")
        resource = self.resources[datum["resource"]]
        return self.registry.reader(resource).read_datum(**datum["datum_kwargs"])

    def stream_frames(self, descriptor: str, key: str) -> dict[int, Any]:
        out: dict[int, Any] = {}
        for sd in self.stream_datums:
            resource = self.resources.get(sd["stream_resource"])
            if (
                sd["descriptor"] != descriptor
                or resource is None
                or resource.get("data_key") != key
            ):
                continue
            idx, seqs = sd["indices"], sd["seq_nums"]
            frames = self.registry.reader(resource).read(idx["start"], idx["stop"])
            for i, seq in enumerate(range(seqs["start"], seqs["stop"])):
                out[seq] = frames[i]
        return out

    def close(self) -> None:
        self.registry.close()
