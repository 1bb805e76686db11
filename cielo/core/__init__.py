"""cielo's core: messages, protocols, status, errors, engine, plugin manager, profiles.

The core imports nothing above it (devices, plans, plugins).
"""

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
from ._hooks import PluginHooks
from ._jsonable import dumps_document, jsonable
from ._lock import InstrumentBusy, InstrumentLock, LockInfo, default_lock_dir
from ._markers import hookimpl, hookspec
from ._msg import Msg
from ._pages import (
    pack_datum,
    pack_event,
    pack_events,
    unpack_datum_page,
    unpack_event_page,
)
from ._router import CallbackFailure, RunRouter, callback_name, per_run
from ._status import Status, failed_status, finished_status, status_all

# -- engine (issue 3) --------------------------------------------------------
# isort: split
from ._commands import CommandContext
from ._dispatch import DOCUMENT_NAMES, CallbackError
from ._engine import RunEngine
from ._results import NO_PLAN_RETURN, RunEngineResult, RunResult
from ._runmd import PersistentMetadata
from ._runner import RequestAbort, RequestHalt, RequestStop
from ._state import EngineState, TransitionError
from ._status import AsyncStatus
from ._suspenders import (
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
)

# -- plugins and profiles (issue 2) -----------------------------------------
# isort: split
from ._environment import Environment, Subscribers, load_profile
from ._plugins import (
    ENTRY_POINT_GROUP,
    CieloPluginManager,
    PluginInfo,
    PluginWarning,
    make_plugin_manager,
)
from ._profile import Profile, find_profile, list_profiles, profile_search_path, read_profile
from ._registry import Registry

# -- signatures and plan schemas (issue 5) ----------------------------------
# isort: split
from ._range import Range
from ._signature import bind_parameters, signature_schema

__all__ = [
    "DOCUMENT_NAMES",
    # engine (issue 3)
    "AsyncStatus",
    "CallbackError",
    "CommandContext",
    "EngineState",
    "PersistentMetadata",
    "RequestAbort",
    "RequestHalt",
    "RequestStop",
    "NO_PLAN_RETURN",
    "RunEngine",
    "RunEngineResult",
    "RunResult",
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
    "TransitionError",
    # plugins and profiles (issue 2)
    "ENTRY_POINT_GROUP",
    "CieloPluginManager",
    "Environment",
    "PluginInfo",
    "PluginWarning",
    "Profile",
    "Registry",
    "Subscribers",
    "find_profile",
    "list_profiles",
    "load_profile",
    "make_plugin_manager",
    "profile_search_path",
    "read_profile",
    # the rest
    "CallbackFailure",
    "CieloError",
    "ConnectionTimeoutError",
    "DeviceError",
    "FailedStatusError",
    "IllegalMessageSequence",
    "InstrumentBusy",
    "InstrumentLock",
    "LockInfo",
    "LimitError",
    "Msg",
    "PlanParameterError",
    "PluginError",
    "PluginHooks",
    "ProfileError",
    "RunEngineError",
    "RunEngineInterrupted",
    "RunRouter",
    "Status",
    "StatusError",
    "StatusTimeoutError",
    "UnknownDocumentName",
    "WaitTimeoutError",
    "Range",
    "bind_parameters",
    "callback_name",
    "default_lock_dir",
    "dumps_document",
    "failed_status",
    "finished_status",
    "hookimpl",
    "hookspec",
    "jsonable",
    "pack_datum",
    "pack_event",
    "pack_events",
    "per_run",
    "signature_schema",
    "status_all",
    "unpack_datum_page",
    "unpack_event_page",
]
