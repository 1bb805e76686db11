"""Adaptive agents (tell/ask/report), the plans they steer and the service that runs them.

The bundled agents import their heavy libraries when built: :class:`PeakFitAgent` needs
lmfit (``cielo[fitting]``), :class:`GPAgent` and :class:`UncertaintyMapAgent` need
scikit-learn (``cielo[agents]``).
"""

from ._agent import Agent, GoldenSectionAgent, is_done
from ._gp import GPAgent, UncertaintyMapAgent
from ._peakfit import PeakFitAgent
from ._plans import agent_scan
from ._safety import AgentPointError, Bounds, check_point, limits_of

__all__ = [
    "Agent",
    "AgentPointError",
    "Bounds",
    "GPAgent",
    "GoldenSectionAgent",
    "PeakFitAgent",
    "UncertaintyMapAgent",
    "agent_scan",
    "check_point",
    "is_done",
    "limits_of",
]
