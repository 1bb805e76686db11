"""CSV export: one file per stream, one column per scalar data key."""

from __future__ import annotations

import csv
from typing import IO, Any

from cielo.storage import Suitcase

__all__ = ["CSVSuitcase"]

Document = dict[str, Any]


class CSVSuitcase(Suitcase):
    """Each stream of a run as ``<name>-<stream>.csv``: ``seq_num``, ``time``, then one
    column per scalar data key (arrays and external data are left to tiff/nexus).

    :param directory: folder of the files. :param file_template: name over run-start keys.
    :param delimiter: field separator (default ``,``).
    :param streams: only these streams (default all).
    """

    kind = "csv"

    def __init__(
        self,
        start: Document,
        *,
        delimiter: str = ",",
        streams: list[str] | None = None,
        **params: Any,
    ) -> None:
        self.delimiter = delimiter
        self.streams = None if streams is None else set(streams)
        self._files: dict[str, IO[str]] = {}
        self._writers: dict[str, Any] = {}  # stream -> csv writer
        self._columns: dict[str, list[str]] = {}  # stream -> data keys written
        self._stream_of: dict[str, str] = {}  # descriptor uid -> stream
        super().__init__(start, **params)

    def descriptor(self, doc: Document) -> None:
        stream = doc.get("name", "primary")
        if self.streams is not None and stream not in self.streams:
            return
        self._stream_of[doc["uid"]] = stream
        if stream in self._writers:
            return  # another descriptor of the same stream: same columns
        keys = [
            k for k, v in doc["data_keys"].items()
            if not v.get("shape") and not v.get("external")
        ]  # fmt: skip
        path = self.new_file(".csv", f"stream:{stream}", extra=f"-{stream}")
        f = self._files[stream] = open(path, "w", newline="", encoding="utf-8")
        writer = self._writers[stream] = csv.writer(f, delimiter=self.delimiter)
        writer.writerow(["seq_num", "time", *keys])
        self._columns[stream] = keys

    def event_page(self, doc: Document) -> None:
        stream = self._stream_of.get(doc["descriptor"])
        if stream is None:
            return
        keys = self._columns[stream]
        data = doc["data"]
        columns = [
            doc["seq_num"],
            doc["time"],
            *(data.get(k, [""] * len(doc["seq_num"])) for k in keys),
        ]
        self._writers[stream].writerows(zip(*columns, strict=True))

    def event(self, doc: Document) -> None:
        stream = self._stream_of.get(doc["descriptor"])
        if stream is None:
            return
        data = doc["data"]
        row = [doc["seq_num"], doc["time"], *(data.get(k, "") for k in self._columns[stream])]
        self._writers[stream].writerow(row)

    def stop(self, doc: Document) -> None:
        self.close()

    def close(self) -> None:
        for f in self._files.values():
            f.close()
        self._files.clear()
