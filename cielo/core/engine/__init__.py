"""The RunEngine and what it is made of: the plan runner, the command handlers, run metadata,
the state machine, suspenders, hardware stops and what ``RE(plan)`` returns.

Users need :class:`RunEngine`, its results and the suspenders (all re-exported by
:mod:`cielo.core`). Plugin authors who add a Msg command write ``handler(ctx, msg)`` with
``ctx`` a :class:`CommandContext`.
"""

from ._commands import CommandContext
from ._engine import RunEngine
from ._offload import BLOCKING_CALL, BLOCKING_STRIKES, FAST_TO_RETURN, OFFLOADABLE
from ._results import NO_PLAN_RETURN, RunEngineResult, RunResult
from ._runmd import PersistentMetadata, default_state_file
from ._runner import LOOP_HOLD, RequestAbort, RequestHalt, RequestStop
from ._state import EngineState, TransitionError
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

__all__ = [
    "BLOCKING_CALL",
    "BLOCKING_STRIKES",
    "FAST_TO_RETURN",
    "LOOP_HOLD",
    "OFFLOADABLE",
    "NO_PLAN_RETURN",
    "CommandContext",
    "EngineState",
    "PersistentMetadata",
    "RequestAbort",
    "RequestHalt",
    "RequestStop",
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
    "default_state_file",
]
