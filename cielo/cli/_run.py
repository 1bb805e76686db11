"""``cielo run [--profile P] [--quiet] 'PLAN(...)'``: run a plan given as text.

The text is parsed by :func:`~cielo.cli.parse_plan_call` (never ``eval``), its
arguments checked and converted against the plan's typed signature, and the plan run on
a :class:`~cielo.RunEngine` with the profile's metadata, subscribers and plugin manager.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from typing import Any

from cielo.core import (
    CieloError,
    Environment,
    InstrumentBusy,
    InstrumentLock,
    RunEngine,
)

from ._common import add_profile_option, environment_from_args
from ._parse import parse_plan_call

__all__ = ["register", "run_plan_text"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "run",
        help="run a plan given as text, e.g. 'count([det], num=3)'",
        description="Run one plan call given as text. Allowed: a single call of a known "
        "plan whose arguments are numbers, strings, True/False/None, lists/tuples/dicts "
        "of those, and names of the profile's devices. Nothing is evaluated.",
    )
    add_profile_option(parser)
    parser.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no live feedback (the profile's callbacks); runs are still stored",
    )
    parser.add_argument("plan", metavar="'PLAN(...)'", help="the plan call")
    parser.set_defaults(func=_run)


def run_plan_text(
    env: Environment,
    text: str,
    *,
    quiet: bool = False,
    subscribers: Iterable[Callable[[str, dict[str, Any]], Any]] = (),
) -> tuple[str, ...]:
    """Parse, check and run ``text`` on a fresh RunEngine; returns the run uids.

    :param quiet: do not subscribe the profile's callbacks (live feedback); its suitcases
        and catalog still store the runs, so nothing run quietly is lost.
    :param subscribers: more document callbacks to subscribe.
    """
    from cielo.plans import profile_plan, subscribe_profile  # not at import: `cielo --help`

    call = parse_plan_call(text, env.plans, env.devices)
    messages = profile_plan(env, call.plan, call.args, call.kwargs)
    profile_subscribers = env.make_subscribers(callbacks=not quiet)
    # the profile's metadata reaches every run start through env.pm (not RE.md, which persists);
    # the engine closes (draining its subscribers) before the writers and the catalog close
    with profile_subscribers, RunEngine(plugin_manager=env.pm) as RE:
        subscribe_profile(RE, profile_subscribers)
        for callback in subscribers:
            RE.subscribe(callback)
        uids = RE(messages)
    return tuple(uids)


def _run(args: argparse.Namespace) -> int:
    env = environment_from_args(args)
    text = args.plan if len(args.plan) <= 80 else args.plan[:77] + "..."
    lock = InstrumentLock(env.profile.instrument, holder=f"cielo run {text!r}")
    try:
        with lock:
            uids = run_plan_text(env, args.plan, quiet=args.quiet)
    except InstrumentBusy as exc:  # refused before anything ran
        print(f"cielo: error: {exc}", file=sys.stderr)
        return 2
    except CieloError:
        raise
    except Exception as exc:  # the plan or a device failed: say why, exit non-zero
        print(f"cielo: run failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    for uid in uids:
        print(uid)
    return 0
