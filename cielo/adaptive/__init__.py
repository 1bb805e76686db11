"""Adaptive agents (tell/ask/report), the plans they steer and the service that runs them.

The bundled agents import their heavy libraries when built: :class:`PeakFitAgent` needs
lmfit (``cielo[fitting]``), :class:`GPAgent` and :class:`UncertaintyMapAgent` need
scikit-learn (``cielo[agents]``).
"""

from ._acquire import ID_KEY, acquire_suggestions
from ._agent import Agent, GoldenSectionAgent, build_agent, is_done
from ._checkpoint import Checkpoint
from ._gp import GPAgent, UncertaintyMapAgent
from ._monitor import FLAG_PLAN, Monitor, flag_documents, run_flags
from ._peakfit import PeakFitAgent
from ._plans import agent_scan
from ._runs import RunPoints
from ._safety import AgentPointError, Bounds, check_point, limits_of
from ._service import AgentService

__all__ = [
    "Agent",
    "AgentPointError",
    "AgentService",
    "Bounds",
    "Checkpoint",
    "FLAG_PLAN",
    "GPAgent",
    "GoldenSectionAgent",
    "ID_KEY",
    "Monitor",
    "PeakFitAgent",
    "RunPoints",
    "UncertaintyMapAgent",
    "acquire_suggestions",
    "agent_scan",
    "build_agent",
    "check_point",
    "flag_documents",
    "is_done",
    "limits_of",
    "run_flags",
]
