"""``EpicsDevice``: a device declared from a PV prefix and a table of suffixes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cielo.devices import Device, Kind, as_kind

from ._batch import EpicsReadMixin
from ._signal import EpicsSignal, EpicsSignalRO

__all__ = ["EpicsDevice", "SignalSpec"]

#: One signal of an :class:`EpicsDevice`: a suffix (read-only signal), or a table.
SignalSpec = str | Mapping[str, str | bool]
_KEYS = ("suffix", "pv", "write_suffix", "write_pv", "writable", "kind", "string")


class EpicsDevice(EpicsReadMixin, Device):
    """A device whose signals are ``prefix + suffix`` PVs, declared as data.

    ``EpicsDevice("XF:31ID:TC1:", {"temperature": {"suffix": "T", "kind": "hinted"},
    "setpoint": {"suffix": "SP", "writable": True, "kind": "config"}}, name="tc1")``

    Each entry is a suffix (a read-only signal of kind ``normal``) or a table with:
    ``suffix`` or ``pv`` (a full PV name, ignoring the prefix); ``write_suffix`` or
    ``write_pv`` (a separate setpoint PV, making the signal writable); ``writable``
    (write the read PV itself); ``kind`` (``hinted``, ``normal``, ``config``,
    ``omitted``; default ``normal``); ``string`` (read enums as strings, default true).
    """

    def __init__(
        self,
        prefix: str,
        signals: Mapping[str, SignalSpec],
        *,
        name: str = "",
        kind: Kind | str | int = Kind.normal,
        parent: Any = None,
    ) -> None:
        super().__init__(prefix, name=name, kind=kind, parent=parent)
        if not signals:
            raise ValueError(f"epics device {name or prefix!r}: give at least one signal")
        for attr, spec in signals.items():
            setattr(self, attr, _make_signal(prefix, attr, spec, name or prefix))

    @property
    def signals(self) -> dict[str, Any]:
        """The declared signals by attribute name."""
        return dict(self.children)


def _make_signal(prefix: str, attr: str, spec: SignalSpec, owner: str) -> Any:
    where = f"epics device {owner!r}, signal {attr!r}"
    if not attr.isidentifier() or attr.startswith("_") or hasattr(Device, attr):
        raise ValueError(
            f"{where}: the name must be a Python identifier not starting with '_' and not "
            "a Device attribute (such as 'name', 'read', 'parent')"
        )
    if isinstance(spec, str):
        return EpicsSignalRO(prefix + spec, kind=Kind.normal)
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where}: give a suffix string or a table, not {spec!r}")
    unknown = sorted(set(spec) - set(_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; use {', '.join(_KEYS)}")
    if ("suffix" in spec) == ("pv" in spec):
        raise ValueError(f"{where}: give exactly one of 'suffix' and 'pv'")
    read_pv = str(spec["pv"]) if "pv" in spec else prefix + str(spec["suffix"])
    if "write_pv" in spec and "write_suffix" in spec:
        raise ValueError(f"{where}: give at most one of 'write_suffix' and 'write_pv'")
    write_pv: str | None = None
    if "write_pv" in spec:
        write_pv = str(spec["write_pv"])
    elif "write_suffix" in spec:
        write_pv = prefix + str(spec["write_suffix"])
    kind = as_kind(str(spec.get("kind", "normal")))
    string = bool(spec.get("string", True))
    if write_pv is not None or spec.get("writable", False):
        return EpicsSignal(read_pv, write_pv, string=string, kind=kind)
    return EpicsSignalRO(read_pv, string=string, kind=kind)
