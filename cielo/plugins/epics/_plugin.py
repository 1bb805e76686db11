"""The ``epics`` plugin's device types: factories a profile calls as ``factory(name=..., **params)``.

Each factory builds the device and starts connecting it (without waiting): the first
read waits for the connection, and a PV that never connects is reported by name.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

from cielo.core import hookimpl
from cielo.devices import Device, NotConnectedError, Signal, connect_all
from cielo.hookspecs import DeviceFactory

from ._backend import CaBackend

if TYPE_CHECKING:
    from cielo.core import Environment

__all__ = ["cielo_device_types", "cielo_environment_ready", "DEVICE_TYPES"]

KindName = Literal["hinted", "normal", "config", "omitted"]
logger = logging.getLogger("cielo.plugins.epics")
#: Seconds the background connection of a profile's device may take.
CONNECT_TIMEOUT = 10.0
#: Seconds a loaded profile waits for its EPICS devices before warning of missing PVs.
READY_TIMEOUT = 5.0


def _started(device: Any) -> Any:
    device.connect(CONNECT_TIMEOUT)
    return device


def epics_signal(
    name: str,
    pv: str,
    write_pv: str | None = None,
    kind: KindName = "hinted",
    read_only: bool = False,
    string: bool = True,
) -> Any:
    """One PV as a signal.

    Parameters
    ----------
    pv
        The PV read (and written, unless ``write_pv`` is given).
    write_pv
        A separate setpoint PV written by ``set``.
    kind
        The signal's kind (``hinted`` by default: shown in tables and plots).
    read_only
        Refuse writes (a detector PV).
    string
        Read enum PVs as strings.
    """
    from ._signal import EpicsSignal, EpicsSignalRO

    if read_only:
        if write_pv:
            raise ValueError(
                f"epics.signal {name!r}: read_only conflicts with write_pv={write_pv!r}"
            )
        return _started(EpicsSignalRO(pv, string=string, name=name, kind=kind))
    return _started(EpicsSignal(pv, write_pv, string=string, name=name, kind=kind))


def epics_motor(name: str, prefix: str, separator: str = ".") -> Any:
    """An EPICS motor record.

    Parameters
    ----------
    prefix
        The motor record's name (``XF:31ID:m1``).
    separator
        Between record and field: ``"."`` for a motor record, ``":"`` for the demo IOC.
    """
    from ._motor import EpicsMotor

    return _started(EpicsMotor(prefix, separator=separator, name=name))


def epics_scaler(
    name: str,
    prefix: str,
    channels: dict[str, int] | None = None,
    preset_time: float | None = None,
    separator: str = ".",
) -> Any:
    """A scaler: ``trigger()`` counts for the preset time.

    Parameters
    ----------
    prefix
        The scaler record's name.
    channels
        Channel names to channel numbers (``{I0 = 2, det = 3}``); the first is hinted.
    preset_time
        Counting time in seconds, written when staged.
    separator
        ``"."`` for a scaler record, ``":"`` for the demo IOC.
    """
    from ._scaler import EpicsScaler

    scaler = EpicsScaler(
        prefix, channels=channels, preset_time=preset_time, separator=separator, name=name
    )
    return _started(scaler)


def epics_device(name: str, prefix: str, signals: dict[str, str | dict[str, str | bool]]) -> Any:
    """A device from a PV prefix and a table of signals.

    Parameters
    ----------
    prefix
        Prepended to every suffix.
    signals
        Attribute name to a suffix, or to a table with ``suffix``/``pv``,
        ``write_suffix``/``write_pv``, ``writable``, ``kind``, ``string``.
    """
    from ._generic import EpicsDevice

    return _started(EpicsDevice(prefix, signals, name=name))


DEVICE_TYPES: dict[str, DeviceFactory] = {
    "epics.signal": epics_signal,
    "epics.motor": epics_motor,
    "epics.scaler": epics_scaler,
    "epics.device": epics_device,
}


@hookimpl
def cielo_device_types() -> dict[str, DeviceFactory]:
    """EPICS device types: ``epics.signal``, ``epics.motor``, ``epics.scaler``, ``epics.device``."""
    return dict(DEVICE_TYPES)


def _on_ca(device: Any) -> bool:
    """Whether ``device`` has a signal on Channel Access."""
    if isinstance(device, Signal):
        return isinstance(device.backend, CaBackend)
    if isinstance(device, Device):
        return any(isinstance(sig.backend, CaBackend) for sig in device.walk_signals())
    return False


@hookimpl
def cielo_environment_ready(env: Environment) -> None:
    """Wait (at most :data:`READY_TIMEOUT` s) for the profile's EPICS devices to connect;
    log one warning listing every PV that did not, as a tree by device.

    Only a warning (on the ``cielo.plugins.epics`` logger): a profile loads, and lists
    its devices, without its IOCs; using a device whose PV is missing fails then,
    naming the PV.
    """
    devices = {name: dev for name, dev in env.devices.items() if _on_ca(dev)}
    if not devices:
        return
    try:
        connect_all(devices, timeout=READY_TIMEOUT)
    except NotConnectedError as exc:
        logger.warning(
            "%s\nAre the IOCs running, and listed in EPICS_CA_ADDR_LIST (with their ports)? "
            "For the demo IOC: cielo ioc sim",
            exc,
        )
