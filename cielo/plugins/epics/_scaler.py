"""``EpicsScaler``: a scaler-like counter (CNT, TP, T, S1..Sn)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cielo.core import DeviceError, Status, StatusTimeoutError
from cielo.devices import Device, Kind

from ._backend import when_ready
from ._batch import EpicsReadMixin
from ._done import ANSWER_TIMEOUT, DoneWatcher, check_answer_timeout, on_event_loop
from ._signal import EpicsSignal, EpicsSignalRO, ca_backend

__all__ = ["EpicsScaler"]


class EpicsScaler(EpicsReadMixin, Device):
    """A scaler ``prefix``: ``trigger()`` counts for the preset time.

    ``trigger()`` writes ``CNT=1`` with put-completion; the count is done when ``CNT``
    has gone to 1 and back to 0 (and the put has completed). ``read()`` gives each
    channel's counts (``S<n>``) and the elapsed time (``T``).

    Parameters
    ----------
    prefix
        The scaler record's name.
    channels
        Channel names to numbers, e.g. ``{"I0": 2, "det": 3}``; the first name is the
        hinted one. Default: ``chan1``..``chan3``.
    preset_time
        Counting time in seconds written to ``TP`` on :meth:`stage` (``None`` keeps
        the IOC's).
    separator
        ``"."`` for a scaler record, ``":"`` for the demo IOC's.
    answer_timeout
        While counting, the IOC is asked for ``CNT`` every half second; no answer within
        this many seconds (a hung IOC) fails the count naming the PV.
    """

    count: EpicsSignal
    preset_time: EpicsSignal
    elapsed: EpicsSignalRO

    def __init__(
        self,
        prefix: str,
        *,
        channels: Mapping[str, int] | None = None,
        preset_time: float | None = None,
        separator: str = ".",
        name: str = "",
        kind: Kind | str | int = Kind.normal,
        parent: Any = None,
        answer_timeout: float = ANSWER_TIMEOUT,
    ) -> None:
        super().__init__(prefix, name=name, kind=kind, parent=parent)
        self.answer_timeout = check_answer_timeout(answer_timeout)
        chans = dict(channels) if channels else {f"chan{i}": i for i in (1, 2, 3)}
        for label, number in chans.items():
            if not label.isidentifier() or label.startswith("_"):
                raise ValueError(
                    f"scaler channel name {label!r} must be a Python identifier "
                    "(letters, digits, underscores; not starting with a digit or '_')"
                )
            if not isinstance(number, int) or number < 1:
                raise ValueError(
                    f"scaler channel {label!r}: {number!r} is not a channel number >= 1"
                )
        f = f"{prefix}{separator}".__add__
        self.count = EpicsSignal(f("CNT"), string=False, kind=Kind.omitted)
        self.preset_time = EpicsSignal(f("TP"), kind=Kind.config)
        self.elapsed = EpicsSignalRO(f("T"), kind=Kind.normal)
        self.channel_numbers = chans
        for i, (label, number) in enumerate(chans.items()):
            setattr(
                self,
                label,
                EpicsSignalRO(f(f"S{number}"), kind=Kind.hinted if i == 0 else Kind.normal),
            )
        self._preset = preset_time

    @property
    def channels(self) -> dict[str, EpicsSignalRO]:
        """The count signals by channel name."""
        return {label: getattr(self, label) for label in self.channel_numbers}

    def stage(self) -> Status:
        """Write the preset time to ``TP``; on an event loop (the RunEngine's) the status
        of the write is returned for the engine to await, elsewhere it is waited for.
        An IOC that does not complete the write within ``answer_timeout`` fails it."""
        staged = super().stage()
        if self._preset is None:
            return staged
        preset = float(self._preset)
        written = Status(self)
        pv = self.preset_time.setpoint_pvname

        def _written(put: Status) -> None:
            exc = put.exception()
            if exc is None:
                written.set_finished()
            elif isinstance(exc, StatusTimeoutError):
                written.set_exception(
                    DeviceError(
                        f"{self.name}: {pv} did not complete the write of {preset:g} within "
                        f"{self.answer_timeout:g} s (is the IOC hung? check it, e.g. caget "
                        f"{pv}; a larger answer_timeout=... waits longer)"
                    )
                )
            else:
                written.set_exception(exc)

        self.preset_time.set(preset, timeout=self.answer_timeout).add_callback(_written)
        if not on_event_loop():
            written.wait()
        return written

    def trigger(self) -> Status:
        """Count for the preset time; the status is done when counting has ended."""
        status = Status(self)

        def _connected(error: BaseException | None) -> None:
            # at once when CNT is up; else once it connected (nothing waits on the loop)
            if error is not None:
                status.set_exception(error)
                return
            try:
                watcher = DoneWatcher(
                    status,
                    self.count,
                    busy=1,
                    done=0,
                    answer_timeout=self.answer_timeout,
                    device=self.name,
                    action="the count",
                )
                watcher.track_put(self.count.set(1))
            except Exception as exc:
                status.set_exception(exc)

        when_ready([ca_backend(self.count)], _connected)
        return status
