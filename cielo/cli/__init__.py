"""The ``cielo`` command line (argparse), and helpers subcommands share."""

from ._common import add_profile_option, environment_from_args
from ._main import COMMAND_MODULES, build_parser, main
from cielo.plans import ALLOWED, PlanCall, parse_plan_call

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
