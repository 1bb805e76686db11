"""``cielo agent list|run|monitor|flags``: adaptive agents as services next to the queue server.

``cielo agent run NAME`` follows the instrument's document bus, tells the agent each
finished run, asks it for the next points and adds them to the queue server as a plan;
``cielo agent monitor FIELD`` watches a value on the bus, stops and pauses the queue when
it leaves its bounds and flags the runs it happened in. Both read the bus from the
profile's ``[publish]`` table unless ``--bus URI`` is given.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from typing import Any

from cielo.core import CieloError
from cielo.hookspecs import Subcommands

from ._common import add_profile_option, environment_from_args, print_json, print_table, show_help

__all__ = ["register"]

log = logging.getLogger("cielo.adaptive")


def register(subparsers: Subcommands) -> None:
    """Add ``cielo agent list|run|monitor|flags``."""
    from cielo.server import DEFAULT_SERVER

    parser = subparsers.add_parser(
        "agent", help="run adaptive agents that steer the queue from the bus",
        description=__doc__.split("\n\n")[0],
    )  # fmt: skip
    sub = parser.add_subparsers(title="agent commands", metavar="ACTION")
    parser.set_defaults(func=show_help(parser))

    listing = sub.add_parser("list", help="the agents the profile's plugins offer")
    add_profile_option(listing)
    listing.set_defaults(func=_list)

    def service_options(p: argparse.ArgumentParser) -> None:
        add_profile_option(p)
        p.add_argument("--server", default=DEFAULT_SERVER, metavar="URL",
                       help=f"the queue server (default {DEFAULT_SERVER}; key from $CIELO_API_KEY)")  # fmt: skip
        p.add_argument("--bus", metavar="URI", help="default: the profile's [publish] uri")
        p.add_argument("--group", metavar="NAME",
                       help="consumer group on the bus: a restarted service resumes there")  # fmt: skip
        p.add_argument("--idle-exit", type=float, metavar="S",
                       help="exit after S seconds with nothing new on the bus")  # fmt: skip

    run = sub.add_parser("run", help="tell an agent each finished run and queue its next points")
    run.add_argument("name", metavar="NAME", help="the agent, as `cielo agent list` shows")
    run.add_argument("--motors", required=True, metavar="M[,M...]", help="motors it moves")
    run.add_argument("--detectors", required=True, metavar="D[,D...]", help="detectors read")
    run.add_argument("--target", required=True, metavar="FIELD", help="the value it is told")
    run.add_argument("--params", default="{}", metavar="JSON",
                     help='the agent\'s parameters: \'{"low": -3, "high": 3}\'')  # fmt: skip
    run.add_argument("--bounds", action="append", default=[], metavar="MOTOR=LOW:HIGH",
                     help="refuse points outside these (repeat per motor)")  # fmt: skip
    run.add_argument("--batch", type=int, default=1, metavar="N", help="points per plan")
    run.add_argument("--max-items", type=int, metavar="N", help="stop after N plans")
    run.add_argument("--autostart", action="store_true",
                     help="turn the queue's autostart on, so each plan runs as it is added")  # fmt: skip
    run.add_argument("--propose", action="store_true",
                     help="propose each plan for review (the server's review mode) instead of "
                          "adding it to the queue")  # fmt: skip
    run.add_argument("--seed-runs", type=int, default=0, metavar="N",
                     help="first tell the agent the last N runs in the profile's catalog")  # fmt: skip
    run.add_argument("--recover-after", type=float, default=10.0, metavar="S",
                     help="a run of its plan closed in the catalog S seconds ago whose stop never "
                          "came on the bus (a queue worker lost mid-run) is told from the "
                          "catalog (default 10)")  # fmt: skip
    run.add_argument("--state", metavar="FILE",
                     help="save the service's state here at every run, and restore it at "
                          "start: a service killed at any moment goes on exactly")  # fmt: skip
    service_options(run)
    run.set_defaults(func=_run)

    monitor = sub.add_parser(
        "monitor", help="stop and pause the queue, and flag the runs, when a value on the bus "
                        "leaves its bounds",
    )  # fmt: skip
    monitor.add_argument("field", metavar="FIELD", help="the data key to watch (beam_current)")
    monitor.add_argument("--low", type=float, help="trip below this")
    monitor.add_argument("--high", type=float, help="trip above this")
    monitor.add_argument("--no-pause", action="store_true",
                         help="only flag the runs; leave the queue running")  # fmt: skip
    monitor.add_argument("--no-flag", action="store_true",
                         help="do not flag runs in the profile's catalog")  # fmt: skip
    service_options(monitor)
    monitor.set_defaults(func=_monitor)

    flags = sub.add_parser("flags", help="the runs monitors flagged in the profile's catalog")
    flags.add_argument("run", nargs="?", metavar="UID",
                       help="only the flags of this run (a uid or unique uid prefix)")  # fmt: skip
    flags.add_argument("--json", action="store_true", help="the flags' start documents")
    add_profile_option(flags)
    flags.set_defaults(func=_flags)


def _list(args: argparse.Namespace) -> int:
    env = environment_from_args(args)
    rows = [[name, (getattr(f, "__doc__", "") or "").strip().splitlines()[0]]
            for name, f in sorted(env.agents.items())]  # fmt: skip
    print_table(rows, ["agent", "summary"])
    return 0


def _bounds(texts: list[str]) -> dict[str, tuple[float, float]]:
    bounds: dict[str, tuple[float, float]] = {}
    for text in texts:
        motor, _, window = text.partition("=")
        low, _, high = window.partition(":")
        try:
            bounds[motor.strip()] = (float(low), float(high))
        except ValueError:
            raise CieloError(f"--bounds {text!r}: write MOTOR=LOW:HIGH, e.g. motor=-3:3") from None
    return bounds


def _motor_bounds(env: Any, motors: list[str], given: dict[str, tuple[float, float]]) -> Any:
    """``--bounds`` narrowed by the soft limits the profile gives each motor (the queue's
    worker builds the same devices from the same profile)."""
    from cielo.adaptive import limits_of

    bounds = dict(given)
    for name in motors:
        limits = limits_of(env.devices.get(name))
        if limits is None:
            continue
        low, high = bounds.get(name, limits)
        bounds[name] = (max(low, limits[0]), min(high, limits[1]))
    return bounds


def _params(text: str) -> dict[str, Any]:
    try:
        params = json.loads(text)
    except ValueError as exc:
        raise CieloError(f"--params {text!r} is not JSON ({exc}); e.g. '{{\"low\": -3}}'") from None
    if not isinstance(params, dict):
        raise CieloError(f"--params {text!r}: give a JSON object, e.g. '{{\"low\": -3}}'")
    return params


def _follow(
    args: argparse.Namespace, env: Any, callback: Any, name: str, ack: str = "batch"
) -> Any:
    """A dispatcher on the profile's bus (or ``--bus``) feeding ``callback``; ``ack="run"``
    acknowledges a run's documents at its stop (a restart gets an unfinished run whole)."""
    from cielo.bus import RemoteDispatcher, open_transport, publish_uri

    uri = publish_uri(env, args.bus)
    if uri is None:
        raise CieloError(
            f"no bus to follow: the profile {env.profile.name!r} has no [publish] uri; "
            "give --bus redis://HOST:PORT/STREAM"
        )
    transport = open_transport(uri, env.registry.get("bus_transports"))
    group = args.group or f"cielo-agent.{name}"
    dispatcher = RemoteDispatcher(transport, group=group, consumer=name, start="$", ack=ack)
    # join the group now: what is published from here on (the runs of the first plan
    # submitted before the dispatcher starts) waits for us
    dispatcher.transport.group_reader(group, name, start="$")
    dispatcher.subscribe(callback)
    print(f"cielo agent: following {uri} as {name} in group {group}", file=sys.stderr, flush=True)
    return dispatcher


