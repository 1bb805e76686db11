"""Helpers shared by subcommands: the ``--profile`` option and loading it."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from cielo.core import Environment, load_profile

__all__ = [
    "add_profile_option",
    "environment_from_args",
    "print_json",
    "print_table",
    "show_help",
]


def add_profile_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--profile NAME|PATH`` (default ``sim``)."""
    parser.add_argument(
        "--profile",
        "-p",
        default="sim",
        metavar="NAME|PATH",
        help="profile name (on the search path) or TOML file (default: sim)",
    )


def environment_from_args(args: argparse.Namespace) -> Environment:
    """Load the profile named by ``args.profile``."""
    return load_profile(getattr(args, "profile", "sim"))


def show_help(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """A handler for a command group run without its action: print its help, exit 2."""

    def handler(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return handler


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def print_table(rows: Sequence[Sequence[str]], header: Sequence[str] | None = None) -> None:
    """Columns padded to the widest cell; the last column is never padded."""
    all_rows = [*([header] if header else []), *rows]
    if not all_rows:
        return
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(all_rows[0]) - 1)]
    for row in all_rows:
        cells = [*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]
        print("  ".join(cells).rstrip())
