"""``cielo plan show|summarize|check [--profile P] ...``: look at a plan before running it.

``show NAME`` prints a plan's signature and whole docstring (``--json``: its parameter
schema, each device parameter listing the profile's devices that fit).

The plan text is parsed exactly as ``cielo run`` parses it (never evaluated), its
parameters checked against the plan's signature, and the plan driven without hardware
or RunEngine: ``summarize`` prints the moves, reads, points and estimated duration;
``check`` checks every move against the motors' limits.
"""

from __future__ import annotations

import argparse
from typing import Any

from cielo.core import PlanParameterError, signature_schema
from cielo.core.suggest import did_you_mean
from cielo.hookspecs import Subcommands

from ._common import add_profile_option, environment_from_args, print_json, show_help
from ._inventory import plan_summary

__all__ = ["register", "summary_as_dict"]


def register(subparsers: Subcommands) -> None:
    """Add ``cielo plan summarize`` and ``cielo plan check``."""
    parser = subparsers.add_parser(
        "plan",
        help="summarize a plan or check it against motor limits, without running it",
        description="Look at a plan given as text without hardware: what it would move and "
        "read, how long it would take, and whether every move is within the limits.",
    )
    sub = parser.add_subparsers(title="plan commands", metavar="COMMAND")

    show = sub.add_parser(
        "show",
        help="a plan's signature and documentation (--json: its parameter schema)",
        description="Print a plan's signature and documentation. With --json, print the "
        "JSON schema of its parameters, each device parameter restricted to the profile's "
        "devices that fit it (the schema cielo run, the queue server and forms check "
        "parameters against).",
    )
    add_profile_option(show)
    show.add_argument("--json", action="store_true", help="print the JSON schema")
    show.add_argument("name", metavar="NAME", help="the plan's name, e.g. grid_scan")
    show.set_defaults(func=_show)

    summarize = sub.add_parser(
        "summarize",
        help="moves, reads, points and estimated duration of a plan",
        description="Drive the plan without hardware and report its moves, reads, number "
        "of points and an estimated duration (from motor velocities/accelerations and "
        "detector count times, when the devices have them).",
    )
    add_profile_option(summarize)
    summarize.add_argument("--json", action="store_true", help="print JSON")
    summarize.add_argument("plan", metavar="'PLAN(...)'", help="the plan call")
    summarize.set_defaults(func=_summarize)

    check = sub.add_parser(
        "check",
        help="check every move of a plan against the motors' limits",
        description="Drive the plan without hardware and check every target against the "
        "limits of the device it moves; exits 1 listing every move outside them.",
    )
    add_profile_option(check)
    check.add_argument("plan", metavar="'PLAN(...)'", help="the plan call")
    check.set_defaults(func=_check)
    parser.set_defaults(func=show_help(parser))


def summary_as_dict(summary: Any) -> dict[str, Any]:
    """A JSON-friendly account of a :class:`~cielo.plans.PlanSummary`."""
    per_device: dict[str, list[Any]] = {}
    for move in summary.moves:
        per_device.setdefault(move.device, []).append(move.target)
    moves = {}
    for name, targets in per_device.items():
        numbers = [t for t in targets if isinstance(t, int | float)]
        moves[name] = {
            "count": len(targets),
            "min": min(numbers) if numbers else None,
            "max": max(numbers) if numbers else None,
        }
    return {
        "runs": [
            {k: run.get(k) for k in ("plan_name", "detectors", "motors", "num_points")}
            for run in summary.runs
        ],
        "num_points": summary.num_points,
        "events": dict(summary.events),
        "moves": moves,
        "reads": dict(summary.reads),
        "duration": summary.duration,
        "truncated": summary.truncated,
    }


def _show(args: argparse.Namespace) -> int:
    import inspect

    env = environment_from_args(args)
    plan = env.plans.get(args.name)
    if plan is None:
        hint = did_you_mean(args.name, env.plans, after=" ")
        raise PlanParameterError(
            f"no plan {args.name!r} in this profile; {hint}plans: {', '.join(sorted(env.plans))}"
        )
    if args.json:
        print_json(signature_schema(plan, devices=env.devices))
        return 0
    print(f"{args.name}{plan_summary(plan)[0]}")
    print()
    print(inspect.getdoc(plan) or "(no documentation)")
    return 0


def _summarize(args: argparse.Namespace) -> int:
    from cielo.plans import prepare_plan_text, summarize_plan

    env = environment_from_args(args)
    summary = summarize_plan(prepare_plan_text(env, args.plan, check=False)())
    if args.json:
        print_json(summary_as_dict(summary))
    else:
        print(summary)
    return 0


def _check(args: argparse.Namespace) -> int:
    from cielo.plans import check_plan, prepare_plan_text

    env = environment_from_args(args)
    # the same check `cielo run` makes before it opens a run (without connecting devices)
    summary = check_plan(
        prepare_plan_text(env, args.plan, check=False), connect=False
    )  # LimitError -> exit 1
    if summary.truncated:
        print(
            f"partly checked: {len(summary.moves)} moves are within the limits, but {summary.partial}"
        )
    else:
        print(f"ok: all {len(summary.moves)} moves are within the limits")
    return 0
