"""``cielo queue [--server URL] COMMAND``: a client of ``cielo serve``.

The key comes from ``CIELO_API_KEY``. ``add`` takes a plan call in the same text form
as ``cielo run`` (parsed, never evaluated; checked by the server against the plan's
parameters).
"""

from __future__ import annotations

import argparse
import datetime
import sys
from typing import Any

from cielo.hookspecs import Subcommands

from ._common import print_json, print_table, show_help

__all__ = ["register"]

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
        help="add a plan call, e.g. 'count([det], num=3)'",
        description="Add one plan call, written as for `cielo run`, at the back of the queue.",
    )
    add.add_argument("plan", metavar="'PLAN(...)'", help="the plan call")
    add.add_argument("--front", action="store_true", help="at the front of the queue")
    add.add_argument("--start", action="store_true", help="then start the queue")
    add.add_argument(
        "--wait", action="store_true", help="then wait until the queue is idle and print results"
    )
    add.set_defaults(func=_add)

    listing = sub.add_parser("list", help="the queued items and the running one")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)

    history = sub.add_parser("history", help="executed items with exit status and run uids")
    history.add_argument("--json", action="store_true")
    history.set_defaults(func=_history)

    remove = sub.add_parser("remove", help="remove a queued item by uid")
    remove.add_argument("uid")
    remove.set_defaults(func=_remove)

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
    args = [repr(a) for a in item.get("args", [])]
    args += [f"{k}={v!r}" for k, v in item.get("kwargs", {}).items()]
    return f"{item.get('name')}({', '.join(args)})"


def _add(args: argparse.Namespace) -> int:
    with _client(args) as client:
        before = len(client.history())
        item = client.add_text(args.plan, **({"pos": "front"} if args.front else {}))
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
        print(f"{status}  {_call_text(record)}  runs: {runs}{reason}")
    return 1 if failed else 0


def _list(args: argparse.Namespace) -> int:
    with _client(args) as client:
        queue = client.queue()
    if args.json:
        print_json(queue)
        return 0
    rows = []
    if queue["running_item"]:
        rows.append(
            ["running", queue["running_item"]["item_uid"], _call_text(queue["running_item"])]
        )
    for n, item in enumerate(queue["items"]):
        rows.append([str(n), item["item_uid"], _call_text(item)])
    if not rows:
        print("the queue is empty")
        return 0
    print_table(rows, header=["pos", "uid", "plan"])
    return 0


def _history(args: argparse.Namespace) -> int:
    with _client(args) as client:
        records = client.history()
    if args.json:
        print_json(records)
        return 0
    rows = []
    for record in records:
        result = record.get("result", {})
        stop = result.get("time_stop")
        when = datetime.datetime.fromtimestamp(stop).strftime("%H:%M:%S") if stop else "-"
        rows.append(
            [
                when,
                result.get("exit_status", "?"),
                _call_text(record),
                " ".join(result.get("run_uids", [])) or (result.get("msg") or "-"),
            ]
        )
    if not rows:
        print("the history is empty")
        return 0
    print_table(rows, header=["stopped", "exit", "plan", "runs"])
    return 0


def _remove(args: argparse.Namespace) -> int:
    with _client(args) as client:
        item = client.remove(args.uid)
    print(f"removed {_call_text(item)}")
    return 0


def _control(args: argparse.Namespace) -> int:
    with _client(args) as client:
        client.control(args.path)
        if args.wait:
            status = client.wait_idle()
            if status.get("worker_environment_error") and args.path == "environment/open":
                print(f"cielo: error: {status['worker_environment_error']}", file=sys.stderr)
                return 1
    return 0
