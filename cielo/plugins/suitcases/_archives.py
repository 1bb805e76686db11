"""Lossless document archives: JSON lines and msgpack, one file per run."""

from __future__ import annotations

from typing import IO, Any

from cielo.storage import Suitcase, SuitcaseError, dumps
from cielo.storage._archive import msgpack_default

__all__ = ["JSONLSuitcase", "MsgpackSuitcase"]

Document = dict[str, Any]


class JSONLSuitcase(Suitcase):
    """Every document of a run as one ``[name, doc]`` JSON array per line (``.jsonl``).

    Lossless and replayable: ``cielo.storage.replay(path, callback)`` or
    ``cielo catalog import FILE.jsonl``. Lines are flushed at each descriptor and at
    the stop document, and every ``flush_every`` documents.

    :param directory: folder of the files. :param file_template: name over run-start keys.
    :param flush_every: documents between flushes to disk.
    """

    kind = "jsonl"

    def __init__(self, start: Document, *, flush_every: int = 1000, **params: Any) -> None:
        self.flush_every = int(flush_every)
        self._n = 0
        self._file: IO[str] | None = None
        super().__init__(start, **params)

    @classmethod
    def check(cls, params: dict[str, Any]) -> None:
        super().check(params)
        flush_every = params.get("flush_every", 1000)
        if isinstance(flush_every, bool) or not isinstance(flush_every, int) or flush_every < 1:
            raise SuitcaseError(
                f"flush_every must be a whole number of documents, at least 1, not {flush_every!r}"
            )

    def start(self, doc: Document) -> None:
        self.path = self.new_file(".jsonl", "archive")
        self._file = open(self.path, "w", encoding="utf-8")
        self._write("start", doc)

    def _write(self, name: str, doc: Document) -> None:
        assert self._file is not None
        self._file.write(dumps([name, doc]) + "\n")
        self._n += 1
        if name in ("descriptor", "stop") or self._n % self.flush_every == 0:
            self._file.flush()

    def __call__(self, name: str, doc: Document) -> None:
        if name != "start":
            self._write(name, doc)
        if name == "stop":
            self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class MsgpackSuitcase(Suitcase):
    """Every document of a run as a msgpack stream of ``[name, doc]`` (``.msgpack``).

    :param directory: folder of the files. :param file_template: name over run-start keys.
    """

    kind = "msgpack"

    def __init__(self, start: Document, **params: Any) -> None:
        self._file: IO[bytes] | None = None
        super().__init__(start, **params)

    def start(self, doc: Document) -> None:
        import msgpack

        self._packer = msgpack.Packer(default=msgpack_default, use_bin_type=True)
        self.path = self.new_file(".msgpack", "archive")
        self._file = open(self.path, "wb")
        self._file.write(self._packer.pack(["start", doc]))

    def __call__(self, name: str, doc: Document) -> None:
        if name != "start" and self._file is not None:
            self._file.write(self._packer.pack([name, doc]))
        if name == "stop":
            self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
