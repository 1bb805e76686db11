"""``cielo profiles``, ``cielo profile show NAME``, ``cielo profile check NAME|PATH``."""

from __future__ import annotations

import argparse
import sys

from cielo.core import (
    ConnectionTimeoutError,
    find_profile,
    list_profiles,
    load_profile,
    read_profile,
)
from cielo.core.profile import profile_search_path
from cielo.hookspecs import Subcommands

from ._common import print_table

__all__ = ["register"]


def register(subparsers: Subcommands) -> None:
    parser = subparsers.add_parser(
        "profiles", help="list the profiles on the search path", description=_search_text()
    )
    parser.set_defaults(func=_profiles)
    profile = subparsers.add_parser("profile", help="show or check one profile")
    sub = profile.add_subparsers(title="profile commands", metavar="COMMAND", required=True)
    show = sub.add_parser("show", help="print a profile's file and where it was found")
    show.add_argument("name", metavar="NAME|PATH", help=_NAME_HELP)
    show.set_defaults(func=_show)
    check = sub.add_parser(
        "check",
        help="load a profile (plugins, devices, parameters), connect its devices, report problems",
        description="Load a profile, build its devices and connect them; exits 1 naming "
        "the first problem, or every signal (PV) that did not connect.",
    )
    check.add_argument("name", metavar="NAME|PATH", help=_NAME_HELP)
    check.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long to wait for the devices to connect (default: the devices' default)",
    )
    check.set_defaults(func=_check)


_NAME_HELP = "a profile's name (`cielo profiles` lists them) or the path of a TOML file"


def _search_text() -> str:
    return (
        "Profiles are found by name in: CIELO_PROFILE_PATH, then the user's config "
        "directory (~/.config/cielo/profiles), then the profiles plugins ship, then the "
        "profiles bundled with cielo."
    )


def _profiles(args: argparse.Namespace) -> int:
    rows = []
    for name, path in sorted(list_profiles().items()):
        try:
            description = read_profile(path).description
        except Exception as exc:  # a broken profile is still listed
            description = f"(unreadable: {exc})"
        rows.append((name, description, str(path)))
    if not rows:
        searched = ", ".join(str(p) for p in profile_search_path())
        print(f"no profiles found; searched {searched}")
        return 0
    print_table(rows, header=("NAME", "DESCRIPTION", "PATH"))
    return 0


def _show(args: argparse.Namespace) -> int:
    path = find_profile(args.name)
    print(f"# {path}")
    print(path.read_text(), end="")
    return 0


def _check(args: argparse.Namespace) -> int:
    from cielo.devices import DEFAULT_TIMEOUT, connect_all

    env = load_profile(args.name)
    info = getattr(env.pm, "plugin_info", {})
    failed = [i for i in info.values() if i.status == "failed"]
    timeout = DEFAULT_TIMEOUT if args.timeout is None else args.timeout
    try:
        connect_all(env.devices, timeout=timeout)
    except ConnectionTimeoutError as exc:
        print(f"{env.profile.source}: devices did not connect: {exc}", file=sys.stderr)
        return 1
    print(
        f"{env.profile.source}: OK ({len(env.devices)} devices, {len(env.plans)} plans, "
        f"{len(env.profile.callbacks)} callbacks, {len(env.profile.suitcases)} suitcases)"
    )
    for info in failed:
        print(f"warning: {info.error}")
    return 0
