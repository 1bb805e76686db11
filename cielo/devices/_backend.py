"""Signal backends: the transport behind a signal (memory, EPICS, ...).

A :class:`~cielo.devices.Signal` owns a name, a kind and its subscribers; everything that
depends on where the value lives is delegated to a :class:`SignalBackend`. Swapping the
backend swaps the transport without touching devices built on the signal.
"""

from __future__ import annotations

import enum
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from cielo.core import DeviceError, Status, finished_status
from cielo.core.protocols import DataKey, Dtype, Reading

__all__ = [
    "SignalBackend",
    "SoftBackend",
    "MockBackend",
    "ReadingCallback",
    "infer_datakey",
    "make_limits",
]

T = TypeVar("T")
#: What a backend calls on every new value: ``callback(reading)``.
ReadingCallback = Callable[[Reading], None]


class SignalBackend(ABC, Generic[T]):
    """The transport of one signal.

    Implement :attr:`source`, :meth:`connect`, :meth:`get_reading`, :meth:`get_datakey`,
    :meth:`set_callback` and, for writable signals, :meth:`put`. Methods may be called
    from any thread.
    """

    @property
    @abstractmethod
    def source(self) -> str:
        """Where the value lives, with a scheme (``"soft://motor1"``, ``"ca://XF:MTR.RBV"``)."""

    @property
    def connected(self) -> bool:
        """True once :meth:`connect` has succeeded (and the link is still up)."""
        return True

    @abstractmethod
    def connect(self, timeout: float | None) -> Status:
        """Start connecting; return a status done when connected.

        Must not block: many signals connect concurrently by starting all connections,
        then waiting on all statuses. On timeout, fail the status with
        :class:`~cielo.core.ConnectionTimeoutError` naming :attr:`source`.
        """

    def disconnect(self) -> None:
        """Release the transport (close channels); the default does nothing."""

    @abstractmethod
    def get_reading(self) -> Reading:
        """The current value, its timestamp and (optionally) ``alarm_severity``."""

    def get_value(self) -> T:
        """The current value alone."""
        value: T = self.get_reading()["value"]
        return value

    @abstractmethod
    def get_datakey(self, source: str) -> DataKey:
        """The event-model data key: dtype, dtype_numpy, shape and any known
        units, precision, limits, choices; ``source`` is filled in by the caller."""

    def put(self, value: T, *, wait: bool = True, timeout: float | None = None) -> Status:
        """Write ``value``; the status is done when the write has completed
        (put-completion for EPICS) — at once when ``wait`` is false."""
        raise DeviceError(f"{self.source} is read-only; it cannot be written")

    @abstractmethod
    def set_callback(self, callback: ReadingCallback | None) -> None:
        """Call ``callback(reading)`` on each new value (``None`` stops). At most one
        callback at a time: the signal fans out to its own subscribers."""


