"""``cielo bus tail|replay`` and ``cielo catalog ingest --from-bus``: the document bus.

``cielo bus tail redis://HOST:PORT/STREAM`` prints a live table of whatever runs there;
``cielo bus replay URI --run UID`` (or ``--since/--until``) prints stored runs again, as
tables or as JSON lines; ``cielo catalog ingest --from-bus URI`` stores every run on the
bus in the catalog, resuming where it stopped after a crash or a catalog outage.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from typing import Any

from cielo.hookspecs import Subcommands

from ._common import show_help

__all__ = ["add_ingest_command", "register"]


def register(subparsers: Subcommands) -> None:
    """Add ``cielo bus tail|replay``."""
    parser = subparsers.add_parser(
        "bus", help="follow and replay runs on a document bus", description=__doc__.split("\n\n")[0]
    )
    sub = parser.add_subparsers(title="bus commands", metavar="ACTION")
    parser.set_defaults(func=show_help(parser))

    tail = sub.add_parser("tail", help="print a live table of every run published to URI")
    tail.add_argument("uri", metavar="URI", help="redis://HOST:PORT/STREAM")
    tail.add_argument(
        "--from-start", action="store_true", help="begin with the runs kept on the bus"
    )
    tail.add_argument(
        "--stream", default="primary", help="event stream to tabulate (default primary)"
    )
    tail.add_argument(
        "--idle-exit", type=float, metavar="S", help="exit after S seconds with nothing new"
    )
    tail.set_defaults(func=_tail)

    replay = sub.add_parser("replay", help="print runs kept on the bus again")
    replay.add_argument("uri", metavar="URI", help="redis://HOST:PORT/STREAM")
    replay.add_argument("--run", metavar="UID", help="one run, by uid or its beginning")
    replay.add_argument(
        "--since", metavar="TIME", help="runs started at or after (ISO 8601 or epoch)"
    )
    replay.add_argument("--until", metavar="TIME", help="runs started before (ISO 8601 or epoch)")
    replay.add_argument(
        "--json", action="store_true", help='one ["name", doc] JSON line per document'
    )
    replay.add_argument(
        "--stream", default="primary", help="event stream to tabulate (default primary)"
    )
    replay.set_defaults(func=_replay)


def add_ingest_command(catalog_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``cielo catalog ingest --from-bus URI`` to the ``catalog`` command's actions."""
    ingest = catalog_sub.add_parser(
        "ingest",
        help="store every run published on a bus (resumes after a crash or outage)",
        description="Store every run published to a bus in the catalog, as a member of a "
        "consumer group: a run is acknowledged once stored whole, so after a crash or a "
        "catalog outage it is stored again from its start, exactly once.",
    )
    ingest.add_argument("--from-bus", required=True, metavar="URI", help="redis://HOST:PORT/STREAM")
    ingest.add_argument(
        "--uri", help="catalog URI (default $CIELO_CATALOG, the profile's, or the user's)"
    )
    ingest.add_argument(
        "--profile", "-p", metavar="NAME|PATH", help="take [catalog] uri from this profile"
    )
    ingest.add_argument("--group", default="catalog", help="consumer group (default catalog)")
    ingest.add_argument(
        "--consumer", default=f"ingest-{socket.gethostname()}",
        help="this member's name, the same across restarts (default ingest-HOSTNAME)",
    )  # fmt: skip
    ingest.add_argument(
        "--claim-after", type=float, default=60.0, metavar="S",
        help="take over the runs of group members silent for S seconds (default 60)",
    )  # fmt: skip
    ingest.add_argument(
        "--idle-exit", type=float, metavar="S", help="exit after S seconds with nothing new"
    )
    ingest.set_defaults(func=_ingest)


def _transport(uri: str) -> Any:
    from cielo.bus import open_transport

    return open_transport(uri)


def _time(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    import datetime as dt

    from cielo.core import CieloError

    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise CieloError(
            f"time {text!r} is neither ISO 8601 (2026-12-01T10:00) nor epoch seconds"
        ) from None


def _table(stream: str) -> Any:
    from cielo.callbacks import LiveTable, per_run

    return per_run(lambda: LiveTable(stream=stream))


def _tail(args: argparse.Namespace) -> int:
    from cielo.bus import RemoteDispatcher

    dispatcher = RemoteDispatcher(_transport(args.uri), start="0" if args.from_start else "$")
    dispatcher.subscribe(_table(args.stream))
    print(f"following {args.uri} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        dispatcher.start(idle_timeout=args.idle_exit)
    except KeyboardInterrupt:
        return 0
    return 0


def _replay(args: argparse.Namespace) -> int:
    from cielo.bus import iter_entries

    transport = _transport(args.uri)
    replay = getattr(transport, "replay", None)
    if replay is None:
        from cielo.core import CieloError

        raise CieloError(f"{args.uri!r} keeps no documents to replay (use a redis:// stream)")
    entries = replay(args.run, since=_time(args.since), until=_time(args.until))
    out: Any = _table(args.stream)
    n = 0
    for name, doc in iter_entries(list(entries)):
        if args.json:
            sys.stdout.write(json.dumps([name, doc]) + "\n")
        else:
            out(name, doc)
        n += 1
    if not n:
        print("no runs in that range", file=sys.stderr)
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from cielo.bus import BusConsumer, CatalogIngest
    from cielo.core import make_plugin_manager, read_profile
    from cielo.storage import open_catalog

    uri = args.uri or os.environ.get("CIELO_CATALOG")
    if not uri and args.profile:
        uri = read_profile(args.profile).catalog_uri
    pm = make_plugin_manager()
    sink = CatalogIngest(lambda: open_catalog(uri, plugin_manager=pm))
    transport = _transport(args.from_bus)
    if not callable(getattr(transport, "group_reader", None)):
        from cielo.core import CieloError

        raise CieloError(f"{args.from_bus!r} has no consumer groups (use a redis:// stream)")
    reader = transport.group_reader(args.group, args.consumer, start="0")
    consumer = BusConsumer(reader, sink, ack="run", on_error="retry", claim_after=args.claim_after)
    print(f"ingesting {args.from_bus} as {args.group}/{args.consumer}", file=sys.stderr, flush=True)
    try:
        consumer.run(idle_timeout=args.idle_exit)
    except KeyboardInterrupt:
        pass
    finally:
        sink.close()
    print(
        f"{sink.stored} runs stored, {sink.skipped} already there, {sink.replaced} incomplete "
        f"copies replaced, {consumer.missed} entries lost to retention"
        + (f" ({len(sink.closed)} runs closed as failed for it)" if sink.closed else ""),
        file=sys.stderr,
    )
    return 0
