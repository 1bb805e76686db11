"""The ``cielo`` command: an argparse parser assembled from subcommand modules and plugins.

Each module in :data:`COMMAND_MODULES` exposes ``register(subparsers)``; plugins add
theirs through the ``cielo_add_commands(subparsers)`` hook, on the same
:class:`Subcommands` (a name taken twice is refused, naming both). Each command's
parser sets ``func``: ``func(args) -> int | None`` (the exit status; ``None`` means 0).
A :class:`~cielo.core.CieloError` escaping a command is printed to stderr as
``cielo: error: ...`` with exit status 1.

Plugin commands are collected only when the command named is not one of cielo's own,
so ``cielo run ...`` builds its parser without importing any plugin.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cielo.core import CieloError, PluginError, PluginWarning

if TYPE_CHECKING:
    import pluggy

__all__ = [
    "COMMAND_MODULES",
    "Subcommands",
    "add_plugin_commands",
    "build_parser",
    "main",
    "plugin_commands",
]

#: Subcommand modules, in the order ``cielo --help`` lists them (plugins' commands follow).
COMMAND_MODULES: tuple[str, ...] = (
    "cielo.cli._plugins_cmd",
    "cielo.cli._profiles_cmd",
    "cielo.cli._inventory",
    "cielo.cli._run",
    "cielo.cli._shell",
    "cielo.cli._hookref",
    "cielo.cli._plan",
    "cielo.cli._catalog",
    "cielo.cli._bus",
    "cielo.cli._serve",
    "cielo.cli._queue",
    "cielo.cli._agent",
)


class Subcommands:
    """argparse's subparsers as commands and plugins see them: a name is taken once.

    :attr:`owners` maps each command name (and alias) to who added it: ``"cielo"`` or
    ``"plugin NAME"``.
    """

    def __init__(self, action: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        self._action = action
        self.owner = "cielo"
        self.owners: dict[str, str] = {}

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        """Add command ``name`` (keywords as :meth:`argparse.ArgumentParser.add_subparsers`'s)."""
        for word in (name, *kwargs.get("aliases", ())):
            if word in self.owners:
                raise PluginError(
                    f"{self.owner} adds command {word!r}, which {self.owners[word]} already "
                    "added; rename one of them (or block a plugin with CIELO_DISABLE_PLUGINS)"
                )
        parser = self._action.add_parser(name, **kwargs)
        for word in (name, *kwargs.get("aliases", ())):
            self.owners[word] = self.owner
        return parser


def add_plugin_commands(subcommands: Subcommands, pm: pluggy.PluginManager) -> None:
    """Call every plugin's ``cielo_add_commands``, in registration order, each in isolation.

    A plugin whose hook raises (or takes a name already taken) is reported as a
    :class:`~cielo.core.PluginWarning`; what it added before failing stays, and the other
    plugins' commands are added.
    """
    for impl in pm.hook.cielo_add_commands.get_hookimpls():
        subcommands.owner = f"plugin {impl.plugin_name!r}"
        kwargs = {"subparsers": subcommands}
        try:
            impl.function(*(kwargs[arg] for arg in impl.argnames))
        except Exception as exc:
            warnings.warn(
                f"{subcommands.owner} could not add its commands: {type(exc).__name__}: {exc}",
                PluginWarning,
                stacklevel=2,
            )
    subcommands.owner = "cielo"


def plugin_commands(pm: pluggy.PluginManager) -> dict[str, list[str]]:
    """``{plugin name: [command, ...]}``: the commands each plugin adds (for ``cielo plugins``)."""
    subcommands = Subcommands(argparse.ArgumentParser(prog="cielo").add_subparsers())
    add_plugin_commands(subcommands, pm)
    found: dict[str, list[str]] = {}
    for word, owner in subcommands.owners.items():
        found.setdefault(owner.removeprefix("plugin ").strip("'"), []).append(word)
    return found


def _default_plugin_manager() -> pluggy.PluginManager:
    from cielo.core import make_plugin_manager

    return make_plugin_manager()


def _builtin_parser() -> tuple[argparse.ArgumentParser, Subcommands]:
    from cielo import __version__

    parser = argparse.ArgumentParser(
        prog="cielo",
        description="Run experiments at scientific user facilities: plugins, profiles, plans.",
    )
    parser.add_argument("--version", action="version", version=f"cielo {__version__}")
    subcommands = Subcommands(parser.add_subparsers(title="commands", metavar="COMMAND"))
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subcommands)
    return parser, subcommands


def build_parser(plugin_manager: pluggy.PluginManager | None = None) -> argparse.ArgumentParser:
    """The full parser: cielo's commands, then the plugins' (default: the installed plugins)."""
    parser, subcommands = _builtin_parser()
    add_plugin_commands(subcommands, plugin_manager or _default_plugin_manager())
    return parser


def _command_word(argv: Sequence[str]) -> str | None:
    return next((arg for arg in argv if not arg.startswith("-")), None)


def main(
    argv: Sequence[str] | None = None, *, plugin_manager: pluggy.PluginManager | None = None
) -> int:
    """Run the ``cielo`` command line; returns the exit status.

    :param plugin_manager: whose plugins' commands to add (default: the installed plugins,
        configured by the ``CIELO_*_PLUGINS`` environment variables).
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser, subcommands = _builtin_parser()
    if _command_word(args_list) not in subcommands.owners:
        try:
            add_plugin_commands(subcommands, plugin_manager or _default_plugin_manager())
        except CieloError as exc:  # CIELO_STRICT_PLUGINS, and a plugin failed to load
            print(f"cielo: error: {exc}", file=sys.stderr)
            return 1
    args = parser.parse_args(args_list)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        status = func(args)
    except CieloError as exc:
        print(f"cielo: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cielo: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`cielo ... | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    return 0 if status is None else int(status)
