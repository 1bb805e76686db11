"""Signals: one value each, read and described; writable, soft (in memory) or derived."""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from cielo.core import ConnectionTimeoutError, DeviceError, Status, finished_status, status_all
from cielo.core.protocols import DataKey, Hints, Location, Reading

from ._backend import MockBackend, ReadingCallback, SignalBackend, SoftBackend, infer_datakey
from ._base import Named
from ._kind import Kind

__all__ = [
    "Signal",
    "SignalRW",
    "SoftSignal",
    "SoftSignalR",
    "DerivedSignal",
    "DerivedSignalRW",
    "DEFAULT_TIMEOUT",
]

T = TypeVar("T")
logger = logging.getLogger(__name__)
#: Seconds to wait for a connection when no timeout is given.
DEFAULT_TIMEOUT = 10.0
Subscriber = Callable[..., None]
_tokens = itertools.count(1)


class Signal(Named, Generic[T]):
    """A read-only signal: its value comes from a :class:`SignalBackend`.

    Parameters
    ----------
    backend
        The transport (memory, EPICS, derived, ...).
    name
        The data key in ``read()``/``describe()``.
    kind
        Its role inside a device; a lone signal is ``hinted``.
    """

    def __init__(
        self,
        backend: SignalBackend[T],
        *,
        name: str = "",
        kind: Kind | str | int = Kind.hinted,
        parent: Any = None,
    ) -> None:
        super().__init__(name=name, kind=kind, parent=parent)
        self._backend = backend
        self._subs: dict[int, Subscriber] = {}
        self._subs_lock = threading.Lock()
        self._last: Reading | None = None
        self._name_soft_source()

    def set_name(self, name: str) -> None:
        super().set_name(name)
        self._name_soft_source()

    def _name_soft_source(self) -> None:
        backend = self.__dict__.get("_backend")
        if type(backend) is SoftBackend and backend.source.startswith("soft://"):
            backend.source = f"soft://{self.name}"  # follows the signal's name

    # -- transport ---------------------------------------------------------
    @property
    def backend(self) -> SignalBackend[T]:
        return self._backend

    @property
    def source(self) -> str:
        return self._backend.source

    @property
    def connected(self) -> bool:
        return self._backend.connected

    def connect(self, timeout: float | None = DEFAULT_TIMEOUT, *, mock: bool = False) -> Status:
        """Start connecting; the status is done when connected (no RunEngine needed).

        With ``mock=True`` the transport is replaced by a :class:`MockBackend` held in
        memory (for tests without hardware); the status is done at once.
        """
        if mock:
            if not isinstance(self._backend, MockBackend):
                self._swap_backend(MockBackend(self._backend))
            return finished_status(self)
        return self._backend.connect(timeout)

    def _swap_backend(self, backend: SignalBackend[T]) -> None:
        old, self._backend = self._backend, backend
        if self._subs:
            old.set_callback(None)
            backend.set_callback(self._on_reading)

    def wait_for_connection(self, timeout: float | None = DEFAULT_TIMEOUT) -> None:
        """Connect and block; raise :class:`ConnectionTimeoutError` naming the source."""
        status = self.connect(timeout)
        try:
            status.wait(timeout)
        except TimeoutError:
            raise ConnectionTimeoutError(
                f"{self.name or 'signal'} ({self.source}) did not connect within {timeout} s"
            ) from None

    def destroy(self) -> None:
        """Drop subscriptions and release the transport."""
        with self._subs_lock:
            self._subs.clear()
        self._backend.set_callback(None)
        self._backend.disconnect()

    # -- reading -----------------------------------------------------------
    def get(self) -> T:
        """The current value."""
        return self._backend.get_value()

    def read(self) -> dict[str, Reading]:
        return {self.name: self._backend.get_reading()}

    def describe(self) -> dict[str, DataKey]:
        return {self.name: self._backend.get_datakey(self.source)}

    def read_configuration(self) -> dict[str, Reading]:
        return {}

    def describe_configuration(self) -> dict[str, DataKey]:
        return {}

    @property
    def hints(self) -> Hints:
        return {"fields": [self.name] if (self.kind & Kind.hinted) == Kind.hinted else []}

    # -- subscriptions (ophyd style) ------------------------------------------
    def subscribe(
        self, callback: Subscriber, event_type: str | None = None, run: bool = True
    ) -> int:
        """Call ``callback(*, value, old_value, timestamp, obj, sub_type, **kw)`` on each new
        value, and at once with the current value when ``run`` is true. Returns a token
        for :meth:`unsubscribe`."""
        if event_type not in (None, "value"):
            raise ValueError(f"{self.name}: unknown event_type {event_type!r}; use 'value'")
        token = next(_tokens)
        with self._subs_lock:
            first = not self._subs
            self._subs[token] = callback
        try:
            if first:
                self._last = self._backend.get_reading() if self.connected else None
                self._backend.set_callback(self._on_reading)
            if run and self.connected:
                self._call(callback, self._last or self._backend.get_reading(), None)
        except Exception:  # e.g. the read failed: not subscribed (the next one is first)
            self.unsubscribe(token)
            raise
        return token

    def clear_sub(self, callback: Subscriber, event_type: str | None = None) -> None:
        """Remove every subscription of ``callback``."""
        with self._subs_lock:
            for token in [t for t, cb in self._subs.items() if cb == callback]:
                del self._subs[token]
            last = not self._subs
        if last:
            self._backend.set_callback(None)

    def unsubscribe(self, token: int) -> None:
        """Remove the subscription ``token`` (from :meth:`subscribe`)."""
        with self._subs_lock:
            self._subs.pop(token, None)
            last = not self._subs
        if last:
            self._backend.set_callback(None)

    def _on_reading(self, reading: Reading) -> None:
        old = self._last["value"] if self._last is not None else None
        self._last = reading
        with self._subs_lock:
            subscribers = list(self._subs.values())
        for callback in subscribers:
            self._call(callback, reading, old)

    def _call(self, callback: Subscriber, reading: Reading, old: Any) -> None:
        extra = {k: v for k, v in reading.items() if k not in ("value", "timestamp")}
        try:
            callback(
                value=reading["value"],
                old_value=old,
                timestamp=reading["timestamp"],
                obj=self,
                sub_type="value",
                **extra,
            )
        except Exception:
            logger.exception("subscriber %r of signal %r failed", callback, self.name)


