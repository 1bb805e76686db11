"""``cielo run [--profile P] [--quiet] 'PLAN(...)'``: run a plan given as text.

The text is parsed by :func:`~cielo.plans.parse_plan_call` (never ``eval``), its
arguments checked and converted against the plan's typed signature, the devices it names
connected and the plan checked without hardware (validity, limits, size) by
:func:`~cielo.plans.prepare_plan_text`; only then does it run on a
:class:`~cielo.RunEngine` with the profile's metadata, subscribers and plugin manager,
holding the profile's instrument lock. Exit status: :data:`~cielo.cli._control.EXIT_CODES`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from cielo.bus import check_publish, open_publisher
from cielo.core import CieloError, Environment, InstrumentLock, RunEngine
from cielo.hookspecs import Subcommands

from ._common import add_profile_option, environment_from_args
from ._control import EXIT_CODES, RunControl

if TYPE_CHECKING:  # cielo.plans is imported when a plan runs, not by `cielo --help`
    from cielo.plans import PreparedPlan

__all__ = ["register", "run_plan_text", "run_prepared"]


def register(subparsers: Subcommands) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a plan given as text, e.g. 'count([det], num=3)'",
        description="Run one plan call given as text. Allowed: a single call of a known "
        "plan whose arguments are numbers, strings, True/False/None, lists/tuples/dicts "
        "of those, and names of the profile's devices. Nothing is evaluated. The plan is "
        "checked (devices connected, limits, size) before a run opens. Ctrl-C on a "
        "terminal pauses and asks what to do; otherwise Ctrl-C and SIGTERM abort. Exit "
        "status: 0 success, 1 failure (plan, device or storage), 2 refused before "
        "anything ran, 130 ended by the user (Ctrl-C), 143 aborted by SIGTERM.",
    )
    add_profile_option(parser)
    parser.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no live feedback (the profile's callbacks); runs are still stored",
    )
    parser.add_argument(
        "--publish",
        metavar="URI",
        help="also publish every document to a bus: redis://HOST:PORT/STREAM or "
        "zmq://HOST:PORT (a Bluesky 0MQ proxy); overrides the profile's [publish] uri",
    )
    parser.add_argument(
        "plan",
        metavar="'PLAN(...)'",
        help="the plan call, quoted, e.g. 'scan([det], motor, -1, 1, 11)' (`cielo plans` lists them)",
    )
    parser.set_defaults(func=_run)


def run_plan_text(
    env: Environment,
    text: str,
    *,
    quiet: bool = False,
    subscribers: Iterable[Callable[[str, dict[str, Any]], Any]] = (),
) -> tuple[str, ...]:
    """Prepare (:func:`~cielo.plans.prepare_plan_text`) and run ``text`` on a fresh
    RunEngine; returns the run uids.

    :param quiet: do not subscribe the profile's callbacks (live feedback); its suitcases
        and catalog still store the runs, so nothing run quietly is lost.
    :param subscribers: more document callbacks to subscribe.
    """
    from cielo.plans import prepare_plan_text

    result = run_prepared(env, prepare_plan_text(env, text), quiet=quiet, subscribers=subscribers)
    return tuple(result)


def run_prepared(
    env: Environment,
    plan: PreparedPlan,
    *,
    quiet: bool = False,
    subscribers: Iterable[Callable[[str, dict[str, Any]], Any]] = (),
    control: RunControl | None = None,
) -> Any:
    """Run a prepared plan with the profile's subscribers; returns the RunResult.

    :param control: drives ``RE(plan)`` (Ctrl-C, SIGTERM); default: a plain call.
    """
    from cielo.plans import subscribe_profile

    profile_subscribers = env.make_subscribers(callbacks=not quiet)
    # the profile's metadata reaches every run start through env.pm (not RE.md, which persists);
    # the engine closes (draining its subscribers) before the writers and the catalog close
    with profile_subscribers, RunEngine(plugin_manager=env.pm) as RE:
        subscribe_profile(RE, profile_subscribers)
        for callback in subscribers:
            RE.subscribe(callback)
        if control is None:
            return RE(plan())
        control.configure(RE)
        return control.run(RE, plan())


class _Progress:
    """What the pause prompt's status shows: the runs opened and their events so far."""

    def __init__(self, plan: PreparedPlan) -> None:
        self.plan = plan
        self.started = time.monotonic()
        self.runs: list[dict[str, Any]] = []
        self.events: Counter[str] = Counter()
        self.streams: dict[str, str] = {}

    def __call__(self, name: str, doc: dict[str, Any]) -> None:
        if name == "start":
            self.runs.append(doc)
        elif name == "descriptor":
            self.streams[doc["uid"]] = doc.get("name", "primary")
        elif name == "event":
            self.events[self.streams.get(doc["descriptor"], "?")] += 1
        elif name == "event_page":
            self.events[self.streams.get(doc["descriptor"], "?")] += len(doc["seq_num"])

    def lines(self) -> list[str]:
        out = [f"plan {self.plan.text}, {time.monotonic() - self.started:.1f} s since it started"]
        for start in self.runs:
            out.append(f"  run {start['uid']} (scan {start.get('scan_id', '?')})")
        if self.events:
            out.append("  events: " + ", ".join(f"{n} in {s}" for s, n in self.events.items()))
        for name, device in self.plan.devices.items():
            position = getattr(device, "position", None)
            if position is not None and not callable(position):
                out.append(f"  {name} at {position!r}")
        return out


