"""A callback that keeps a beamline logbook: one line per finished run in a text file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["run_logbook"]


def run_logbook(path: str = "logbook.txt") -> Callable[[str, dict[str, Any]], None]:
    """Append ``uid scan_id plan_name exit_status num_events`` for each run that stops.

    :param path: the logbook file (created with its directory if missing).
    :returns: ``callback(name, doc)``; it follows any number of runs, also interleaved.
    """
    logbook = Path(path).expanduser()
    starts: dict[str, dict[str, Any]] = {}

    def callback(name: str, doc: dict[str, Any]) -> None:
        if name == "start":
            starts[doc["uid"]] = doc
        elif name == "stop":
            start = starts.pop(doc["run_start"], {})
            events = sum((doc.get("num_events") or {}).values())
            line = (
                f"{doc['run_start']} {start.get('scan_id', '-')} "
                f"{start.get('plan_name', '-')} {doc['exit_status']} {events}\n"
            )
            logbook.parent.mkdir(parents=True, exist_ok=True)
            with logbook.open("a", encoding="utf-8") as f:
                f.write(line)

    return callback
