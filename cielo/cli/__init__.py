"""The ``cielo`` command line (argparse), and helpers subcommands share."""

from typing import Any

from ._common import add_profile_option, environment_from_args
from ._hookref import hook_docs, render_hook_reference
from ._main import COMMAND_MODULES, Subcommands, add_plugin_commands, build_parser, main
from ._run import run_plan_text

__all__ = [
    "ALLOWED",
    "COMMAND_MODULES",
    "PlanCall",
    "Subcommands",
    "add_plugin_commands",
    "add_profile_option",
    "build_parser",
    "environment_from_args",
    "hook_docs",
    "main",
    "parse_plan_call",
    "render_hook_reference",
    "run_plan_text",
]

_FROM_PLANS = ("ALLOWED", "PlanCall", "parse_plan_call")


def __getattr__(name: str) -> Any:
    # plan-text parsing lives in cielo.plans, imported on first use (not by `cielo --help`)
    if name in _FROM_PLANS:
        import cielo.plans

        return getattr(cielo.plans, name)
    raise AttributeError(f"module 'cielo.cli' has no attribute {name!r}")
