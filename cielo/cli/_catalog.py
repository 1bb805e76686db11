"""``cielo catalog``: search, show, import and export stored runs.

The catalog is ``--uri``, else ``$CIELO_CATALOG``, else the ``[catalog] uri`` of
``--profile``, else the SQLite file in the user's data dir.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from typing import Any

from cielo.hookspecs import Subcommands

from ._common import show_help

__all__ = ["register"]

_WHERE = re.compile(r"^\s*([\w.]+)\s*(==|!=|<=|>=|=|<|>|~=|\bhas\b|\bin\b)\s*(.*?)\s*$")
_OPS = {"==": "$eq", "=": "$eq", "!=": "$ne", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte",
        "~=": "$regex", "has": "$contains", "in": "$in"}  # fmt: skip


def register(subparsers: Subcommands) -> None:
    """Add ``cielo catalog search|show|import|export``."""
    parser = subparsers.add_parser(
        "catalog",
        help="search and read stored runs",
        description=__doc__.split("\n\n")[0].replace("``", ""),  # no RST markup in --help
    )
    sub = parser.add_subparsers(title="catalog commands", metavar="ACTION")
    parser.set_defaults(func=show_help(parser))

    search = sub.add_parser("search", help="list the runs matching a query")
    _common(search)
    search.add_argument("text", nargs="*", help="words to find in the run metadata (full text)")
    search.add_argument("--uid", metavar="UID", help="a run uid or its beginning (3+ characters)")
    search.add_argument("--scan-id", metavar="N|A:B", help="a scan id or an inclusive range A:B")
    search.add_argument("--plan", metavar="NAME", help="plan name")
    search.add_argument("--status", metavar="STATUS", help="success, abort, fail or incomplete")
    search.add_argument("--since", metavar="TIME", help="started at or after (ISO 8601 or epoch)")
    search.add_argument("--until", metavar="TIME", help="started before (ISO 8601 or epoch)")
    search.add_argument(
        "--where", action="append", default=[], metavar="'KEY OP VALUE'",
        help="condition on a run-start key; OP is one of == != < <= > >= ~= (regex) has "
        "(list element or substring) in (JSON list); VALUE is JSON or text; repeatable",
    )  # fmt: skip
    search.add_argument(
        "--query", metavar="JSON", help='Mongo-style query, e.g. \'{"scan_id": {"$gt": 3}}\''
    )
    search.add_argument(
        "--sort",
        default="-time",
        metavar="KEY",
        help="sort key, '-' for descending (default -time)",
    )
    search.add_argument(
        "--limit", type=int, default=20, help="at most this many runs (default 20; 0: all)"
    )
    search.add_argument("--offset", type=int, default=0, help="skip this many runs first")
    search.add_argument(
        "--after",
        metavar="UID",
        help="the next page: runs after this one (the last uid shown; fast at any depth)",
    )
    search.add_argument("--json", action="store_true", help="one JSON object per run")
    search.set_defaults(func=_search)

    from ._bus import add_ingest_command  # `catalog ingest --from-bus` lives with the bus

    add_ingest_command(sub)

    show = sub.add_parser("show", help="show one run: metadata, streams, optionally a table")
    _common(show)
    show.add_argument(
        "run", metavar="UID|SCAN_ID", help="uid, partial uid, scan_id, or -1 for the latest"
    )
    show.add_argument("--stream", help="print this stream as a table")
    show.add_argument("--json", action="store_true", help="print start/stop/streams as JSON")
    show.set_defaults(func=_show)

    imp = sub.add_parser("import", help="store the runs of .jsonl/.msgpack archives")
    _common(imp)
    imp.add_argument(
        "files", nargs="+", metavar="FILE", help="archive written by the jsonl or msgpack suitcase"
    )
    imp.set_defaults(func=_import)

    exp = sub.add_parser(
        "export",
        help="write runs with a suitcase (jsonl, csv, nexus, ...)",
        formatter_class=_SuitcaseHelp,
    )
    _common(exp)
    exp.add_argument(
        "runs", nargs="*", metavar="RUN",
        help="uid, partial uid, scan_id, -1 for the latest, or a scan-id range A:B "
        "(inclusive); several allowed",
    )  # fmt: skip
    exp.add_argument(
        "--query", metavar="JSON", help="also every run matching this Mongo-style query"
    )
    exp.add_argument(
        "--format", "-f", default="jsonl", help="suitcase name (default jsonl; <suitcases>)"
    )
    exp.add_argument("--directory", "-d", default=".", help="output folder (default .)")
    exp.add_argument("--file-template", help="file name template over run-start keys")
    exp.set_defaults(func=_export)

    plot = sub.add_parser(
        "plot",
        help="plot stored runs again (best-effort plots; PNG files without a display)",
    )
    _common(plot)
    plot.add_argument(
        "runs", nargs="+", metavar="RUN", help="uid, partial uid, scan_id, -1, or a range A:B"
    )
    plot.add_argument("--directory", "-d", default=".", help="folder of the PNG files (default .)")
    plot.add_argument("--fields", nargs="+", metavar="FIELD", help="plot these fields only")
    plot.add_argument("--stream", default="primary", help="stream to plot (default primary)")
    plot.add_argument(
        "--png", action="store_true", help="write PNG files even when a display is available"
    )
    plot.set_defaults(func=_plot)


class _SuitcaseHelp(argparse.HelpFormatter):
    """Fills ``<suitcases>`` with the installed suitcases, only when help is shown."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help
        if text and "<suitcases>" in text:
            from cielo.core import make_plugin_manager
            from cielo.core.plugins import Registry

            names = sorted(Registry(make_plugin_manager()).get("suitcases"))
            text = text.replace("<suitcases>", "installed: " + ", ".join(names))
        return text


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--uri", help="catalog URI (default $CIELO_CATALOG, the profile's, or the user's)"
    )
    parser.add_argument(
        "--profile", "-p", metavar="NAME|PATH", help="take [catalog] uri from this profile"
    )


