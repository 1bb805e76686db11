"""Bundled plugin: EPICS devices on pyepics (signals, motor record, scaler, generic devices).

pyepics is imported only when a device first connects, so the plugin registers and
lists its device types without pyepics installed. Device types for profiles:
``epics.signal`` (``pv``, ``write_pv``), ``epics.motor`` (``prefix``), ``epics.scaler``
(``prefix``, ``channels``, ``preset_time``) and ``epics.device`` (``prefix``,
``signals``). The plugin adds ``cielo ioc sim``, which serves a demo IOC to try them on, and
the ``epics`` profile, which drives that IOC's PVs.
"""

from ._backend import CaBackend, DisconnectedError
from ._batch import EpicsReadMixin, read_many
from ._cli import cielo_add_commands, cielo_profile_dirs
from ._generic import EpicsDevice
from ._motor import EpicsMotor
from ._plugin import DEVICE_TYPES, cielo_device_types, cielo_environment_ready
from ._scaler import EpicsScaler
from ._signal import EpicsSignal, EpicsSignalRO
from ._transport import client_env, reset_context

__all__ = [
    "DEVICE_TYPES",
    "CaBackend",
    "DisconnectedError",
    "EpicsDevice",
    "EpicsReadMixin",
    "EpicsMotor",
    "EpicsScaler",
    "EpicsSignal",
    "EpicsSignalRO",
    "cielo_add_commands",
    "cielo_device_types",
    "cielo_environment_ready",
    "cielo_profile_dirs",
    "client_env",
    "read_many",
    "reset_context",
]
