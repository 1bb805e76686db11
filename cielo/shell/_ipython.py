"""Start IPython on a :class:`~cielo.shell.Session` (``cielo shell``)."""

from __future__ import annotations

from typing import Any

from ._session import Session

__all__ = ["banner", "start_shell"]


def banner(ns: Session) -> str:
    """What the shell prints at start: the profile, what is in the namespace, the magics."""
    env = ns.env
    cat = ns.get("cat")
    where = getattr(cat, "uri", None) or (env.catalog_uri if cat is not None else None)
    return (
        f"cielo shell, profile {env.profile.name!r} (instrument {env.profile.instrument!r}, "
        "lock held)\n"
        f"  devices: {', '.join(env.devices)}\n"
        f"  plans: {len(env.plans)} by name (scan, count, ...); RE runs them: "
        "RE(scan([det], motor, -1, 1, 11))\n"
        f"  cat: {'runs stored in ' + str(where) if where else 'no catalog (runs are not stored)'}\n"
        "  magics: %mov, %movr, %wa (where all), %ct (count once); Ctrl-C pauses a plan\n"
    )


def start_shell(ns: Session, argv: list[str] | None = None) -> None:
    """Run an IPython terminal whose user namespace is ``ns``, with cielo's magics loaded."""
    from IPython import start_ipython
    from traitlets.config import Config

    config: Any = Config()
    config.TerminalIPythonApp.display_banner = False
    config.InteractiveShellApp.extensions = ["cielo.shell"]
    config.TerminalInteractiveShell.confirm_exit = False
    print(banner(ns), flush=True)
    start_ipython(argv=argv or [], user_ns=ns, config=config)