def _run(args: argparse.Namespace) -> int:
    from cielo.plans import prepare_plan_text

    try:  # everything until the plan starts: a refusal leaves nothing behind
        env = environment_from_args(args)
        plan = prepare_plan_text(env, args.plan)
        if plan.summary is not None and plan.summary.truncated:
            print(f"cielo: warning: {plan.summary.partial}", file=sys.stderr)
        check_publish(env, args.publish)
        text = args.plan if len(args.plan) <= 80 else args.plan[:77] + "..."
        lock = InstrumentLock(env.profile.instrument, holder=f"cielo run {text!r}")
        lock.acquire()
    except CieloError as exc:
        print(f"cielo: error: {exc}", file=sys.stderr)
        return EXIT_CODES["refused"]
    progress = _Progress(plan)
    control = RunControl(status=progress.lines)
    try:
        with open_publisher(env, args.publish) as publishers:  # closed after the engine drains
            subs: list[Callable[[str, dict[str, Any]], Any]] = [progress, *publishers]
            result = run_prepared(env, plan, quiet=args.quiet, subscribers=subs, control=control)
    except Exception as exc:  # the plan, a device or storage failed: say why
        if control.ended_by is not None:
            print(f"cielo: run ended ({control.ended_by}): {exc}", file=sys.stderr)
            return EXIT_CODES[control.ended_by]
        prefix = "" if isinstance(exc, CieloError) else f"{type(exc).__name__}: "
        print(f"cielo: run failed: {prefix}{exc}", file=sys.stderr)
        return EXIT_CODES["fail"]
    finally:
        lock.release()
    for uid in result or ():
        print(uid)
    _say_where_stored(env, len(result or ()))
    status = getattr(result, "exit_status", "success")
    if control.ended_by is not None:
        reason = getattr(result, "reason", "") or ""
        print(f"cielo: the plan ended early ({status}: {reason})", file=sys.stderr)
        return EXIT_CODES[control.ended_by]
    return EXIT_CODES["success"] if status == "success" else EXIT_CODES["fail"]


def _say_where_stored(env: Environment, runs: int) -> None:
    """One line on stderr: the catalog the runs went to, or that they were not catalogued."""
    if not runs:
        return
    what = "1 run" if runs == 1 else f"{runs} runs"
    if env.catalog_uri:
        from cielo.storage import expand_uri

        where = f"stored in {expand_uri(env.catalog_uri)} ({env.catalog_source})"
    else:
        where = f"not stored in a catalog ({env.catalog_source})"
    suitcases = ", ".join(env.profile.suitcases)
    also = f"; written by suitcases {suitcases}" if suitcases else ""
    print(f"cielo: {what} {where}{also}", file=sys.stderr)
