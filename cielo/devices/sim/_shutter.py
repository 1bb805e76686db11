"""A simulated shutter that opens and closes after a short delay."""

from __future__ import annotations

import threading
from typing import Any, Literal

from cielo.core import Status
from cielo.core.protocols import Location

from .._device import Cpt, Device
from .._kind import Kind
from .._signal import SoftSignal, SoftSignalR

__all__ = ["SimShutter"]

ShutterState = Literal["open", "closed"]
_WORDS = {"open": "open", "opened": "open", "1": "open", "true": "open",
          "close": "closed", "closed": "closed", "0": "closed", "false": "closed"}  # fmt: skip


class SimShutter(Device):
    """A shutter: ``set("open")``/``set("closed")`` (or 1/0) finish after ``delay`` s.

    The reading, named after the device, is ``"open"`` or ``"closed"``.
    """

    state = Cpt(
        SoftSignalR, "closed", choices=["open", "closed"], kind=Kind.hinted, parent_name=True
    )
    setpoint = Cpt(SoftSignal, "closed", choices=["open", "closed"], kind=Kind.normal)
    delay = Cpt(SoftSignal, 0.0, kind=Kind.config, units="s")

    def __init__(
        self,
        *,
        name: str = "",
        kind: Kind | str | int = Kind.normal,
        parent: Any = None,
        delay: float = 0.05,
        initial: ShutterState = "closed",
    ) -> None:
        super().__init__(name=name, kind=kind, parent=parent)
        self.delay.put(float(delay))
        state = self._word(initial)
        self.setpoint.put(state)
        self.state.update(state)
        self._timer: threading.Timer | None = None

    def _word(self, value: Any) -> str:
        word = _WORDS.get(str(value).strip().lower())
        if word is None:
            raise ValueError(
                f"{self.name}: cannot set the shutter to {value!r}; use 'open' or 'closed'"
            )
        return word

    @property
    def is_open(self) -> bool:
        return self.state.get() == "open"

    def set(self, value: Any, *, timeout: float | None = None) -> Status:
        """Open or close; the status is done once the blade has moved."""
        target = self._word(value)
        self.setpoint.put(target)
        status = Status(self, timeout=timeout)
        seconds = self.delay.get()
        if seconds <= 0 or self.state.get() == target:
            self.state.update(target)
            status.set_finished()
            return status

        def _arrive() -> None:
            self.state.update(target)
            status.set_finished()

        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(seconds, _arrive)
        self._timer.daemon = True
        self._timer.start()
        return status

    def open(self) -> Status:
        return self.set("open")

    def close(self) -> Status:
        return self.set("closed")

    def locate(self) -> Location:
        return {"setpoint": self.setpoint.get(), "readback": self.state.get()}
