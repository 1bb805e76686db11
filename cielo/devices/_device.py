"""Devices: trees of signals and sub-devices declared as typed class attributes."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Generic, TypeVar, overload

from cielo.core import DeviceError, Status, StatusTimeoutError, finished_status, status_all
from cielo.core.protocols import DataKey, Hints, Reading

from ._base import Named
from ._kind import Kind, as_kind
from ._signal import DEFAULT_TIMEOUT, Signal

__all__ = ["Cpt", "Device"]

C = TypeVar("C", bound=Named)
_NORMAL, _CONFIG = int(Kind.normal), int(Kind.config)


class Cpt(Generic[C]):
    """A component: a signal or sub-device built for each instance of its device.

    ``top = Cpt(SimMotor, velocity=2.0)`` builds ``SimMotor(velocity=2.0, kind=...,
    parent=device)`` named ``<device>_top``; reading ``device.top`` gives the
    ``SimMotor`` (and type checkers know it).

    Parameters
    ----------
    cls
        The class (or factory) to call.
    suffix
        When given, ``device.prefix + suffix`` is passed as the first positional
        argument (a PV name for EPICS signals, a prefix for sub-devices).
    kind
        The child's role: ``normal`` (default), ``hinted``, ``config``, ``omitted``.
    parent_name
        Read the child under the device's own name (a motor's readback is ``motor1``).
    """

    def __init__(
        self,
        cls: Callable[..., C],
        *args: Any,
        suffix: str | None = None,
        kind: Kind | str | int = Kind.normal,
        parent_name: bool = False,
        **kwargs: Any,
    ) -> None:
        self.cls = cls
        self.args = args
        self.kwargs = kwargs
        self.suffix = suffix
        self.kind = as_kind(kind)
        self.parent_name = parent_name
        self.attr = ""

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Cpt[C]: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> C: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> Cpt[C] | C:
        if obj is None:
            return self
        raise AttributeError(f"{type(obj).__name__}.{self.attr} is not built yet")

    def create(self, device: Device) -> C:
        """Build the child for ``device``."""
        args = self.args
        if self.suffix is not None:
            args = (f"{device.prefix}{self.suffix}", *args)
        child = self.cls(*args, kind=self.kind, parent=device, **self.kwargs)
        child.parent_name = self.parent_name
        return child

    def __repr__(self) -> str:
        return f"Cpt({getattr(self.cls, '__name__', self.cls)}, attr={self.attr!r})"


class Device(Named):
    """A named tree of signals and sub-devices.

    Declare children as class attributes with :class:`Cpt`::

        class Slit(Device):
            top = Cpt(SimMotor)
            bottom = Cpt(SimMotor)

    or assign them in ``__init__`` (``self.top = SimMotor()``): any public attribute
    holding a signal or device becomes a child (keep references to devices that belong
    elsewhere in private ``_attributes``). Children whose kind includes ``normal``
    are read by :meth:`read`; ``config`` ones by :meth:`read_configuration`; ``hinted``
    ones are listed in :attr:`hints`.
    """

    _cpts: ClassVar[dict[str, Cpt[Any]]] = {}
    _staged: list[tuple[Any, Any]] | None = None
    #: Whether reading the device waits on I/O (the RunEngine then reads, stages and
    #: unstages it in a worker thread). A subclass declaring a component of such a class
    #: (an EPICS signal) declares it too, unless it sets it itself.
    blocking_reads: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cpts: dict[str, Cpt[Any]] = {}
        for base in reversed(cls.__mro__):
            for attr, value in vars(base).items():
                if isinstance(value, Cpt):
                    cpts[attr] = value
        cls._cpts = cpts
        if "blocking_reads" not in vars(cls) and any(
            getattr(cpt.cls, "blocking_reads", False) is True for cpt in cpts.values()
        ):
            cls.blocking_reads = True

    def __init__(
        self,
        prefix: str = "",
        *,
        name: str = "",
        kind: Kind | str | int = Kind.normal,
        parent: Any = None,
    ) -> None:
        self.__dict__.setdefault("_children", {})
        super().__init__(name=name, kind=kind, parent=parent)
        self.prefix = prefix
        #: ``{attribute path: value}`` written by :meth:`stage`, restored by :meth:`unstage`.
        self.stage_sigs: dict[str, Any] = self.__dict__.get("stage_sigs", {})
        for attr, cpt in type(self)._cpts.items():
            setattr(self, attr, cpt.create(self))
        if name:
            self.set_name(name)

    def __setattr__(self, attr: str, value: Any) -> None:
        if isinstance(value, Named) and not attr.startswith("_"):
            owner = value.parent
            if owner is not None and owner is not self:
                raise DeviceError(
                    f"cannot make {value.name or value!r} a child {attr!r} of "
                    f"{self.name or type(self).__name__!r}: it already belongs to "
                    f"{getattr(owner, 'name', owner)!r}; keep references to other devices "
                    f"in private attributes (self._{attr})"
                )
            children = self.__dict__.setdefault("_children", {})
            children[attr] = value
            object.__setattr__(self, attr, value)
            value._attach(self, attr)
            return
        object.__setattr__(self, attr, value)

    # -- tree --------------------------------------------------------------
    @property
    def children(self) -> dict[str, Named]:
        """The direct children by attribute name, in declaration order."""
        children: dict[str, Named] = self.__dict__.get("_children", {})
        return dict(children)

    def set_name(self, name: str) -> None:
        self._name = name
        for child in self.__dict__.get("_children", {}).values():
            child.set_name(self.child_name(child))

    def walk_signals(self) -> Iterator[Signal[Any]]:
        """Every signal of the tree, depth first."""
        for child in self.children.values():
            if isinstance(child, Signal):
                yield child
            elif isinstance(child, Device):
                yield from child.walk_signals()

    # -- connection ----------------------------------------------------------
    def connect(self, timeout: float | None = DEFAULT_TIMEOUT, *, mock: bool = False) -> Status:
        """Start connecting every signal; the status is done when all are connected
        (``mock=True``: replace every transport by one in memory)."""
        statuses = [sig.connect(timeout, mock=mock) for sig in self.walk_signals()]
        return status_all(statuses, obj=self)

    @property
    def connected(self) -> bool:
        return all(sig.connected for sig in self.walk_signals())

    def wait_for_connection(self, timeout: float | None = DEFAULT_TIMEOUT) -> None:
        """Connect and block; one error lists every signal that did not connect."""
        from ._connect import connect_all

        connect_all([self], timeout=timeout)

    def destroy(self) -> None:
        """Drop subscriptions and release every transport."""
        for sig in self.walk_signals():
            sig.destroy()

    # -- reading -------------------------------------------------------------
    def read(self) -> dict[str, Reading]:
        out: dict[str, Reading] = {}
        for child in self.__dict__["_children"].values():
            if child._bits & _NORMAL:
                out.update(child.read())
        return out

    def describe(self) -> dict[str, DataKey]:
        out: dict[str, DataKey] = {}
        for child in self.__dict__["_children"].values():
            if child._bits & _NORMAL:
                out.update(child.describe())
        return out

    def read_configuration(self) -> dict[str, Reading]:
        out: dict[str, Reading] = {}
        for child in self.__dict__["_children"].values():
            if isinstance(child, Device) and child._bits:
                out.update(child.read_configuration())
            if child._bits & _CONFIG:
                out.update(child.read())  # type: ignore[attr-defined]
        return out

    def describe_configuration(self) -> dict[str, DataKey]:
        out: dict[str, DataKey] = {}
        for child in self.__dict__["_children"].values():
            if isinstance(child, Device) and child._bits:
                out.update(child.describe_configuration())
            if child._bits & _CONFIG:
                out.update(child.describe())  # type: ignore[attr-defined]
        return out

    @property
    def hints(self) -> Hints:
        fields: list[str] = []
        for child in self.children.values():
            if isinstance(child, Device):
                if child.kind & Kind.normal:
                    fields.extend(child.hints.get("fields", []))
            elif (child.kind & Kind.hinted) == Kind.hinted:
                fields.append(child.name)
        return {"fields": list(dict.fromkeys(fields))}

    # -- actions ---------------------------------------------------------------
    def trigger(self) -> Status:
        """Acquire; plain devices have nothing to do."""
        return finished_status(self)

    def stage(self) -> Status:
        """Prepare for a run: apply :attr:`stage_sigs` in order (remembering the old
        values), then stage sub-devices. Staging twice without unstaging is harmless; a
        failure part way leaves what was applied for :meth:`unstage` to restore.

        Each write waits for completion at most :attr:`stage_timeout` seconds. When a
        signal of it waits on I/O (EPICS), the RunEngine calls this in a worker thread
        (:attr:`blocking_stage`), so a hung IOC does not stall the engine's loop.
        """
        if self._staged is None:
            saved: list[tuple[Any, Any]] = []
            self._staged = saved
            for path, value in self.stage_sigs.items():
                signal = self._signal_at(path, "stage_sigs")
                saved.append((signal, signal.get()))
                self._stage_write(signal, value, "was not staged")
        for child in self.children.values():
            if isinstance(child, Device):
                child.stage()
        return finished_status(self)

    def unstage(self) -> Status:
        """Undo :meth:`stage`: unstage sub-devices, then restore what ``stage_sigs``
        changed, in reverse order. Every restore is tried; one error names those that
        failed."""
        errors: list[str] = []
        for child in reversed(list(self.children.values())):
            if isinstance(child, Device):
                try:
                    child.unstage()
                except Exception as exc:
                    errors.append(str(exc))
        saved, self._staged = self._staged, None
        for signal, old in reversed(saved or []):
            try:
                self._stage_write(signal, old, f"was not restored to {old!r}")
            except Exception as exc:
                errors.append(str(exc))
        if errors:
            raise DeviceError("; ".join(errors))
        return finished_status(self)

    #: Seconds :meth:`stage`, :meth:`unstage` and :meth:`configure` wait for each write to
    #: complete (``None``: as long as it takes).
    stage_timeout: float | None = 10.0

    def _stage_write(self, signal: Any, value: Any, consequence: str) -> None:
        """``signal.put(value)``, waiting at most :attr:`stage_timeout`; an error naming
        the signal, its source and ``consequence`` when it does not complete in time."""
        timeout = self.stage_timeout
        try:
            signal.put(value, timeout=timeout)
        except StatusTimeoutError:
            raise DeviceError(
                f"{self.name}: the write of {value!r} to {signal.name} ({signal.source}) did "
                f"not complete within {timeout:g} s, so {signal.name} {consequence} (is the "
                f"IOC or server behind it hung? check it; a larger {self.name}.stage_timeout "
                "waits longer)"
            ) from None

    @property
    def blocking_stage(self) -> bool:
        """Whether :meth:`stage` and :meth:`unstage` may wait on I/O: a signal in
        ``stage_sigs`` (of this device or a sub-device) or a sub-device declares
        ``blocking_reads`` (EPICS). The RunEngine then stages the device in a worker
        thread (as it does a device whose own class declares ``blocking_reads``)."""
        for path in self.stage_sigs:
            try:
                signal = self._signal_at(path, "stage_sigs")
            except DeviceError:
                continue  # stage() says what is wrong with it
            if getattr(type(signal), "blocking_reads", False) is True:
                return True
        for child in self.__dict__["_children"].values():
            if isinstance(child, Device) and (
                getattr(type(child), "blocking_reads", False) is True or child.blocking_stage
            ):
                return True
        return False

    def configure(self, d: Mapping[str, Any]) -> tuple[dict[str, Reading], dict[str, Reading]]:
        """Write settings, ``{attribute path or signal name: value}``, each write waiting
        at most :attr:`stage_timeout`; return the configuration readings before and after
        (as ophyd's ``configure``). The RunEngine calls it in a worker thread when the
        device's staging would be (:attr:`blocking_stage`, ``blocking_reads``)."""
        old = self.read_configuration()
        for key, value in d.items():
            self._stage_write(self._signal_at(key, "configure"), value, "was not configured")
        return old, self.read_configuration()

    def _signal_at(self, key: str, what: str) -> Any:
        """The writable signal at attribute path ``key`` (or with that full name)."""
        node: Any = self
        for part in key.split("."):
            node = node.children.get(part) if isinstance(node, Device) else None
        if node is None:
            node = next((sig for sig in self.walk_signals() if sig.name == key), None)
        if node is None or not hasattr(node, "put"):
            known = [sig.dotted_name for sig in self.walk_signals() if hasattr(sig, "put")]
            raise DeviceError(
                f"{self.name}.{what}: {key!r} is not a writable signal of {self.name!r}; "
                f"writable: {', '.join(known) or 'none'}"
            )
        return node
