"""``cielo plugins [--json]``: every plugin, its version, hooks, contributions and failures."""

from __future__ import annotations

import argparse
import warnings
from typing import Any

from cielo.core import PluginWarning, make_plugin_manager
from cielo.core.plugins import Registry
from cielo.hookspecs import Subcommands

from ._common import print_json
from ._main import plugin_commands

__all__ = ["plugin_report", "register"]


def register(subparsers: Subcommands) -> None:
    parser = subparsers.add_parser(
        "plugins",
        help="list plugins: version, hooks, contributions, load failures",
        description="List every plugin, bundled or installed, with its version, the hooks "
        "it implements, what it contributes and why it failed to load, if it did.",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON array")
    parser.set_defaults(func=_plugins)


def plugin_report() -> list[dict[str, Any]]:
    """One dict per plugin: name, version, distribution, bundled, module, status,
    hooks, contributes (hook -> names) and error (None when it loaded)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)  # failures are listed below
        pm = make_plugin_manager()
        commands = plugin_commands(pm)
    offers = Registry(pm).by_plugin()
    report = []
    for name, info in pm.plugin_info.items():
        plugin = pm.get_plugin(name) if info.status == "loaded" else None
        hooks = sorted(c.name for c in pm.get_hookcallers(plugin) or []) if plugin else []
        report.append(
            {
                "name": info.name,
                "version": info.version,
                "distribution": info.distribution,
                "bundled": info.bundled,
                "module": info.module,
                "status": info.status,
                "hooks": hooks,
                "contributes": {
                    **{h: n for h, n in offers.get(name, {}).items() if n},
                    **({"cielo_add_commands": commands[name]} if name in commands else {}),
                },
                "error": info.error,
            }
        )
    return report


def _plugins(args: argparse.Namespace) -> int:
    report = plugin_report()
    if args.json:
        print_json(report)
        return 0
    for entry in report:
        origin = "bundled" if entry["bundled"] else entry["distribution"] or "?"
        status = "" if entry["status"] == "loaded" else f"  [{entry['status']}]"
        print(f"{entry['name']} {entry['version'] or '?'} ({origin}){status}")
        if entry["error"]:
            print(f"    error: {entry['error']}")
        for hook, names in entry["contributes"].items():
            print(f"    {hook}: {', '.join(names)}")
        others = [h for h in entry["hooks"] if h not in entry["contributes"]]
        if others:
            print(f"    hooks: {', '.join(others)}")
    return 0
