"""EPICS signals: :class:`cielo.devices.Signal` on a Channel Access backend."""

from __future__ import annotations

from typing import Any, ClassVar

from cielo.core.protocols import Location
from cielo.devices import Kind, Signal, SignalRW

from ._backend import CaBackend

__all__ = ["EpicsSignal", "EpicsSignalRO", "ca_backend"]


def ca_backend(signal: Signal[Any]) -> CaBackend:
    """The :class:`CaBackend` of an EPICS signal (a clear error for any other signal)."""
    backend = signal.backend
    if not isinstance(backend, CaBackend):
        raise TypeError(f"{signal.name!r} is not an EPICS signal (its source is {signal.source})")
    return backend


class EpicsSignalRO(Signal[Any]):
    """A read-only signal on the PV ``read_pv``: ``EpicsSignalRO("XF:31ID:TEMP", name="t")``.

    Readings carry the IOC's timestamp and ``alarm_severity``; ``describe()`` carries
    units, precision and limits from the PV's control information. Enum PVs read as
    their strings unless ``string=False``. ``use_monitor=True`` reads the monitor's
    latest value instead of a fresh get (for values no trigger or move changes).
    """

    #: The RunEngine reads it in a worker thread (a read waits for the IOC's answer).
    blocking_reads: ClassVar[bool] = True

    def __init__(
        self,
        read_pv: str,
        *,
        string: bool = True,
        use_monitor: bool = False,
        name: str = "",
        kind: Kind | str | int = Kind.hinted,
        parent: Any = None,
    ) -> None:
        backend = CaBackend(read_pv, "", string=string, use_monitor=use_monitor)
        super().__init__(backend, name=name, kind=kind, parent=parent)

    @property
    def pvname(self) -> str:
        return ca_backend(self).read_pv


class EpicsSignal(SignalRW[Any]):
    """A read-write signal: reads ``read_pv``, writes ``write_pv`` (``read_pv`` if not given).

    ``set(value)`` returns a status done when the IOC completes the put
    (put-completion); ``put(value)`` blocks until then. ``use_monitor`` as for
    :class:`EpicsSignalRO`.
    """

    #: The RunEngine reads it in a worker thread (a read waits for the IOC's answer).
    blocking_reads: ClassVar[bool] = True

    def __init__(
        self,
        read_pv: str,
        write_pv: str | None = None,
        *,
        string: bool = True,
        use_monitor: bool = False,
        name: str = "",
        kind: Kind | str | int = Kind.hinted,
        parent: Any = None,
    ) -> None:
        backend = CaBackend(read_pv, write_pv or None, string=string, use_monitor=use_monitor)
        super().__init__(backend, name=name, kind=kind, parent=parent)

    @property
    def pvname(self) -> str:
        return ca_backend(self).read_pv

    @property
    def setpoint_pvname(self) -> str:
        return ca_backend(self).write_pv

    def locate(self) -> Location:
        """``setpoint`` is the write PV's value, ``readback`` the read PV's."""
        backend = ca_backend(self)
        readback = self.get()
        setpoint = backend.get_setpoint() if backend.write_pv != backend.read_pv else readback
        return {"setpoint": setpoint, "readback": readback}
