"""The ``cielo`` command line (argparse), and helpers subcommands share."""

from typing import Any

from ._common import add_profile_option, environment_from_args
from ._main import COMMAND_MODULES, build_parser, main

__all__ = [
    "ALLOWED",
    "COMMAND_MODULES",
    "PlanCall",
    "add_profile_option",
    "build_parser",
    "environment_from_args",
    "main",
    "parse_plan_call",
]

_FROM_PLANS = ("ALLOWED", "PlanCall", "parse_plan_call")


def __getattr__(name: str) -> Any:
    # plan-text parsing lives in cielo.plans, imported on first use (not by `cielo --help`)
    if name in _FROM_PLANS:
        import cielo.plans

        return getattr(cielo.plans, name)
    raise AttributeError(f"module 'cielo.cli' has no attribute {name!r}")
