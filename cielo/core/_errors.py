"""The exceptions cielo raises, in one place so callers can catch them by kind.

Every message says what was wrong, with which value, and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "CieloError",
    "PluginError",
    "ProfileError",
    "PlanParameterError",
    "StatusError",
    "StatusTimeoutError",
    "FailedStatusError",
    "DeviceError",
    "ConnectionTimeoutError",
    "LimitError",
    "RunEngineError",
    "RunEngineInterrupted",
    "IllegalMessageSequence",
]


class CieloError(Exception):
    """Base class of every error cielo raises on purpose."""


class PluginError(CieloError):
    """A plugin failed to import, register or validate, or two plugins clash."""


class ProfileError(CieloError):
    """A profile file is missing, malformed or names something that does not exist."""


class PlanParameterError(CieloError, ValueError):
    """A plan was given a parameter of the wrong type, an unknown device, or none at all."""


class StatusError(CieloError):
    """A status object finished unsuccessfully."""


class StatusTimeoutError(StatusError, TimeoutError):
    """A status object did not finish within its timeout."""


class FailedStatusError(StatusError):
    """A status object finished with ``success=False``."""


class DeviceError(CieloError):
    """A device could not do what it was asked."""


class ConnectionTimeoutError(DeviceError, TimeoutError):
    """One or more signals did not connect in time (the message lists every one)."""


class LimitError(DeviceError, ValueError):
    """A positioner was asked to move outside its limits."""


class RunEngineError(CieloError):
    """The RunEngine was used wrongly (e.g. called while already running)."""


class RunEngineInterrupted(RunEngineError):
    """``RE(plan)`` returned early because the engine was paused or suspended."""


class IllegalMessageSequence(RunEngineError):
    """A plan sent messages in an order the protocol forbids (e.g. save without create)."""