def _open(args: argparse.Namespace, *, create: bool = False) -> Any:
    import os

    from cielo.storage import open_catalog

    uri = args.uri or os.environ.get("CIELO_CATALOG")
    if not uri and args.profile:
        from cielo.core import read_profile

        uri = read_profile(args.profile).catalog_uri
    from cielo.core import make_plugin_manager

    # plugins' readers too; only an import creates a catalog that is not there yet
    return open_catalog(uri, plugin_manager=make_plugin_manager(), create=create)


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
    except RecursionError:
        from cielo.storage import QueryError

        raise QueryError(f"{text[:40]}... nests too deeply to be a query; flatten it") from None


def build_query(args: argparse.Namespace) -> dict[str, Any]:
    """The Mongo-style query the search options describe."""
    from cielo.storage import QueryError

    query: dict[str, Any] = _value(args.query) if args.query else {}
    if args.query and isinstance(query, str):
        raise QueryError(
            f'--query {args.query!r} is not JSON; e.g. \'{{"scan_id": {{"$gt": 3}}}}\''
        )
    if not isinstance(query, dict):
        raise QueryError(f"--query must be a JSON object, not {args.query!r}")
    parts: list[dict[str, Any]] = [query] if query else []
    if args.text:
        parts.append({"$text": " ".join(args.text)})
    if args.uid:
        from cielo.storage import Uid

        Uid(args.uid)  # refuses a prefix too short to be useful
        parts.append({"uid": {"$regex": "^" + re.escape(args.uid)}})
    if args.scan_id:
        lo, sep, hi = args.scan_id.partition(":")
        try:
            if sep:
                rng: dict[str, int] = {}
                if lo:
                    rng["$gte"] = int(lo)
                if hi:
                    rng["$lte"] = int(hi)
                parts.append({"scan_id": rng})
            else:
                parts.append({"scan_id": int(lo)})
        except ValueError:
            raise QueryError(f"--scan-id {args.scan_id!r}: give N or A:B with integers") from None
    if args.plan:
        parts.append({"plan_name": args.plan})
    if args.status:
        from cielo.storage import ExitStatus

        ExitStatus(args.status)  # refuses an unknown status, naming the known ones
        parts.append({"exit_status": args.status})
    if args.since or args.until:
        from cielo.storage._query import to_timestamp

        rng2: dict[str, float] = {}
        if args.since:
            rng2["$gte"] = to_timestamp(
                _value(args.since) if args.since.replace(".", "").isdigit() else args.since
            )
        if args.until:
            rng2["$lt"] = to_timestamp(
                _value(args.until) if args.until.replace(".", "").isdigit() else args.until
            )
        parts.append({"time": rng2})
    for where in args.where:
        match = _WHERE.match(where)
        if not match:
            raise QueryError(
                f"--where {where!r} is not KEY OP VALUE; e.g. 'sample == \"Si\"', "
                "'temperature > 300', 'tags has powder', 'operator in [\"a\", \"b\"]'"
            )
        key, op, raw = match.groups()
        value = raw if op in ("~=",) else _value(raw)
        parts.append({key: {_OPS[op]: value}})
    return {"$and": parts} if len(parts) > 1 else (parts[0] if parts else {})


