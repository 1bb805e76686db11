"""``cielo ioc sim [--port P] [--prefix X]``: serve the demo EPICS IOC in the foreground."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``cielo ioc`` and its ``sim`` subcommand."""
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
    from cielo.plugins.epics._demo_ioc import build_parser

    build_parser(sim)
    sim.set_defaults(func=_run_sim)
    ioc.set_defaults(func=lambda _args: _usage(ioc))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _run_sim(args: argparse.Namespace) -> int:
    from cielo.plugins.epics._demo_ioc import run_from_args

    return run_from_args(args)
