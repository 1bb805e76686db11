"""The exceptions cielo raises, in one place so callers can catch them by kind.

Every message says what was wrong, with which value, and how to fix it.

Code written for Bluesky catches Bluesky's exceptions (``except
bluesky.utils.RunEngineInterrupted``). cielo does not import bluesky, but when the session
has loaded it (Bluesky code imports it before it can name its exceptions), an error whose
class names a Bluesky twin in ``_bluesky`` is created as a subclass of both: cielo's class
and Bluesky's catch it, and it pickles as cielo's class.
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

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
    "UnknownDocumentName",
    "WaitTimeoutError",
]

_TWINS: dict[type, type] = {}


def _bluesky_twin(cls: type) -> type | None:
    """``cls`` blended with its Bluesky twin, if bluesky is loaded (never imports it)."""
    twin = _TWINS.get(cls)
    if twin is not None:
        return twin
    where = getattr(cls, "_bluesky", None)
    if where is None or "_plain" in cls.__dict__:
        return None
    module = sys.modules.get(where[0])
    other = getattr(module, where[1], None) if module is not None else None
    if not isinstance(other, type) or issubclass(cls, other):
        return None
    twin = type(
        cls.__name__,
        (cls, other),
        {"__module__": cls.__module__, "__qualname__": cls.__qualname__, "_plain": cls},
    )
    _TWINS[cls] = twin
    return twin


class CieloError(Exception):
    """Base class of every error cielo raises on purpose."""


class BlueskyTwin(Exception):
    """Mixin of the errors that stand for a Bluesky exception named by ``_bluesky``."""

    #: (module, class name) of the Bluesky exception this one stands for
    _bluesky: ClassVar[tuple[str, str]]

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        twin = _bluesky_twin(cls)
        return super().__new__(twin if twin is not None else cls, *args, **kwargs)

    def __reduce__(self) -> Any:
        plain = type(self).__dict__.get("_plain", type(self))
        return (plain, self.args, self.__dict__ or None)


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


class FailedStatusError(BlueskyTwin, StatusError):
    """A status object finished unsuccessfully; its failure, if any, is the ``__cause__``
    (Bluesky's ``FailedStatus``)."""

    _bluesky = ("bluesky.utils", "FailedStatus")


class WaitTimeoutError(BlueskyTwin, StatusTimeoutError):
    """``Msg('wait', timeout=...)`` or ``Msg('wait_for', ..., timeout=...)`` expired
    (Bluesky's ``WaitForTimeoutError``)."""

    _bluesky = ("bluesky.run_engine", "WaitForTimeoutError")


class DeviceError(CieloError):
    """A device could not do what it was asked."""


class ConnectionTimeoutError(DeviceError, TimeoutError):
    """One or more signals did not connect in time (the message lists every one)."""


class LimitError(DeviceError, ValueError):
    """A positioner was asked to move outside its limits."""


class RunEngineError(CieloError):
    """The RunEngine was used wrongly (e.g. called while already running)."""


class RunEngineInterrupted(BlueskyTwin, RunEngineError):
    """``RE(plan)`` returned early because the engine was paused or suspended."""

    _bluesky = ("bluesky.utils", "RunEngineInterrupted")


class IllegalMessageSequence(BlueskyTwin, RunEngineError):
    """A plan sent messages in an order the protocol forbids (e.g. save without create)."""

    _bluesky = ("bluesky.utils", "IllegalMessageSequence")


class UnknownDocumentName(CieloError, KeyError, ValueError):
    """A subscription named a document that does not exist (a ``KeyError`` as in Bluesky,
    and a ``ValueError``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
