"""Plugins add ``cielo`` subcommands through ``cielo_add_commands`` (as ``cielo ioc`` does)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from cielo import hookimpl
from cielo.cli import build_parser, main
from cielo.core import PluginWarning, make_plugin_manager
from cielo.hookspecs import Subcommands


class Beamtime:
    """A facility's plugin: ``cielo beamtime [--hours N] PROPOSAL``."""

    @hookimpl
    def cielo_add_commands(self, subparsers: Subcommands) -> None:
        parser = subparsers.add_parser("beamtime", help="book beam time for a proposal")
        parser.add_argument("proposal")
        parser.add_argument("--hours", type=int, default=8)
        parser.set_defaults(func=self.run)

    def run(self, args: argparse.Namespace) -> int:
        print(f"booked {args.hours} h for {args.proposal}")
        return 3


class TakesRun:
    """Claims ``run``, which is cielo's own."""

    @hookimpl
    def cielo_add_commands(self, subparsers: Subcommands) -> None:
        subparsers.add_parser("run", help="not cielo's run")


class Raises:
    @hookimpl
    def cielo_add_commands(self, subparsers: Subcommands) -> None:
        raise RuntimeError("the logbook server is down")


def manager(**plugins: object):
    return make_plugin_manager(autoload=False, strict=True, plugins=list(plugins.items()))


def test_a_plugin_command_has_its_arguments_handler_and_help(capsys):
    pm = manager(beamtime=Beamtime())
    help_text = build_parser(pm).format_help()
    assert "beamtime" in help_text and "book beam time for a proposal" in help_text
    assert main(["beamtime", "--hours", "12", "p-1234"], plugin_manager=pm) == 3
    assert capsys.readouterr().out == "booked 12 h for p-1234\n"
    with pytest.raises(SystemExit) as info:
        main(["beamtime", "--hours", "twelve", "p-1234"], plugin_manager=pm)
    assert info.value.code == 2
    assert "argument --hours: invalid int value: 'twelve'" in capsys.readouterr().err


def test_a_name_taken_twice_is_refused_naming_both_and_the_rest_work(capsys):
    pm = manager(takes_run=TakesRun(), beamtime=Beamtime())
    with pytest.warns(PluginWarning, match="plugin 'takes_run' adds command 'run', which cielo"):
        parser = build_parser(pm)
    assert "beamtime" in parser.format_help()
    assert "run a plan given as text" in parser.format_help()  # cielo's run is kept


def test_a_plugin_whose_hook_raises_loses_only_its_commands():
    pm = manager(raises=Raises(), beamtime=Beamtime())
    with pytest.warns(PluginWarning, match="plugin 'raises' could not add its commands.*logbook"):
        parser = build_parser(pm)
    assert "beamtime" in parser.format_help()


def test_cielo_ioc_comes_from_the_epics_plugin():
    pm = make_plugin_manager(autoload=False)
    assert "ioc" in build_parser(pm).format_help()
    without = make_plugin_manager(autoload=False, disable=["epics"])
    assert "ioc" not in build_parser(without).format_help()
    proc = subprocess.run(
        [sys.executable, "-m", "cielo.cli", "plugins", "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    epics = next(e for e in json.loads(proc.stdout) if e["name"] == "epics")
    assert epics["contributes"]["cielo_add_commands"] == ["ioc"]


def test_cielos_own_commands_build_their_parser_without_importing_plugins():
    script = (
        "import sys\n"
        "from cielo.cli import main\n"
        "main(['hooks'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('cielo.plugins.')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "[]"