def _client(args: argparse.Namespace) -> Any:
    from cielo.server import QueueClient

    return QueueClient(args.server)


def _run(args: argparse.Namespace) -> int:
    from cielo.adaptive import AgentService, Checkpoint, build_agent

    env = environment_from_args(args)
    params = _params(args.params)
    agent = build_agent(
        env.registry.get("agents"), args.name, params,
        allowed=env.profile.agents, source=env.profile.source,
    )  # fmt: skip
    split = lambda text: [t.strip() for t in text.split(",") if t.strip()]  # noqa: E731
    motors, detectors = split(args.motors), split(args.detectors)
    checkpoint = None
    if args.state:
        identity = {"agent": args.name, "params": params, "motors": motors,
                    "detectors": detectors, "target": args.target}  # fmt: skip
        checkpoint = Checkpoint(args.state, identity)
    with _client(args) as client:
        service = AgentService(
            agent, name=args.name, motors=motors, detectors=detectors, target=args.target,
            submit=client.propose if args.propose else client.add, batch=args.batch,
            bounds=_motor_bounds(env, motors, _bounds(args.bounds)), max_items=args.max_items,
            checkpoint=checkpoint, find=lambda item: _reached_queue(client, item, args.propose),
        )  # fmt: skip
        dispatcher = _follow(args, env, service, f"agent.{args.name}", ack="run")
        dispatcher.subscribe(lambda *_: service.state == "running" or dispatcher.stop(), "stop")
        if args.seed_runs:
            told = service.seed(_recent_runs(env, args.seed_runs))
            log.warning("agent %s: told %d points from the catalog", args.name, told)
        if args.autostart:
            client.control("queue/autostart", {"enable": True})
        queue = client.queue()
        if not (queue["items"] or queue.get("running_item") or service.outstanding):
            service.suggest()  # nothing waits or runs (a restart finds its plan there): start
        done = threading.Event()
        watcher = threading.Thread(
            target=_recover, args=(service, env, args.recover_after, done, dispatcher.stop),
            name="agent-recover", daemon=True,
        )  # fmt: skip
        try:
            if service.state == "running":
                watcher.start()
                dispatcher.start(idle_timeout=args.idle_exit)
        except KeyboardInterrupt:
            pass
        finally:
            done.set()
            dispatcher.stop()
    print_json(service.report())
    return 1 if service.state == "failed" else 0


