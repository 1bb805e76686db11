"""A ``cielo`` subcommand module: ``register(subparsers)`` adds its parser(s)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this module's subcommands (none yet)."""
