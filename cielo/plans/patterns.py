"""Trajectory patterns (public module): ``plan_pattern_module`` of the standard plans."""

from ._patterns import *  # noqa: F403
from ._patterns import __all__ as __all__