class SignalRW(Signal[T]):
    """A signal that can be written: ``put()`` blocks, ``set()`` returns a status."""

    def put(self, value: T, *, wait: bool = True, timeout: float | None = None) -> None:
        """Write ``value``; block until the write completes when ``wait`` is true."""
        backend = self._backend
        if type(backend) is SoftBackend:  # memory: no status to wait on
            backend.set_value(value)
            return
        status = self._backend.put(value, wait=wait, timeout=timeout)
        if wait:
            status.wait(timeout)

    def set(self, value: T, *, timeout: float | None = None) -> Status:
        """Write ``value``; the status is done when the write has completed."""
        status = self._backend.put(value, wait=True, timeout=timeout)
        if status.obj is None or status.obj is self._backend:
            status.obj = self
        return status

    def locate(self) -> Location:
        value = self.get()
        return {"setpoint": value, "readback": value}


class _SoftValue(Signal[T]):
    """A signal whose value is held in memory (a :class:`SoftBackend`)."""

    def __init__(
        self,
        value: T,
        *,
        units: str | None = None,
        precision: int | None = None,
        limits: tuple[float, float] | None = None,
        choices: Sequence[str] | None = None,
        name: str = "",
        kind: Kind | str | int = Kind.hinted,
        parent: Any = None,
    ) -> None:
        backend = SoftBackend(
            value, units=units, precision=precision, limits=limits, choices=choices
        )
        super().__init__(backend, name=name, kind=kind, parent=parent)

    def update(self, value: T, timestamp: float | None = None) -> None:
        """Set the value from outside (not through a plan or a put) and notify subscribers."""
        backend = self._backend
        assert isinstance(backend, SoftBackend)
        backend.set_value(value, timestamp)


class SoftSignalR(_SoftValue[T]):
    """A read-only signal held in memory; change it from outside with :meth:`update`
    (as a simulated beam current or a computed status bit would)."""


class SoftSignal(_SoftValue[T], SignalRW[T]):
    """A read-write signal held in memory (``SoftSignal(0.0, units="mm")``)."""


