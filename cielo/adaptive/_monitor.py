"""Asynchronous, decoupled feedback: watch a value in the documents, act and flag runs.

:class:`Monitor` follows documents (from the bus, or a RunEngine) and watches one data
key. When the value leaves its window it calls an action (stop and pause the queue), and
it flags every run during which the value was outside: a flag is a small run of its own
(start and stop documents, event-model valid) whose start names the flagged run
(``flagged_run``), the reason, the value and the window. Stored in the catalog beside
the runs, flags are found with ``catalog.search({"flagged_run": uid})`` (:func:`run_flags`)
and travel wherever documents do (archives, the bus, other catalogs).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["FLAG_PLAN", "Monitor", "flag_documents", "run_flags"]

log = logging.getLogger("cielo.adaptive")

#: The ``plan_name`` of flag runs.
FLAG_PLAN = "flag"
_FLAGS = uuid.UUID("6f1d3a52-4c1e-4a43-9a57-0c1e10f1a9a5")  # namespace of flag uids

Documents = list[tuple[str, dict[str, Any]]]


def flag_documents(
    run: Mapping[str, Any],
    reason: str,
    *,
    field: str,
    value: float,
    window: tuple[float | None, float | None],
    by: str = "cielo agent monitor",
) -> Documents:
    """The start and stop documents of a flag on ``run`` (its start document).

    The uids come from the flagged run, the field and who flags, so flagging the same run
    again (a monitor restarted, documents delivered twice) gives the same documents,
    which a catalog stores once.
    """
    key = f"{run['uid']}:{field}:{by}"
    start = {
        "uid": str(uuid.uuid5(_FLAGS, key)),
        "time": time.time(),
        "plan_name": FLAG_PLAN,
        "flagged_run": run["uid"],
        "flag": reason,
        "flag_field": field,
        "flag_value": value,
        "flag_window": list(window),
        "flagged_by": by,
    }
    if "scan_id" in run:
        start["flagged_scan_id"] = run["scan_id"]
    stop = {
        "uid": str(uuid.uuid5(_FLAGS, key + ":stop")),
        "time": start["time"],
        "run_start": start["uid"],
        "exit_status": "success",
        "reason": "",
        "num_events": {},
    }
    return [("start", start), ("stop", stop)]


def run_flags(catalog: Any, uid: str) -> list[dict[str, Any]]:
    """The flags on run ``uid`` in ``catalog`` (the flag runs' start documents), oldest first."""
    flags = catalog.search({"flagged_run": uid, "plan_name": FLAG_PLAN})
    return sorted((run.start for run in flags.values()), key=lambda start: start["time"])


class Monitor:
    """Watch a field of the events; act when it leaves [low, high] and flag the runs.

    The action fires once when the value leaves the window and again only after the value
    came back inside (a beam that stays down pauses the queue once). Every run with a
    value outside the window is flagged once, through ``flag(documents)``. ``low`` or
    ``high`` may be ``None`` (no bound on that side).

    :param field: the data key to watch (``beam_current``).
    :param action: ``action(reason)``, e.g. stop the queue and pause the running plan;
        ``None``: only flag.
    :param flag: ``flag(documents)`` stores a flag's documents (a catalog's
        ``import_documents``, a bus publisher); ``None``: no flags.
    :param by: who flags, recorded in the flags (``monitor.beam_current``).
    """

    def __init__(
        self,
        field: str,
        action: Callable[[str], Any] | None,
        *,
        low: float | None = None,
        high: float | None = None,
        flag: Callable[[Documents], Any] | None = None,
        by: str = "cielo agent monitor",
    ) -> None:
        if low is None and high is None:
            raise ValueError(f"Monitor {field!r}: give low, high or both")
        if low is not None and high is not None and not low < high:
            raise ValueError(f"Monitor {field!r}: need low < high, got {low} and {high}")
        self.field, self.action, self.low, self.high = field, action, low, high
        self.flag, self.by = flag, by
        self.tripped = False
        #: ``(reason, time)`` each time the action fired
        self.trips: list[tuple[str, float]] = []
        #: ``{run uid: reason}`` of the runs flagged
        self.flagged: dict[str, str] = {}
        self._runs: dict[str, dict[str, Any]] = {}  # run uid -> start (or {"uid": uid})
        self._descriptors: dict[str, str] = {}  # descriptor uid -> run uid

    def __call__(self, name: str, doc: dict[str, Any]) -> None:
        if name == "start":
            self._runs[doc["uid"]] = doc
            return
        if name == "descriptor":
            self._descriptors[doc["uid"]] = doc["run_start"]
            return
        if name == "stop":
            self._runs.pop(doc["run_start"], None)
            self._descriptors = {d: r for d, r in self._descriptors.items()
                                 if r != doc["run_start"]}  # fmt: skip
            return
        if name == "event":
            values: Iterable[Any] = [doc["data"].get(self.field)]
        elif name == "event_page":
            values = doc["data"].get(self.field, [])
        else:
            return
        run = self._descriptors.get(doc["descriptor"])
        for value in values:
            if value is not None:
                self.check(float(value), run)

    def window(self) -> str:
        return (f"[{self.low if self.low is not None else '-inf'}, "
                f"{self.high if self.high is not None else 'inf'}]")  # fmt: skip

    def check(self, value: float, run: str | None = None) -> None:
        """One value of the field, read in run ``run`` (its uid, if known): trips (once per
        excursion) and flags the run (once) when the value is outside the window."""
        outside = (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        )
        if not outside:
            self.tripped = False
            return
        reason = f"{self.field} = {value} is outside {self.window()}"
        if run is not None and run not in self.flagged:
            self._flag(run, reason, value)
        if self.tripped:
            return
        self.tripped = True
        self.trips.append((reason, time.time()))
        log.error("monitor: %s; acting", reason)
        if self.action is None:
            return
        try:
            self.action(reason)
        except Exception as exc:
            log.error("monitor: the action on %r failed: %s: %s", reason, type(exc).__name__, exc)

    def _flag(self, run: str, reason: str, value: float) -> None:
        self.flagged[run] = reason
        if self.flag is None:
            return
        start = self._runs.get(run, {"uid": run})
        documents = flag_documents(start, reason, field=self.field, value=value,
                                   window=(self.low, self.high), by=self.by)  # fmt: skip
        try:
            self.flag(documents)
        except Exception as exc:  # a flag that cannot be stored must not stop the action
            log.error("monitor: could not flag run %s (%s): %s: %s", run, reason,
                      type(exc).__name__, exc)  # fmt: skip
