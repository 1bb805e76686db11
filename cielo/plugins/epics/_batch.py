"""Reading many EPICS signals at once: every CA get is sent before any answer is awaited.

A device's ``read()`` reads its signals one after another, one network round trip
each; :func:`read_many` sends all requests first and then collects the answers, so the
time is about one round trip however many PVs there are. EPICS devices
(:class:`EpicsReadMixin`) use it for their own ``read()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cielo.core import DeviceError
from cielo.core.protocols import Reading
from cielo.devices import Device, Kind, Signal

from ._backend import CaBackend, _reading
from ._transport import attached, epics_module

__all__ = ["EpicsReadMixin", "read_many"]


def read_many(signals: Iterable[Signal[Any]], timeout: float = 2.0) -> dict[str, Reading]:
    """Read ``signals`` concurrently: ``{signal.name: reading}``.

    Monitored EPICS signals give their latest monitor value; the others are read with one
    batch of Channel Access gets (every get sent before any answer is awaited); any other signal is
    read with its own ``read()``. Errors name the PV, as single reads do.
    """
    out: dict[str, Reading] = {}
    order: list[str] = []
    pending: list[tuple[Signal[Any], CaBackend, Any, bool]] = []
    for signal in signals:
        order.append(signal.name)
        backend = signal.backend
        if not isinstance(backend, CaBackend):
            out.update(signal.read())
            continue
        pv = backend._require(backend._read)
        if backend.use_monitor and backend._read.monitored:
            out[signal.name] = backend.get_reading()  # the monitor's latest value
            continue
        as_string = backend.string and backend._is_enum()
        pending.append((signal, backend, pv, as_string))
    if not pending:
        return out
    ca = epics_module().ca
    with attached(ca, pending[0][2].context):
        _read_batch(ca, pending, out, timeout)
    return {name: out[name] for name in order}


def _read_batch(
    ca: Any,
    pending: list[tuple[Signal[Any], CaBackend, Any, bool]],
    out: dict[str, Reading],
    timeout: float,
) -> None:
    """Send every get of ``pending``, then collect the answers into ``out``."""
    for _signal, backend, pv, _enum in pending:
        try:
            if not pv.connected:
                raise backend._failure(backend._read, "read", None)
            ca.get_with_metadata(pv.chid, ftype=backend._read.time_type, wait=False)
        except DeviceError:
            raise
        except Exception as exc:
            raise backend._failure(backend._read, "read", exc) from exc
    for signal, backend, pv, enum in pending:
        try:
            md = ca.get_complete_with_metadata(
                pv.chid, ftype=backend._read.time_type, timeout=timeout
            )
        except Exception:
            md = None
        if md is None or md.get("value") is None:  # one more try, on its own
            out[signal.name] = backend.get_reading()
            continue
        value = md["value"]
        if enum:  # an index; the strings came with the control info
            names = backend.control_info.get("enum_strs") or ()
            value = names[value] if 0 <= int(value) < len(names) else str(value)
        out[signal.name] = _reading(value, md)


class EpicsReadMixin:
    """``read()`` for EPICS devices: the normal signals in one concurrent batch."""

    def read(self) -> dict[str, Reading]:
        assert isinstance(self, Device)
        signals: list[Signal[Any]] = []
        out: dict[str, Reading] = {}
        for child in self.children.values():
            if not child.kind & Kind.normal:
                continue
            if isinstance(child, Signal):
                signals.append(child)
            else:
                out.update(child.read())  # type: ignore[attr-defined]
        batch = read_many(signals)
        return {**{s.name: batch[s.name] for s in signals}, **out}
