"""``cielo shell [--profile P]``: IPython with the profile's devices, plans, ``RE`` and ``cat``."""

from __future__ import annotations

import argparse
import sys

from cielo.core import CieloError, InstrumentBusy
from cielo.hookspecs import Subcommands

from ._common import add_profile_option

__all__ = ["register"]


def register(subparsers: Subcommands) -> None:
    parser = subparsers.add_parser(
        "shell",
        help="an IPython session with the profile's devices, plans, RE and catalog",
        description="Start IPython with the profile's devices and plans by name, RE (the "
        "profile's live feedback and storage subscribed as `cielo run` does), the catalog "
        "as cat, and the magics %mov, %movr, %wa and %ct. Holds the instrument lock "
        "until you exit. From Python or Jupyter: ns = cielo.session('PROFILE').",
    )
    add_profile_option(parser)
    parser.set_defaults(func=_shell)


def _shell(args: argparse.Namespace) -> int:
    try:
        import IPython  # noqa: F401
        import rich  # noqa: F401
    except ImportError as exc:
        raise CieloError(
            f"cielo shell needs IPython and rich ({exc}); pip install 'cielo[shell]'"
        ) from exc
    from cielo.shell import session, start_shell

    try:
        ns = session(args.profile, holder=f"cielo shell --profile {args.profile}")
    except InstrumentBusy as exc:  # refused before anything ran
        print(f"cielo: error: {exc}", file=sys.stderr)
        return 2
    with ns:
        start_shell(ns)
    return 0
