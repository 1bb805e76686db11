"""``cielo queue [--server URL] COMMAND``: a client of ``cielo serve``.

The key comes from ``CIELO_API_KEY``. ``add`` takes a plan call in the same text form
as ``cielo run`` (parsed, never evaluated; checked by the server against the plan's
parameters), a call of a function the profile allows (``--function``, in the same form)
or an instruction (``--instruction queue_stop``); ``call`` runs an allowed function at
once and prints what it returns.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import sys
from collections.abc import Callable
from typing import Any

from cielo.hookspecs import Subcommands

from ._common import print_json, print_table, show_help

__all__ = ["register"]

Handler = Callable[[argparse.Namespace], int]

#: ``cielo queue NAME`` -> (API path, help) for the commands without arguments
_CONTROLS = {
    "start": ("queue/start", "run the queue's items one after the other"),
    "stop": ("queue/stop", "stop the queue after the running item"),
    "open": ("environment/open", "open the environment (start the worker)"),
    "close": ("environment/close", "close the environment"),
    "pause": ("re/pause", "pause the running plan at its next checkpoint"),
    "resume": ("re/resume", "resume the paused plan"),
    "abort": ("re/abort", "abort the running or paused plan (it goes back to the queue)"),
}


def register(subparsers: Subcommands) -> None:
    from cielo.server import CLIENT_KEY_ENV, DEFAULT_SERVER

    parser = subparsers.add_parser(
        "queue",
        help="drive a queue server (cielo serve): add, list, start, stop, history",
        description=f"A client of `cielo serve`. The API key is read from {CLIENT_KEY_ENV}.",
    )
    parser.add_argument(
        "--server", default=DEFAULT_SERVER, metavar="URL", help=f"default {DEFAULT_SERVER}"
    )
    sub = parser.add_subparsers(title="queue commands", metavar="COMMAND")

    status = sub.add_parser("status", help="the server's state, queue and history sizes")
    status.add_argument("--json", action="store_true", help="the whole status as JSON")
    status.set_defaults(func=_status)

    add = sub.add_parser(
        "add",
        help="add a plan call, e.g. 'count([det], num=3)', an allowed function "
        "(--function 'NAME(...)') or an instruction (--instruction queue_stop)",
        description="Add one item at the back of the queue: a plan call written as for "
        "`cielo run`, a call of a function the profile allows (`cielo queue functions` "
        "lists them) written the same way, or an instruction.",
    )
    what = add.add_mutually_exclusive_group(required=True)
    what.add_argument("plan", nargs="?", metavar="'PLAN(...)'", help="the plan call")
    what.add_argument(
        "--function", metavar="'NAME(...)'", help="a call of a function the profile allows"
    )
    what.add_argument(
        "--instruction",
        metavar="NAME",
        help="an instruction: queue_stop (the queue stops when it reaches it)",
    )
    add.add_argument("--front", action="store_true", help="at the front of the queue")
    add.add_argument("--start", action="store_true", help="then start the queue")
    add.add_argument(
        "--wait", action="store_true", help="then wait until the queue is idle and print results"
    )
    add.set_defaults(func=_add)

    call = sub.add_parser(
        "call",
        help="run an allowed function now, outside the queue, and print what it returns",
        description="Run one call of a function the profile allows (written as a plan call "
        "is: arguments are literals and device names) at once, while nothing runs, and "
        "print its return value as JSON; it goes to the history like any item.",
    )
    call.add_argument("function", metavar="'NAME(...)'", help="the function call")
    call.add_argument("--json", action="store_true", help="the whole result as JSON")
    call.add_argument("--timeout", type=float, metavar="SECONDS", help="give up waiting after")
    call.set_defaults(func=_call_now)

    for name, text, handler in (
        ("list", "the queued items and the running one", _list),
        ("functions", "the functions you may add or call, with their parameters", _functions),
        ("history", "executed items with exit status and run uids", _history),
        ("proposals", "items proposed for review", _proposals),
    ):
        listing = sub.add_parser(name, help=text)
        listing.add_argument("--json", action="store_true", help="as JSON")
        listing.set_defaults(func=handler)

    remove = sub.add_parser("remove", help="remove a queued item by uid")
    remove.add_argument("uid")
    remove.set_defaults(func=_remove)

    move = sub.add_parser("move", help="move a queued item (to a position, or next to another)")
    move.add_argument("uid")
    where = move.add_mutually_exclusive_group(required=True)
    where.add_argument("--pos", help="the index it takes (0 the front, -1 the back), front or back")
    where.add_argument("--before", metavar="UID", help="just before this item")
    where.add_argument("--after", metavar="UID", help="just after this item")
    move.set_defaults(func=_move)

    upload = sub.add_parser(
        "upload",
        help="add a spreadsheet's plans (.csv or .xlsx, one row per plan): all rows or none",
        description="Columns: 'plan', then one per parameter (cells: numbers, true/false, "
        "JSON, device names; 'det, det2' for a list).",
    )
    upload.add_argument("file")
    upload.set_defaults(func=_upload)

    propose = sub.add_parser("propose", help="propose a plan call for review")
    propose.add_argument("plan", metavar="'PLAN(...)'")
    propose.set_defaults(func=_propose)
    for verb, text in (("approve", "into the queue (at the back)"), ("reject", "(to history)")):
        decide = sub.add_parser(verb, help=f"{verb} a proposal {text}")
        decide.add_argument("uid")
        decide.add_argument("--note", default="", help="why (kept with the item)")
        decide.set_defaults(
            func=_asking(
                lambda c, a: getattr(c, a.verb)(a.uid, note=a.note),
                functools.partial(_decided, verb),
            ),
            verb=verb,
        )

    watch = sub.add_parser(
        "watch",
        help="follow the server live: status changes, the documents of runs, a live table "
        "of the running scan (one row per event, as cielo run prints), or the console",
    )
    watch.add_argument(
        "what", nargs="?", choices=("status", "documents", "table", "console"), default="status"
    )
    watch.add_argument("--count", type=int, default=0, help="stop after N messages (table: N runs)")
    watch.set_defaults(func=_watch)

    whoami = sub.add_parser("whoami", help="the user, roles and scopes of CIELO_API_KEY")
    whoami.set_defaults(func=_whoami)

    key = sub.add_parser("key", help="API keys: create, list, revoke")
    key_sub = key.add_subparsers(title="key commands", metavar="COMMAND", required=True)
    create = key_sub.add_parser("create", help="a new key (its secret is printed once)")
    create.add_argument(
        "--role",
        action="append",
        required=True,
        dest="roles",
        help="observer, proposer, user, reviewer or admin (repeatable)",
    )
    create.add_argument("--user", help="for another user (admin)")
    create.add_argument("--group", help="its group in the permissions file")
    create.add_argument("--expires", type=float, metavar="SECONDS", help="lifetime")
    create.add_argument("--note", default="")
    create.set_defaults(func=_key_create)
    key_list = key_sub.add_parser("list", help="the keys, without secrets")
    key_list.add_argument("--json", action="store_true", help="as JSON")
    key_list.set_defaults(func=_key_list)
    revoke = key_sub.add_parser("revoke", help="revoke a key by its id (first 8 characters)")
    revoke.add_argument("id")
    revoke.set_defaults(func=_key_revoke)

    for name, (path, text) in _CONTROLS.items():
        control = sub.add_parser(name, help=text)
        control.add_argument("--wait", action="store_true", help="then wait until idle")
        control.set_defaults(func=_control, path=path)
    parser.set_defaults(func=show_help(parser))


def _client(args: argparse.Namespace) -> Any:
    from cielo.server import QueueClient

    return QueueClient(args.server)


def _status(args: argparse.Namespace) -> int:
    with _client(args) as client:
        status = client.status()
    if args.json:
        print_json(status)
        return 0
    running = status["running_item_uid"]
    print(
        f"manager       {status['manager_state']}"
        + (" (stop pending)" if status["queue_stop_pending"] else "")
    )
    print(f"environment   {status['worker_environment_state']}")
    if status.get("worker_environment_error"):
        print(f"  last error  {status['worker_environment_error']}")
    print(f"RunEngine     {status['re_state'] or '-'}")
    print(
        f"queue         {status['items_in_queue']} items"
        + (f", running {running}" if running else "")
    )
    print(f"history       {status['items_in_history']} items")
    return 0


def _call_text(item: dict[str, Any]) -> str:
    """A plan as its call; a function as ``function NAME(...)``; an instruction by name."""
    if item.get("item_type") == "instruction":
        return f"instruction {item.get('name')}"
    args = [repr(a) for a in item.get("args", [])]
    args += [f"{k}={v!r}" for k, v in item.get("kwargs", {}).items()]
    call = f"{item.get('name')}({', '.join(args)})"
    return f"function {call}" if item.get("item_type") == "function" else call


def _add(args: argparse.Namespace) -> int:
    with _client(args) as client:
        before = len(client.history())
        if args.function is not None:
            new = client.function_from_text(args.function)
        elif args.instruction is not None:
            new = {"item_type": "instruction", "name": args.instruction}
        else:
            new = client.item_from_text(args.plan)
        item = client.add(new, **({"pos": "front"} if args.front else {}))
        print(item["item_uid"])
        if args.start or args.wait:
            status = client.status()
            if status["manager_state"] == "idle" and not status["running_item_uid"]:
                client.start()
        if args.wait:
            client.wait_idle()
            return _print_results(client.history()[before:])
    return 0


def _print_results(records: list[dict[str, Any]]) -> int:
    failed = 0
    for record in records:
        result = record.get("result", {})
        status = result.get("exit_status", "?")
        failed += status not in ("completed", "stopped")
        runs = " ".join(result.get("run_uids", [])) or "-"
        reason = f"  ({result['msg']})" if result.get("msg") else ""
        if record.get("item_type") == "function" and status == "completed":
            reason = f"  returned {json.dumps(result.get('return_value'))}"
        print(f"{status}  {_call_text(record)}  runs: {runs}{reason}")
    return 1 if failed else 0


def _call_now(args: argparse.Namespace) -> int:
    with _client(args) as client:
        result = client.call_function(
            client.function_from_text(args.function), timeout=args.timeout
        )
    if args.json:
        print_json(result)
    elif result.get("success"):
        print(json.dumps(result.get("return_value"), indent=2))
    if not result.get("success"):
        print(
            f"cielo: error: {args.function} {result.get('exit_status', 'failed')}: "
            f"{result.get('msg')}\n{result.get('traceback') or ''}".rstrip(),
            file=sys.stderr,
        )
        return 1
    return 0


def _function_rows(functions: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, function in sorted(functions.items()):
        params = ", ".join(_parameter(p) for p in function.get("parameters", []))
        rows.append([f"{name}({params})", function.get("description") or ""])
    return rows


def _parameter(param: dict[str, Any]) -> str:
    text = str(param.get("name"))
    if "default" in param:
        text += f"={param['default']}"  # its repr
    return text


def _listing(
    fetch: Callable[[Any], Any],
    rows: Callable[[Any], list[list[str]]],
    header: list[str],
    empty: str,
) -> Handler:
    """A command that fetches something (``fetch(client)``) and prints it as a table of
    ``rows(it)`` (``--json``: as JSON; ``empty`` when there are no rows)."""

    def handler(args: argparse.Namespace) -> int:
        with _client(args) as client:
            data = fetch(client)
        if args.json:
            print_json(data)
            return 0
        table = rows(data)
        if not table:
            print(empty)
            return 0
        print_table(table, header=header)
        return 0

    return handler


def _asking(call: Callable[[Any, argparse.Namespace], Any], say: Callable[[Any], str]) -> Handler:
    """A command that makes one call (``call(client, args)``) and prints ``say(answer)``."""

    def handler(args: argparse.Namespace) -> int:
        with _client(args) as client:
            answer = call(client, args)
        print(say(answer))
        return 0

    return handler


def _queue_rows(queue: dict[str, Any]) -> list[list[str]]:
    running = queue["running_item"]
    rows = [["running", running["item_uid"], _call_text(running)]] if running else []
    rows += [[str(n), i["item_uid"], _call_text(i)] for n, i in enumerate(queue["items"])]
    return rows


def _history_rows(records: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for record in records:
        result = record.get("result", {})
        rows.append(
            [
                _when(result.get("time_stop"), "%H:%M:%S", "-"),
                result.get("exit_status", "?"),
                _call_text(record),
                " ".join(result.get("run_uids", [])) or (result.get("msg") or "-"),
            ]
        )
    return rows


def _key_rows(keys: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            k["id"],
            k["user"],
            k["group"],
            ",".join(k["roles"]),
            _when(k.get("expires"), "%Y-%m-%d %H:%M", "never"),
            k["note"],
        ]
        for k in keys
    ]


def _decided(verb: str, item: dict[str, Any]) -> str:
    return f"{verb.removesuffix('e')}ed {_call_text(item)}"  # approved, rejected


def _when(stamp: float | None, form: str, never: str) -> str:
    return datetime.datetime.fromtimestamp(stamp).strftime(form) if stamp else never


_list = _listing(lambda c: c.queue(), _queue_rows, ["pos", "uid", "item"], "the queue is empty")
_functions = _listing(
    lambda c: c.functions(),
    _function_rows,
    ["function", "description"],
    "no function is allowed (a profile allows them in [functions] allow)",
)
_history = _listing(
    lambda c: c.history(),
    _history_rows,
    ["stopped", "exit", "plan", "runs"],
    "the history is empty",
)
_proposals = _listing(
    lambda c: c.proposals(),
    lambda items: [[i["item_uid"], i.get("user", "?"), _call_text(i)] for i in items],
    ["uid", "proposed by", "plan"],
    "nothing is proposed",
)
_key_list = _listing(
    lambda c: c.keys(), _key_rows, ["id", "user", "group", "roles", "expires", "note"], "no keys"
)
_remove = _asking(lambda c, a: c.remove(a.uid), lambda item: f"removed {_call_text(item)}")
_propose = _asking(
    lambda c, a: c.propose(c.item_from_text(a.plan)), lambda item: str(item["item_uid"])
)
_key_revoke = _asking(
    lambda c, a: c.revoke_key(a.id), lambda key: f"revoked key {key['id']} of {key['user']!r}"
)
_whoami = _asking(
    lambda c, a: c.whoami(),
    lambda me: (
        f"user    {me['user']}\nroles   {', '.join(me['roles'])}\nscopes  {' '.join(me['scopes'])}"
    ),
)


def _control(args: argparse.Namespace) -> int:
    with _client(args) as client:
        client.control(args.path)
        if args.wait:
            status = client.wait_idle()
            if status.get("worker_environment_error") and args.path == "environment/open":
                print(f"cielo: error: {status['worker_environment_error']}", file=sys.stderr)
                return 1
    return 0


def _move(args: argparse.Namespace) -> int:
    where: dict[str, Any] = {}
    if args.pos is not None:
        where["pos_dest"] = args.pos if args.pos in ("front", "back") else _index(args.pos)
    else:
        where = {"before_uid": args.before} if args.before else {"after_uid": args.after}
    with _client(args) as client:
        item = client.move(args.uid, **where)
        index = [i["item_uid"] for i in client.queue()["items"]].index(item["item_uid"])
    print(f"moved {_call_text(item)} to position {index}")
    return 0


def _index(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise SystemExit(f"cielo: error: --pos {text!r} is not an index, front or back") from None


def _upload(args: argparse.Namespace) -> int:
    with _client(args) as client:
        items = client.upload(args.file)
    for item in items:
        print(f"{item['item_uid']}  {_call_text(item)}")
    print(f"added {len(items)} items", file=sys.stderr)
    return 0


def _watch(args: argparse.Namespace) -> int:
    import asyncio

    from cielo.server import AsyncQueueClient

    feed = {
        "status": "status",
        "documents": "documents",
        "table": "documents",
        "console": "console_output",
    }
    shown = 0
    table = None
    if args.what == "table":
        from cielo.callbacks import LiveTable

        table = LiveTable()

    async def follow() -> None:
        nonlocal shown
        async with AsyncQueueClient(args.server) as client:
            async for message in client.watch(feed[args.what]):
                if table is not None:
                    name = str(message.get("name"))
                    table(name, message.get("doc") or {})
                    if name != "stop":
                        continue
                else:
                    print(_watched(args.what, message), flush=True)
                shown += 1
                if args.count and shown >= args.count:
                    return

    try:
        asyncio.run(follow())
    except KeyboardInterrupt:
        pass
    return 0


def _watched(what: str, message: dict[str, Any]) -> str:
    if what == "console":
        return str(message.get("msg", "")).rstrip()
    if what == "documents":
        name, doc = message.get("name"), message.get("doc") or {}
        if name == "event":
            values = " ".join(
                f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in (doc.get("data") or {}).items()
            )
            return f"event {doc.get('seq_num')}  {values}"
        if name == "start":
            return f"start {doc.get('uid')}  {doc.get('plan_name')} scan_id={doc.get('scan_id')}"
        if name == "stop":
            return f"stop  {doc.get('run_start')}  {doc.get('exit_status')}"
        return str(name)
    running = message.get("running_item_uid")
    return (
        f"{time_now()}  manager {message.get('manager_state')}  "
        f"environment {message.get('worker_environment_state')}  "
        f"RE {message.get('re_state') or '-'}  queue {message.get('items_in_queue')}  "
        f"history {message.get('items_in_history')}" + (f"  running {running}" if running else "")
    )


def time_now() -> str:
    return datetime.datetime.now().strftime("%H:%M:%S")


def _key_create(args: argparse.Namespace) -> int:
    options = {
        "user": args.user,
        "group": args.group,
        "expires_in": args.expires,
        "note": args.note,
    }
    with _client(args) as client:
        made = client.create_key(args.roles, **{k: v for k, v in options.items() if v})
    key = made["key"]
    print(made["secret"])
    print(
        f"key {key['id']} of {key['user']!r} (group {key['group']}, roles "
        f"{', '.join(key['roles'])}); the secret above is shown only once",
        file=sys.stderr,
    )
    return 0
