"""Hook through which plugins add subcommands to the ``cielo`` command line."""

from __future__ import annotations

from cielo.core.plugins import hookspec

from .types import Subcommands

__all__ = ["cielo_add_commands"]


@hookspec
def cielo_add_commands(subparsers: Subcommands) -> None:
    """Add ``cielo VERB`` commands, with their own arguments and handler.

    Fires once per ``cielo`` invocation, when the parser is built, after cielo's own
    commands are added (not when the first argument names one of cielo's own commands:
    ``cielo run`` does not import plugins to build its parser).

    :param subparsers: call ``subparsers.add_parser("verb", help="...")`` for each
        command, add its arguments to the parser returned and set its handler with
        ``parser.set_defaults(func=handler)``; ``handler(args)`` returns the exit status
        (``None`` means 0) and may raise :class:`cielo.core.CieloError`, printed as
        ``cielo: error: ...``. The ``help`` text is what ``cielo --help`` lists. A name
        already taken by cielo or another plugin is refused with an error naming both;
        a plugin whose hook raises loses its commands, with a warning, and the others work.
    :returns: nothing.
    """