def _local(t: float | None) -> str:
    return "" if t is None else dt.datetime.fromtimestamp(t).isoformat(sep=" ", timespec="seconds")


def _search(args: argparse.Namespace) -> int:
    from cielo.storage import QueryError

    for option in ("limit", "offset"):
        if getattr(args, option) < 0:
            raise QueryError(
                f"--{option} {getattr(args, option)}: give "
                + ("0 (all) or more" if option == "limit" else "0 or more")
            )
    if args.after and args.offset:
        raise QueryError(
            f"--after {args.after} and --offset {args.offset} both say where the page starts; "
            "give one"
        )
    query = build_query(args)
    with _open(args) as cat:
        after = cat[args.after].uid if args.after else None
        found = cat.search(query) if query else cat
        found = found.sorted(args.sort)
        rows = found.summaries(offset=args.offset, limit=args.limit or None, after=after)
        if args.json:
            for row in rows:
                print(json.dumps(row))
            if not rows:
                print(_no_match(args, len(found)), file=sys.stderr)
            return 0
        from ._common import print_table

        if not rows:
            print(_no_match(args, len(found)))
            return 0
        print_table(
            [
                [
                    r["uid"][:8],
                    str(r["scan_id"]),
                    str(r["plan_name"] or ""),
                    _local(r["time"]),
                    r["exit_status"],
                    str(r["num_events"] if r["num_events"] is not None else ""),
                ]
                for r in rows
            ],  # fmt: skip
            header=["UID", "SCAN_ID", "PLAN", "TIME", "STATUS", "EVENTS"],
        )
        if args.limit and len(rows) == args.limit:
            # counted up to a cap: a broad search over millions of runs is not walked to the end
            cap = args.offset + len(rows) + COUNT_CAP
            total = found.count(at_most=cap + 1)
            if total > args.offset + len(rows):
                of = f"more than {cap:,}" if total > cap else str(total)
                print(
                    f"({len(rows)} of {of} runs; the next page: --after {rows[-1]['uid'][:8]})",
                    file=sys.stderr,
                )
    return 0


#: How far past a page ``cielo catalog search`` counts the runs that match.
COUNT_CAP = 10_000


def _no_match(args: argparse.Namespace, total: int) -> str:
    if total:
        where = f"--after {args.after}" if args.after else f"--offset {args.offset}"
        return f"no runs past {where} ({total} matched)"
    hint = ""
    if args.text:
        hint = (
            " (words match whole words of metadata values, not key names: "
            "--where 'KEY == VALUE' tests a key)"
        )
    return "no runs matched" + hint


def _lookup(cat: Any, key: str) -> Any:
    return cat.lookup(key)


def _show(args: argparse.Namespace) -> int:
    with _open(args) as cat:
        run = _lookup(cat, args.run)
        if args.stream and args.stream not in run:
            from cielo.storage import CatalogError

            raise CatalogError(
                f"run {run.uid} has no stream {args.stream!r}; "
                f"streams: {', '.join(run.stream_names) or 'none'}"
            )
        streams = {}
        for name in run.stream_names:
            stream = run[name]
            streams[name] = {"data_keys": {k: {f: v[f] for f in ("dtype", "shape", "source") if f in v}
                                           for k, v in stream.data_keys.items()}}  # fmt: skip
        if args.json:
            print(
                json.dumps({"start": run.start, "stop": run.stop, "streams": streams}, default=str)
            )
            if args.stream:
                print(run[args.stream].read().to_json(orient="table"))
            return 0
        start = run.start
        print(f"run {run.uid}  scan_id {start.get('scan_id')}  plan {start.get('plan_name')}")
        print(f"  started {_local(start['time'])}  status {run.exit_status}"
              + (f"  reason {run.stop.get('reason')!r}" if run.stop and run.stop.get("reason") else ""))  # fmt: skip
        for key in sorted(k for k in start if k not in ("uid", "time", "scan_id", "plan_name")):
            print(f"  {key}: {json.dumps(start[key], default=str)}")
        for name, info in streams.items():
            print(f"  stream {name}: {', '.join(info['data_keys'])}")
        if args.stream:
            import pandas as pd

            stream = run[args.stream]
            scalar = [k for k, v in stream.data_keys.items() if not v.get("shape")]
            table = stream.read(scalar)
            table["time"] = pd.to_datetime(table["time"], unit="s", utc=True).dt.tz_convert(None)
            with pd.option_context("display.max_rows", 200, "display.width", 160):
                print(table)
            arrays = [k for k in stream.data_keys if k not in scalar]
            if arrays:
                print(f"  (array keys not shown: {', '.join(arrays)}; read them in Python)")
    return 0


