"""``cielo serve --profile P [--host 127.0.0.1] [--port N]``: the queue server.

Starts the manager (the HTTP API at ``http://HOST:PORT/api/...``, the web application
at ``/``, the queue and its store); ``environment_open`` starts the worker that loads the profile and runs plans.
Serving beyond loopback needs an API key (``CIELO_SERVER_API_KEY``).
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import threading
from typing import Any

from cielo.hookspecs import Subcommands

from ._common import add_profile_option

__all__ = ["register"]

_AUTH_EXAMPLES = """\
authenticators (--auth NAME:KEY=VALUE,...; options with commas go in a TOML file):
  htpasswd:file=/etc/cielo/users                 HTTP Basic against an htpasswd -B file
  pam:service=cielo,roles=staff:admin+users:user  HTTP Basic against PAM, Unix groups to roles
  ldap:config=/etc/cielo/ldap.toml               HTTP Basic as an LDAP bind (url, user_dn or
                                                 search_base, group_base, roles... in the file)
  oidc:issuer=https://sso.example.org/realms/bl,audience=cielo,roles_claim=groups
                                                 bearer tokens (JWT) of an OpenID issuer
"""


def register(subparsers: Subcommands) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve a profile's queue over HTTP (the queue server)",
        description=textwrap.fill(
            "Start the queue server: an HTTP API (compatible with "
            "bluesky-queueserver-api's REManagerAPI) over a persistent queue of plans, run "
            "by a worker process that loads the profile. Binds 127.0.0.1 unless told "
            "otherwise; beyond loopback, CIELO_SERVER_API_KEY must be set."
        ),
        epilog=_AUTH_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_profile_option(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=60610, help="port (default 60610)")
    parser.add_argument(
        "--store",
        metavar="URI",
        default=None,
        help="the queue store (default: sqlite in cielo's state directory, per profile)",
    )
    parser.add_argument(
        "--permissions",
        metavar="FILE",
        default=None,
        help="a TOML file of the plans and devices each user group may use "
        "(checked at start; reload with /api/permissions/reload)",
    )
    parser.add_argument(
        "--auth",
        metavar="NAME:KEY=VALUE,...",
        action="append",
        default=[],
        help="also authenticate requests with a plugin's authenticator (repeatable; "
        "examples below; each plugin's options: docs/server/access.md)",
    )
    parser.add_argument(
        "--max-body",
        type=_byte_count,
        default=None,
        metavar="BYTES",
        help="the largest request body accepted, chunked ones too (default 64 MiB; "
        "suffixes k, M, G: 1024-based)",
    )
    parser.add_argument(
        "--open", action="store_true", help="open the environment (start the worker) at once"
    )
    parser.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from cielo.server import JoinedWritesProtocol, Settings, build_app, parse_auth
    except ImportError as exc:
        print(
            f"cielo: error: the server needs its extra: pip install 'cielo[server]' ({exc})",
            file=sys.stderr,
        )
        return 1
    settings = Settings.from_environment(
        profile=args.profile,
        host=args.host,
        port=args.port,
        store=args.store,
        open_environment=args.open,
        permissions=args.permissions,
        auth=[parse_auth(spec) for spec in args.auth],
        **({"max_body": args.max_body} if args.max_body is not None else {}),
    )
    app = build_app(settings)  # refuses a non-loopback host without a key
    try:  # the web application at / (server and web are sibling layers: joined here)
        from cielo.web import mount_web

        mount_web(app)
    except (ImportError, FileNotFoundError) as exc:
        print(f"cielo serve: no web application ({exc})", file=sys.stderr)
    print(
        f"cielo serve: profile {settings.profile!r}, web UI at http://{args.host}:{args.port}/, "
        f"API at http://{args.host}:{args.port}/api "
        f"(store {settings.store})",
        file=sys.stderr,
        flush=True,
    )
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        loop="asyncio",  # the stdlib loop, even where uvloop happens to be installed
        http=JoinedWritesProtocol,  # httptools, a response's writes sent as one
        # open requests and websockets get this long to end, then they are cancelled
        timeout_graceful_shutdown=GRACE,
    )
    _bounded_server()(config).run()
    return 0


def _byte_count(text: str) -> int:
    """``--max-body``: bytes, or with a 1024-based suffix (``512k``, ``64M``, ``1G``)."""
    scale = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(text[-1:].lower(), 1)
    digits = text[:-1] if scale > 1 else text
    try:
        count = int(digits) * scale
    except ValueError:
        count = -1
    if count <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size in bytes; give a positive count such as 1048576 or 64M"
        )
    return count


#: seconds open connections get to end after SIGTERM or Ctrl-C
GRACE = 3
#: seconds after SIGTERM or Ctrl-C by which the manager has exited, whatever holds it
EXIT_BOUND = 30.0


def _bounded_server() -> type:
    import uvicorn

    class BoundedServer(uvicorn.Server):
        """uvicorn's server, with a bound on its exit: past :data:`EXIT_BOUND` after the
        first SIGTERM or SIGINT the process ends (its worker, if any, goes on as after a
        crash of the manager, and the next manager reconnects to it)."""

        _bound: threading.Timer | None = None

        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            if self._bound is None:
                self._bound = threading.Timer(EXIT_BOUND, _give_up)
                self._bound.daemon = True
                self._bound.start()

    return BoundedServer


def _give_up() -> None:
    print(
        f"cielo serve: not stopped {EXIT_BOUND:.0f} s after the signal; exiting now "
        "(a running worker goes on; the next cielo serve reconnects to it)",
        file=sys.stderr,
        flush=True,
    )
    os._exit(1)
