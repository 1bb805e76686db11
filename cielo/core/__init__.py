"""cielo's core: what users and plugin authors need from the engine, the plugin layer and
profiles.

The core is split by responsibility:

- this package's base: :class:`Msg`, the device protocols (:mod:`cielo.core.protocols`),
  status objects, the errors, JSON conversion of documents, parameter bounds and signatures;
- :mod:`cielo.core.documents`: delivery to subscribers, routing per run, event/datum pages;
- :mod:`cielo.core.plugins`: the pluggy markers, the plugin manager, the hook facade, the
  registry of contributions;
- :mod:`cielo.core.engine`: the RunEngine, its runner, command handlers and suspenders;
- :mod:`cielo.core.profile`: profiles, the environment loaded from one, the instrument lock.

Engine and plugin-layer internals (``CommandContext``, ``Registry``, ``hookspec``...) are
public in their sub-package only. The core imports nothing above it (devices, plans, plugins).
"""

from . import protocols
from ._annotations import Offered
from ._errors import (
    CieloError,
    ConnectionTimeoutError,
    DeviceError,
    FailedStatusError,
    IllegalMessageSequence,
    LimitError,
    PlanParameterError,
    PluginError,
    ProfileError,
    RunEngineError,
    RunEngineInterrupted,
    StatusError,
    StatusTimeoutError,
    UnknownDocumentName,
    WaitTimeoutError,
)
from ._jsonable import dumps_document, jsonable
from ._msg import Msg
from ._range import Range
from ._signature import bind_parameters, signature_schema
from ._status import AsyncStatus, Status, failed_status, finished_status, status_all
from ._units import Units

# isort: split
from .documents import (
    DOCUMENT_NAMES,
    CallbackError,
    CallbackFailure,
    RunRouter,
    callback_name,
    pack_datum,
    pack_event,
    pack_events,
    per_run,
    unpack_datum_page,
    unpack_event_page,
)
from .plugins import PluginWarning, hookimpl, make_plugin_manager

# isort: split
from .engine import (
    EngineState,
    RunEngine,
    RunEngineResult,
    SuspendBoolHigh,
    SuspendBoolLow,
    SuspendCeil,
    SuspendCeiling,
    Suspender,
    SuspendFloor,
    SuspendOutsideBand,
    SuspendWhen,
    SuspendWhenChanged,
    SuspendWhenOutsideBand,
    TransitionError,
)

# isort: split
from .profile import (
    Environment,
    InstrumentBusy,
    InstrumentLock,
    Profile,
    find_profile,
    list_profiles,
    load_profile,
    read_profile,
)

__all__ = [
    # messages, devices and statuses
    "Msg",
    "protocols",
    "AsyncStatus",
    "Status",
    "failed_status",
    "finished_status",
    "status_all",
    # errors
    "CallbackError",
    "CieloError",
    "ConnectionTimeoutError",
    "DeviceError",
    "FailedStatusError",
    "IllegalMessageSequence",
    "LimitError",
    "PlanParameterError",
    "PluginError",
    "ProfileError",
    "RunEngineError",
    "RunEngineInterrupted",
    "StatusError",
    "StatusTimeoutError",
    "TransitionError",
    "UnknownDocumentName",
    "WaitTimeoutError",
    # the engine
    "EngineState",
    "RunEngine",
    "RunEngineResult",
    "SuspendBoolHigh",
    "SuspendBoolLow",
    "SuspendCeil",
    "SuspendCeiling",
    "SuspendFloor",
    "SuspendOutsideBand",
    "SuspendWhen",
    "SuspendWhenChanged",
    "SuspendWhenOutsideBand",
    "Suspender",
    # documents and callbacks
    "DOCUMENT_NAMES",
    "CallbackFailure",
    "RunRouter",
    "callback_name",
    "dumps_document",
    "jsonable",
    "pack_datum",
    "pack_event",
    "pack_events",
    "per_run",
    "unpack_datum_page",
    "unpack_event_page",
    # plan parameters
    "Offered",
    "Range",
    "Units",
    "bind_parameters",
    "signature_schema",
    # plugins and profiles
    "Environment",
    "InstrumentBusy",
    "InstrumentLock",
    "PluginWarning",
    "Profile",
    "find_profile",
    "hookimpl",
    "load_profile",
    "list_profiles",
    "make_plugin_manager",
    "read_profile",
]