def _import(args: argparse.Namespace) -> int:
    with _open(args, create=True) as cat:
        for path in args.files:
            uids = cat.import_documents(path)
            print(f"{path}: {len(uids)} new run(s) {' '.join(u[:8] for u in uids)}".rstrip())
    return 0


def _runs(cat: Any, specs: list[str], query: str | None = None) -> list[Any]:
    """The runs that ``specs`` (uid, partial uid, scan_id, -N, ranges A:B) and the JSON
    ``query`` name, each once, in the order given (a range or query by time)."""
    from cielo.storage import CatalogError, QueryError, ScanID

    runs: dict[str, Any] = {}
    for spec in specs:
        match = re.fullmatch(r"(\d*):(\d*)", spec)
        if match and spec != ":":
            lo, hi = (int(g) if g else None for g in match.groups())
            found = list(cat.search(ScanID(start=lo, stop=hi)).sorted("time").values())
            if not found:
                raise CatalogError(f"no run with a scan_id in {spec} in {cat.uri}")
        else:
            found = [_lookup(cat, spec)]
        runs.update((run.uid, run) for run in found)
    if query:
        mapping = _value(query)
        if not isinstance(mapping, dict):
            raise QueryError(f"--query must be a JSON object, not {query!r}")
        runs.update((run.uid, run) for run in cat.search(mapping).sorted("time").values())
    if not runs:
        raise CatalogError("name the runs: RUN ... (uid, scan_id, -1, A:B) or --query JSON")
    return list(runs.values())


def _export(args: argparse.Namespace) -> int:
    from cielo.core import make_plugin_manager
    from cielo.core.plugins import Registry
    from cielo.storage import CatalogError

    suitcases = Registry(make_plugin_manager()).get("suitcases")
    if args.format not in suitcases:
        raise CatalogError(
            f"unknown suitcase {args.format!r}; known: {', '.join(sorted(suitcases))}"
        )
    params: dict[str, Any] = {"directory": args.directory}
    if args.file_template:
        params["file_template"] = args.file_template
    callback = suitcases[args.format](**params)
    with _open(args) as cat:
        for run in _runs(cat, args.runs, args.query):
            run.replay(callback)
            for label, paths in getattr(callback, "artifacts", {}).get(run.uid, {}).items():
                for path in paths:
                    print(f"{label}: {path}")
    return 0


def _plot(args: argparse.Namespace) -> int:
    import os

    import matplotlib

    no_display = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if args.png or no_display:
        matplotlib.use("Agg")  # files only
    from cielo.callbacks import BestEffort, is_headless

    headless = is_headless()
    figures: list[Any] = []
    with _open(args) as cat:
        for run in _runs(cat, args.runs):
            best = BestEffort(
                table=False,
                baseline=False,
                fields=args.fields,
                stream=args.stream,
                directory=args.directory,
            )
            run.replay(best)
            plots = [c for c in best.children if hasattr(c, "saved")]
            if not plots:
                print(f"run {run.uid[:8]} (scan {run.start.get('scan_id')}): nothing to plot "
                      f"in stream {args.stream!r}", file=sys.stderr)  # fmt: skip
            for child in plots:
                for path in child.saved:
                    print(f"{run.uid[:8]}: {path}")
            figures += plots
    if figures and not headless:
        import matplotlib.pyplot as plt

        plt.show()
    return 0
