"""The ``cielo`` command: an argparse parser assembled from subcommand modules.

Each module in :data:`COMMAND_MODULES` exposes ``register(subparsers)``, which adds its
parsers and sets ``func`` on each: ``func(args) -> int | None`` (the exit status; ``None``
means 0). A :class:`~cielo.core.CieloError` escaping a command is printed to stderr as
``cielo: error: ...`` with exit status 1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from cielo.core import CieloError

__all__ = ["COMMAND_MODULES", "build_parser", "main"]

#: Subcommand modules, in the order ``cielo --help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "cielo.cli._plugins_cmd",
    "cielo.cli._profiles_cmd",
    "cielo.cli._inventory",
    "cielo.cli._run",
    "cielo.cli._shell",
    "cielo.cli._hookref",
    "cielo.cli._plan",
    "cielo.cli._catalog",
    "cielo.cli._bus",
    "cielo.cli._ioc",
    "cielo.cli._serve",
    "cielo.cli._queue",
)


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every subcommand module registered."""
    from cielo import __version__

    parser = argparse.ArgumentParser(
        prog="cielo",
        description="Run experiments at scientific user facilities: plugins, profiles, plans.",
    )
    parser.add_argument("--version", action="version", version=f"cielo {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``cielo`` command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        status = func(args)
    except CieloError as exc:
        print(f"cielo: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cielo: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`cielo ... | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    return 0 if status is None else int(status)