def _recover(service: Any, env: Any, grace: float, done: threading.Event, stop: Any) -> None:
    """Every ``grace / 2`` s, tell the service the runs of its plans the catalog closed
    while their stop never came on the bus (see :meth:`AgentService.recover`); ``stop()``
    the dispatcher when that ended the service."""
    if env.catalog_uri is None:
        return
    catalog = None
    while not done.wait(max(grace / 2, 0.5)):
        try:
            catalog = catalog or _catalog(env)
            if service.recover(catalog, grace=grace) and service.state != "running":
                stop()
        except Exception as exc:  # the catalog may not exist yet, or be down for a while
            log.warning("agent: cannot look for runs closed in the catalog: %s", exc)


def _reached_queue(client: Any, item: dict[str, Any], proposals: bool) -> bool:
    """Whether the server has ``item`` (by its ``agent_item_uid``): queued, running, done,
    or proposed."""
    uid = item["kwargs"]["md"]["agent_item_uid"]
    queue = client.queue()
    found = [*queue["items"], queue.get("running_item") or {}, *client.history()]
    if proposals:
        found += client.proposals()
    return any(((i.get("kwargs") or {}).get("md") or {}).get("agent_item_uid") == uid
               for i in found)  # fmt: skip


def _recent_runs(env: Any, count: int) -> list[Any]:
    if env.catalog_uri is None:
        raise CieloError(f"--seed-runs: the profile {env.profile.name!r} keeps no catalog")
    return list(_catalog(env)[-count:])


def _catalog(env: Any) -> Any:
    """The profile's catalog, as it is (not made when missing)."""
    from cielo.storage import open_catalog

    return open_catalog(env.catalog_uri, plugin_manager=env.pm, create=False)


def _monitor(args: argparse.Namespace) -> int:
    from cielo.adaptive import Monitor
    from cielo.server import QueueError

    env = environment_from_args(args)
    with _client(args) as client:

        def stop_and_pause(reason: str) -> None:
            """Stop the queue after the running item and pause the running plan."""
            client.control("queue/stop")
            try:
                client.control("re/pause", {"option": "deferred"})
            except QueueError as exc:  # nothing running: the stopped queue is enough
                log.warning("monitor: no plan to pause (%s)", exc)
            print(f"monitor: {reason}: queue stopped, plan paused", file=sys.stderr)

        name = f"monitor.{args.field}"
        monitor = Monitor(
            args.field, None if args.no_pause else stop_and_pause, low=args.low, high=args.high,
            flag=None if args.no_flag else _flagger(env), by=name,
        )  # fmt: skip
        dispatcher = _follow(args, env, monitor, name)
        try:
            dispatcher.start(idle_timeout=args.idle_exit)
        except KeyboardInterrupt:
            pass
        finally:
            dispatcher.stop()
    trips = [reason for reason, _ in monitor.trips]
    print_json({"field": args.field, "trips": trips, "flagged": sorted(monitor.flagged)})
    return 0


def _flagger(env: Any) -> Any:
    """``flag(documents)`` storing flags in the profile's catalog (opened at the first flag:
    the queue's worker may not have made it yet); ``None`` when it keeps no catalog."""
    from cielo.storage import open_catalog

    if env.catalog_uri is None:
        log.warning("monitor: the profile %r keeps no catalog: runs are not flagged",
                    env.profile.name)  # fmt: skip
        return None
    opened: list[Any] = []

    def flag(documents: list[tuple[str, dict[str, Any]]]) -> None:
        if not opened:
            opened.append(open_catalog(env.catalog_uri, plugin_manager=env.pm))
        opened[0].import_documents(documents)
        start = documents[0][1]
        print(f"monitor: flagged run {start['flagged_run']}: {start['flag']}", file=sys.stderr)

    return flag


def _flags(args: argparse.Namespace) -> int:
    from cielo.adaptive import FLAG_PLAN, run_flags

    env = environment_from_args(args)
    if env.catalog_uri is None:
        raise CieloError(f"the profile {env.profile.name!r} keeps no catalog: nothing is flagged")
    catalog = _catalog(env)
    if args.run:
        flags = run_flags(catalog, catalog[args.run].uid)
    else:
        found = catalog.search({"plan_name": FLAG_PLAN}).values()
        flags = sorted((run.start for run in found), key=lambda start: start["time"])
    if args.json:
        print_json(flags)
        return 0
    rows = [[flag["flagged_run"][:8], str(flag.get("flagged_scan_id", "")),
             time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(flag["time"])),
             flag.get("flagged_by", ""), flag["flag"]] for flag in flags]  # fmt: skip
    print_table(rows, ["run", "scan", "flagged at", "by", "why"])
    return 0
