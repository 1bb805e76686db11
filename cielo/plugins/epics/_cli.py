"""What the ``epics`` plugin adds besides devices: ``cielo ioc sim`` and the ``epics`` profile."""

from __future__ import annotations

import argparse
from pathlib import Path

from cielo.core import hookimpl
from cielo.hookspecs import Subcommands

__all__ = ["PROFILE_DIR", "cielo_add_commands", "cielo_profile_dirs"]

#: The profiles this plugin ships: ``epics``, the demo IOC's devices.
PROFILE_DIR = Path(__file__).resolve().parent / "profiles"


@hookimpl
def cielo_add_commands(subparsers: Subcommands) -> None:
    """Add ``cielo ioc`` and its ``sim`` subcommand (serve the demo IOC in the foreground)."""
    from ._demo_ioc import build_parser, run_from_args

    ioc = subparsers.add_parser(
        "ioc",
        help="run an EPICS IOC to try cielo without a beamline",
        description="EPICS IOCs that come with cielo (they need pythonSoftIOC).",
    )
    commands = ioc.add_subparsers(title="IOCs", metavar="IOC")
    sim = commands.add_parser(
        "sim",
        help="the demo IOC: motors, a detector, a scaler, calc and waveform records",
        description="Serve the demo IOC in the foreground until Ctrl-C. Its PVs drive the "
        "'epics' profile: `cielo run --profile epics 'scan([det], motor, -2, 2, 11)'`.",
    )
    build_parser(sim)
    sim.set_defaults(func=run_from_args)
    ioc.set_defaults(func=lambda _args: _usage(ioc))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


@hookimpl
def cielo_profile_dirs() -> list[Path]:
    """The directory of the ``epics`` profile."""
    return [PROFILE_DIR]
