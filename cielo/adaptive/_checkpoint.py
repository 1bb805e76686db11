"""An agent service's saved state: what lets a restart, even after SIGKILL, go on exactly.

The file is JSON, replaced atomically (a reader sees the old state or the new, never half
of one). It keeps the agent's own snapshot (agents with ``snapshot()``/``restore()``) or
else the points it was told, the runs already told (a run the bus delivers again is not
told twice), the items submitted whose runs have not come back, and an item that was
about to be submitted when the state was written (the restart asks the queue whether it
arrived before submitting it again).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cielo.core import CieloError
from cielo.core.paths import write_json_atomic

__all__ = ["Checkpoint"]

VERSION = 1


class Checkpoint:
    """The state file of one agent service.

    :param path: where the state is kept (its folder is made when first written).
    :param identity: what the service is (agent name and parameters, motors, target);
        a file written by a service with another identity is refused, not mixed in.
    """

    def __init__(self, path: str | os.PathLike[str], identity: Mapping[str, Any]) -> None:
        self.path = Path(path)
        self.identity = json.loads(json.dumps(dict(identity)))

    def load(self) -> dict[str, Any] | None:
        """The saved state, ``None`` when there is none yet; a clear error when it is not
        this service's or cannot be read."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            state = json.loads(text)
        except ValueError as exc:
            raise CieloError(
                f"agent state {self.path} is not JSON ({exc}); move it away to start afresh"
            ) from None
        if not isinstance(state, dict) or state.get("version") != VERSION:
            raise CieloError(
                f"agent state {self.path} is not a version-{VERSION} agent state; move it "
                "away to start afresh"
            )
        if state.get("identity") != self.identity:
            raise CieloError(
                f"agent state {self.path} belongs to another agent service "
                f"({state.get('identity')!r}, this one is {self.identity!r}); give another "
                "--state file, or move it away to start afresh"
            )
        return state

    def save(self, state: Mapping[str, Any]) -> None:
        """Replace the file with ``state`` (plus version and identity), atomically and durably."""
        data = {"version": VERSION, "identity": self.identity, **state}
        write_json_atomic(self.path, data, durable=True)
