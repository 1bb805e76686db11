"""Adaptive agents (tell/ask/report) and adaptive plan helpers."""

from ._agent import Agent, GoldenSectionAgent
from ._plans import agent_scan

__all__ = ["Agent", "GoldenSectionAgent", "agent_scan"]
