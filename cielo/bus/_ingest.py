"""The catalog writer as a bus consumer: each run stored exactly once, whatever fails.

:class:`CatalogIngest` is fed by a :class:`~cielo.bus.BusConsumer` with ``ack="run"``,
which re-delivers a run from its start after a crash or a storage failure. When a run's
start arrives, a copy already complete in the catalog is skipped (its entries were
stored but not yet acknowledged) and an incomplete copy (the consumer died mid-run) is
deleted and written again, so nothing is lost and nothing stored twice.

When retention trimmed entries before the ingest read them, the consumer's ``gap(info)``
names the runs that were open: each is closed in the catalog at once with a stop of
``exit_status`` ``"fail"`` and a reason naming the lost entries, so no run is left
incomplete. When a closed run's own stop arrives later (the trim took only its middle),
its remaining documents are stored and its stop replaces that one, still ``"fail"``, with
both reasons.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

__all__ = ["CatalogIngest"]

log = logging.getLogger("cielo.bus")
Document = dict[str, Any]


class CatalogIngest:
    """``callback(name, doc)`` writing runs from the bus into a catalog.

    :param open_catalog: ``open_catalog() -> catalog`` (called again after a failure, so
        a catalog server that went away is reconnected); the catalog has
        ``writer(on_duplicate=...)``, ``delete(uid)``, ``close_run(uid, exit_status=,
        reason=)``, ``uid in catalog`` and ``catalog[uid].stop``.
    :param writer_options: passed to ``catalog.writer()`` (``batch_size``, ``max_delay``).
    """

    def __init__(self, open_catalog: Callable[[], Any], **writer_options: Any) -> None:
        self.open_catalog = open_catalog
        self.writer_options = writer_options
        self.catalog: Any = None
        self.writer: Any = None
        #: runs written to their stop, incomplete copies replaced
        self.stored = 0
        self.replaced = 0
        #: runs closed as failed because the bus lost entries of them, by uid: the reason
        self.closed: dict[str, str] = {}
        self._skipped_before = 0
        self._damaged: dict[str, str] = {}  # closed runs whose own stop may still come

    @property
    def skipped(self) -> int:
        """Runs found complete in the catalog already (re-delivered after a crash)."""
        return self._skipped_before + (len(self.writer.skipped) if self.writer is not None else 0)

    def _open(self) -> Any:
        if self.writer is None:
            self.catalog = self.open_catalog()
            # a complete copy is skipped whole by the writer; an incomplete one is deleted below
            self.writer = self.catalog.writer(on_duplicate="skip", **self.writer_options)
        return self.writer

    def __call__(self, name: str, doc: Document) -> None:
        writer = self._open()
        if name == "start":
            uid = doc["uid"]
            if uid in self.catalog and self.catalog[uid].stop is None:
                log.warning("catalog ingest: run %s was stored incomplete; writing it again", uid)
                self.catalog.delete(uid)
                self.replaced += 1
        if name == "stop" and doc.get("run_start") in self._damaged:
            doc = _failed_stop(doc, self._damaged.pop(doc["run_start"]))
        writer(name, doc)
        if name == "stop" and doc.get("run_start") not in writer.skipped:
            self.stored += 1

    def gap(self, info: dict[str, Any]) -> None:
        """The bus lost ``info["missed"]`` entries before they were read: close the runs
        that were open (``info["open_runs"]``) as failed, naming the lost entries."""
        self._open().flush()  # what came before the loss is stored first
        after = (
            f"after entry {info['after']}"
            if info.get("after")
            else "after what it read before it restarted"
        )
        before = f"before entry {info['before']}" if info.get("before") else "up to the last"
        reason = (
            f"the document bus lost {info.get('missed', '?')} entries to retention (trimmed "
            f"before the catalog ingest read them: {after}, {before}) while this run was "
            "open; its documents from there on may be missing"
        )
        for uid in info.get("open_runs", []):
            try:
                closed = self.catalog.close_run(uid, exit_status="fail", reason=reason)
            except KeyError:  # RunNotFoundError: its start was never stored
                log.error("catalog ingest: run %s lost entries but is not in the catalog", uid)
                continue
            if closed:
                self.closed[uid] = self._damaged[uid] = reason
                log.error("catalog ingest: closed run %s as failed: %s", uid, reason)

    def flush(self) -> None:
        """Commit what was handed over (the consumer acknowledges only after this)."""
        if self.writer is not None:
            self.writer.flush()

    def reset(self) -> None:
        """Drop the writer and the catalog connection after a failure (reopened on demand)."""
        writer, catalog, self.writer, self.catalog = self.writer, self.catalog, None, None
        if writer is not None:
            self._skipped_before += len(writer.skipped)
        for obj in (writer, catalog):
            try:
                if obj is not None:
                    obj.close()
            except Exception as exc:  # the store is failing anyway; the next open says why
                log.debug("catalog ingest: closing after a failure: %s", exc)

    def close(self) -> None:
        writer, catalog = self.writer, self.catalog
        self.writer = self.catalog = None
        if writer is not None:
            writer.close()
        if catalog is not None:
            catalog.close()


def _failed_stop(stop: Document, reason: str) -> Document:
    """A run's own stop, arriving after the bus lost entries of it: still ``"fail"``, with
    both reasons; ``num_events`` left to the writer (what was stored, not what was sent)."""
    own = stop.get("exit_status")
    said = f"{own!r}" + (f" ({stop['reason']})" if stop.get("reason") else "")
    failed = {k: v for k, v in stop.items() if k != "num_events"}
    failed.update(exit_status="fail", reason=f"{reason}; the run's own stop said {said}")
    return failed