class _DerivedBackend(SignalBackend[Any]):
    """Computes a value from input signals; writes through ``inverse`` when given."""

    def __init__(
        self,
        owner: Signal[Any],
        function: Callable[..., Any],
        inputs: Sequence[Signal[Any] | str],
        inverse: Callable[[Any], Sequence[Any]] | None,
        units: str | None,
        precision: int | None,
    ) -> None:
        self._owner = owner
        self._function = function
        self._declared = list(inputs)
        self._resolved: list[Signal[Any]] | None = None
        self._inverse = inverse
        self._units = units
        self._precision = precision
        self._callback: ReadingCallback | None = None

    def inputs(self) -> list[Signal[Any]]:
        """The input signals (names are attributes of the owner's parent, resolved once)."""
        if self._resolved is None:
            resolved: list[Signal[Any]] = []
            for item in self._declared:
                if isinstance(item, str):
                    node: Any = self._owner.parent
                    for part in item.split("."):
                        node = getattr(node, part, None)
                    if not isinstance(node, Signal):
                        raise DeviceError(
                            f"derived signal {self._owner.name!r}: input {item!r} is not a "
                            "signal of its parent device"
                        )
                    resolved.append(node)
                else:
                    resolved.append(item)
            self._resolved = resolved
        return self._resolved

    @property
    def source(self) -> str:
        names = ",".join(s.name for s in self.inputs())
        return f"derived://{self._owner.name}({names})"

    @property
    def connected(self) -> bool:
        return all(s.connected for s in self.inputs())

    def connect(self, timeout: float | None) -> Status:
        return status_all([s.connect(timeout) for s in self.inputs()], obj=self._owner)

    def get_reading(self) -> Reading:
        readings = [s.backend.get_reading() for s in self.inputs()]
        value = self._function(*(r["value"] for r in readings))
        timestamp = max((r["timestamp"] for r in readings), default=0.0)
        return {"value": value, "timestamp": timestamp}

    def get_datakey(self, source: str) -> DataKey:
        key = infer_datakey(self.get_value(), source)
        if self._units is not None:
            key["units"] = self._units
        if self._precision is not None:
            key["precision"] = self._precision
        return key

    def put(self, value: Any, *, wait: bool = True, timeout: float | None = None) -> Status:
        if self._inverse is None:
            raise DeviceError(
                f"derived signal {self._owner.name!r} has no inverse; it is read-only"
            )
        targets = list(self._inverse(value))
        inputs = self.inputs()
        if len(targets) != len(inputs):
            raise DeviceError(
                f"derived signal {self._owner.name!r}: inverse returned {len(targets)} values "
                f"for {len(inputs)} inputs"
            )
        statuses = []
        for signal, target in zip(inputs, targets, strict=True):
            if not isinstance(signal, SignalRW):
                raise DeviceError(f"input {signal.name!r} of {self._owner.name!r} is read-only")
            statuses.append(signal.set(target, timeout=timeout))
        return status_all(statuses, obj=self._owner)

    def set_callback(self, callback: ReadingCallback | None) -> None:
        previous, self._callback = self._callback, callback
        if callback is not None and previous is None:
            for signal in self.inputs():
                signal.subscribe(self._on_input, run=False)
        elif callback is None and previous is not None:
            for signal in self.inputs():
                signal.clear_sub(self._on_input)

    def _on_input(self, **_: Any) -> None:
        callback = self._callback
        if callback is not None:
            callback(self.get_reading())


class DerivedSignal(Signal[Any]):
    """A read-only signal computed from others: ``DerivedSignal(fn, a, b)`` reads
    ``fn(a.get(), b.get())``. Inputs given as strings are attributes of the parent
    device (``DerivedSignal(lambda t, b: t - b, "top", "bottom")``)."""

    def __init__(
        self,
        function: Callable[..., Any],
        *inputs: Signal[Any] | str,
        units: str | None = None,
        precision: int | None = None,
        name: str = "",
        kind: Kind | str | int = Kind.hinted,
        parent: Any = None,
    ) -> None:
        backend = _DerivedBackend(self, function, inputs, None, units, precision)
        super().__init__(backend, name=name, kind=kind, parent=parent)


class DerivedSignalRW(SignalRW[Any]):
    """A derived signal that can be written: ``inverse(value)`` gives the input values."""

    def __init__(
        self,
        function: Callable[..., Any],
        *inputs: Signal[Any] | str,
        inverse: Callable[[Any], Sequence[Any]],
        units: str | None = None,
        precision: int | None = None,
        name: str = "",
        kind: Kind | str | int = Kind.hinted,
        parent: Any = None,
    ) -> None:
        backend = _DerivedBackend(self, function, inputs, inverse, units, precision)
        super().__init__(backend, name=name, kind=kind, parent=parent)
