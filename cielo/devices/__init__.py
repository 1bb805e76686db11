"""Devices: signals, devices, kinds, positioners, pseudo positioners and status helpers.

Devices are synchronous objects in the ophyd style: ``read()``/``describe()`` return
dicts, ``set()``/``trigger()`` return :class:`cielo.core.Status`, so they work in a plain
script and on the RunEngine alike.

Writing a new signal backend (a new transport)
----------------------------------------------
A :class:`Signal` keeps its name, kind and subscribers; where the value lives is the
business of its :class:`SignalBackend`. To add a transport, subclass ``SignalBackend``:

* ``source`` — a string with a scheme naming where the value lives (``"ca://XF:M1.RBV"``);
* ``connect(timeout) -> Status`` — *start* connecting and return at once; finish the
  status when connected, fail it with :class:`~cielo.core.ConnectionTimeoutError` naming
  the source on timeout (``connect_all`` starts every connection before waiting on any);
* ``connected`` — whether the link is up; ``disconnect()`` releases it;
* ``get_reading() -> {"value", "timestamp"[, "alarm_severity"]}``;
* ``get_datakey(source) -> DataKey`` — dtype, dtype_numpy, shape and what the transport
  knows of units, precision, limits (:func:`make_limits`), choices;
  :func:`infer_datakey` fills the first three from a value;
* ``put(value, *, wait, timeout) -> Status`` — done when the write completed
  (put-completion); leave it out for read-only transports;
* ``set_callback(callback | None)`` — call ``callback(reading)`` on each new value
  (one callback at a time; the signal fans out to its subscribers).

A device connected with ``connect(mock=True)`` (or ``connect_all(..., mock=True)``) swaps
every backend for a :class:`MockBackend` in memory, starting at the replaced backend's
``mock_value`` attribute if it has one, so devices are testable without hardware.

Then wrap it: ``Signal(backend)`` (read-only) or ``SignalRW(backend)``, or a subclass
whose ``__init__`` builds the backend from friendly arguments (``EpicsSignal(pv)``), so
that ``Cpt(EpicsSignal, suffix=".RBV")`` declares it inside a device.
"""

from ._backend import (
    MockBackend,
    ReadingCallback,
    SignalBackend,
    SoftBackend,
    infer_datakey,
    make_limits,
)
from ._base import Named
from ._connect import NotConnectedError, connect_all
from ._device import Cpt, Device
from ._kind import Kind, as_kind
from ._positioner import MoveStatus, Positioner, StoppedError
from ._pseudo import PseudoAxis, PseudoPositioner
from ._signal import (
    DEFAULT_TIMEOUT,
    DerivedSignal,
    DerivedSignalRW,
    Signal,
    SignalRW,
    SoftSignal,
    SoftSignalR,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "Cpt",
    "DerivedSignal",
    "DerivedSignalRW",
    "Device",
    "Kind",
    "MockBackend",
    "MoveStatus",
    "Named",
    "NotConnectedError",
    "Positioner",
    "PseudoAxis",
    "PseudoPositioner",
    "ReadingCallback",
    "Signal",
    "SignalBackend",
    "SignalRW",
    "SoftBackend",
    "SoftSignal",
    "SoftSignalR",
    "StoppedError",
    "as_kind",
    "connect_all",
    "infer_datakey",
    "make_limits",
]
