"""``cielo devices`` and ``cielo plans``: what a profile offers, by name."""

from __future__ import annotations

import argparse
import inspect
from typing import Any

from cielo.core import signature_schema
from cielo.hookspecs import Subcommands

from ._common import add_profile_option, environment_from_args, print_json, print_table

__all__ = ["format_signature", "plan_summary", "register"]


def register(subparsers: Subcommands) -> None:
    devices = subparsers.add_parser("devices", help="list a profile's devices")
    add_profile_option(devices)
    devices.add_argument("--json", action="store_true", help="print JSON")
    devices.set_defaults(func=_devices)
    plans = subparsers.add_parser("plans", help="list plans with their signature and summary")
    add_profile_option(plans)
    plans.add_argument("--json", action="store_true", help="print JSON")
    plans.set_defaults(func=_plans)


def _annotation(ann: Any) -> str:
    return ann if isinstance(ann, str) else inspect.formatannotation(ann)


def format_signature(sig: inspect.Signature) -> str:
    """A signature as source text, annotations unquoted: ``(detectors: Sequence[Readable], ...)``."""
    parts = []
    star_done = False
    for p in sig.parameters.values():
        if p.kind is p.KEYWORD_ONLY and not star_done:
            parts.append("*")
        if p.kind in (p.KEYWORD_ONLY, p.VAR_POSITIONAL):
            star_done = True
        text = p.name
        if p.kind is p.VAR_POSITIONAL:
            text = f"*{p.name}"
        elif p.kind is p.VAR_KEYWORD:
            text = f"**{p.name}"
        if p.annotation is not p.empty:
            text += f": {_annotation(p.annotation)}"
        if p.default is not p.empty:
            text += f" = {p.default!r}" if p.annotation is not p.empty else f"={p.default!r}"
        parts.append(text)
    ret = "" if sig.return_annotation is sig.empty else f" -> {_annotation(sig.return_annotation)}"
    return f"({', '.join(parts)}){ret}"


def plan_summary(plan: Any) -> tuple[str, str]:
    """``(signature, first line of the docstring)`` of a plan."""
    try:
        signature = format_signature(inspect.signature(plan))
    except (TypeError, ValueError):
        signature = "(...)"
    doc = inspect.getdoc(plan) or ""
    return signature, doc.strip().splitlines()[0] if doc.strip() else ""


def _devices(args: argparse.Namespace) -> int:
    env = environment_from_args(args)
    specs = env.profile.devices
    rows = []
    for name, device in env.devices.items():
        kind = specs[name].type if name in specs else type(device).__name__
        rows.append((name, kind, env.device_sources[name]))
    if args.json:
        print_json([{"name": n, "type": t, "source": s} for n, t, s in rows])
    else:
        print_table(rows, header=("NAME", "TYPE", "SOURCE"))
    return 0


def _plans(args: argparse.Namespace) -> int:
    env = environment_from_args(args)
    entries = []
    for name in sorted(env.plans):
        signature, summary = plan_summary(env.plans[name])
        entries.append(
            {
                "name": name,
                "signature": signature,
                "summary": summary,
                "plugin": env.registry.provider("plans", name),
                # restricted to this profile's devices (an enum per device parameter)
                "schema": signature_schema(env.plans[name], devices=env.devices),
            }
        )
    if args.json:
        print_json(entries)
        return 0
    for entry in entries:
        print(f"{entry['name']}{entry['signature']}")
        if entry["summary"]:
            print(f"    {entry['summary']}")
    return 0