class SoftBackend(SignalBackend[T]):
    """A value held in memory: always connected; writes are immediate.

    Parameters
    ----------
    initial
        The first value; its type is the signal's type (puts are converted to it).
    units, precision, limits
        Described in :meth:`get_datakey`; ``limits`` is ``(low, high)`` control limits.
    choices
        Allowed values of a string/enum signal.
    """

    def __init__(
        self,
        initial: T,
        *,
        units: str | None = None,
        precision: int | None = None,
        limits: tuple[float, float] | None = None,
        choices: Sequence[str] | None = None,
        source: str = "",
    ) -> None:
        self._lock = threading.Lock()
        self._value = initial
        self._timestamp = time.time()
        self._type = type(initial)
        self._callback: ReadingCallback | None = None
        self.units = units
        self.precision = precision
        self.limits = limits
        self.choices = list(choices) if choices is not None else None
        self._source = source

    @property
    def source(self) -> str:
        return self._source or "soft://"

    @source.setter
    def source(self, value: str) -> None:
        self._source = value

    def connect(self, timeout: float | None) -> Status:
        return finished_status(self)

    def get_reading(self) -> Reading:
        with self._lock:
            return {"value": self._value, "timestamp": self._timestamp}

    def get_value(self) -> T:
        return self._value

    def get_datakey(self, source: str) -> DataKey:
        key = infer_datakey(self._value, source)
        if self.units is not None:
            key["units"] = self.units
        if self.precision is not None:
            key["precision"] = self.precision
        if self.limits is not None:
            key["limits"] = make_limits(control=self.limits)
        if self.choices is not None:
            key["choices"] = self.choices
        return key

    def _convert(self, value: Any) -> T:
        kind: Any = self._type
        if kind in (float, int, str, bool) and not isinstance(value, kind):
            if kind is int and isinstance(value, float) and not value.is_integer():
                raise ValueError(f"{self.source}: {value!r} is not an integer")
            try:
                value = kind(value)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{self.source}: cannot write {value!r} to a signal of type {kind.__name__}"
                ) from None
        if self.choices is not None and str(value) not in self.choices:
            raise ValueError(f"{self.source}: {value!r} is not one of {self.choices}")
        return value  # type: ignore[no-any-return]

    def put(self, value: T, *, wait: bool = True, timeout: float | None = None) -> Status:
        self.set_value(value)
        return finished_status(self)

    def set_value(self, value: Any, timestamp: float | None = None) -> None:
        """Store ``value`` (converted to the signal's type) and notify the callback."""
        value = self._convert(value)
        with self._lock:
            self._value = value
            self._timestamp = time.time() if timestamp is None else timestamp
            reading: Reading = {"value": value, "timestamp": self._timestamp}
            callback = self._callback
        if callback is not None:
            callback(reading)

    def set_callback(self, callback: ReadingCallback | None) -> None:
        self._callback = callback


class MockBackend(SoftBackend[Any]):
    """Stands in for another backend when a device is connected with ``mock=True``:
    held in memory, always connected, recording every put in :attr:`puts`.

    The first value is the replaced backend's ``mock_value`` attribute when it has one,
    else ``0.0``; tests change it with ``signal.backend.set_value(v)``.
    """

    def __init__(self, replaced: SignalBackend[Any]) -> None:
        super().__init__(getattr(replaced, "mock_value", 0.0))
        self.replaced = replaced
        self.puts: list[Any] = []
        self._source = f"mock+{replaced.source}"

    def put(self, value: Any, *, wait: bool = True, timeout: float | None = None) -> Status:
        self.puts.append(value)
        return super().put(value, wait=wait, timeout=timeout)


def make_limits(
    *,
    control: tuple[float, float] | None = None,
    display: tuple[float, float] | None = None,
    warning: tuple[float, float] | None = None,
    alarm: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """An event-model ``limits`` mapping from ``(low, high)`` pairs."""
    ranges = {"control": control, "display": display, "warning": warning, "alarm": alarm}
    return {
        key: {"low": float(pair[0]), "high": float(pair[1])}
        for key, pair in ranges.items()
        if pair is not None
    }


_SCALARS: tuple[tuple[type, Dtype, str], ...] = (
    (bool, "boolean", "|b1"),
    (int, "integer", "<i8"),
    (float, "number", "<f8"),
)


def infer_datakey(value: Any, source: str) -> DataKey:
    """A data key (dtype, dtype_numpy, shape) describing ``value``."""
    if isinstance(value, enum.Enum):
        return {
            "source": source,
            "dtype": "string",
            "dtype_numpy": "|S40",
            "shape": [],
            "choices": [str(m.value) for m in type(value)],
        }
    for kind, dtype, dtype_numpy in _SCALARS:
        if isinstance(value, kind):
            return {"source": source, "dtype": dtype, "dtype_numpy": dtype_numpy, "shape": []}
    if isinstance(value, str):
        return {"source": source, "dtype": "string", "dtype_numpy": "|S40", "shape": []}
    module = type(value).__module__
    if module == "numpy" or isinstance(value, list | tuple):
        import numpy as np  # only when arrays are in play

        arr = np.asarray(value)
        if arr.ndim == 0:
            item = arr.item()
            key = infer_datakey(item, source)
            key["dtype_numpy"] = arr.dtype.str
            return key
        return {
            "source": source,
            "dtype": "array",
            "dtype_numpy": arr.dtype.str,
            "shape": list(arr.shape),
        }
    raise TypeError(
        f"{source}: cannot describe a value of type {type(value).__name__}; "
        "use a number, string, bool, enum or array"
    )
