"""Run Bluesky's own RunEngine tests against cielo's RunEngine and count what passes.

Bluesky ships its test suite inside the package (``bluesky/tests``). This script copies
``test_run_engine.py`` (and the helpers it imports) into a temporary package whose
``conftest.py`` gives the tests cielo's :class:`~cielo.core.RunEngine` as their ``RE``
fixture (both ``call_returns_result`` settings, as Bluesky's fixture); everything else
(ophyd's simulated hardware, Bluesky's plans, preprocessors and exceptions) is Bluesky's.
Tests that build Bluesky's own ``RunEngine`` still test Bluesky's.

    python scripts/bluesky_harness.py [-q] [--file test_run_engine.py] [pytest args...]

Prints ``passed N / failed M`` at the end (pytest's summary), and the failures with
``-rf``. Needs bluesky and ophyd installed (``pip install -e '.[interop]'``).
"""

from __future__ import annotations

import argparse
import pathlib
import shutil
import subprocess
import sys
import tempfile

CONFTEST = '''
import os
import signal
from unittest.mock import patch

import pytest

from bluesky.tests.conftest import *  # noqa: F403  (hw, db, deterministic_sigint, ...)
from bluesky.tests.conftest import DeterministicSigint
from cielo.core import RunEngine
from cielo.core.engine import _interrupt


class CieloDeterministicSigint(DeterministicSigint):
    """Bluesky's deterministic SIGINT sender, synchronised with cielo's Ctrl-C handler."""

    def __init__(self):
        super().__init__()
        self._orig_enter = _interrupt.SigintHandler.__enter__
        self._patcher = patch.object(_interrupt.SigintHandler, "__enter__", self._patched_enter)

    def _patched_enter(self, sigint_handler):
        with patch.object(_interrupt.time, "monotonic", self._monotonic):
            result = self._orig_enter(sigint_handler)
        installed = signal.getsignal(signal.SIGINT)

        def synced_handler(signum, frame):
            try:
                with patch.object(_interrupt.time, "monotonic", self._monotonic):
                    installed(signum, frame)
            finally:
                self._handler_done.set()

        signal.signal(signal.SIGINT, synced_handler)
        return result

    def send(self):
        self._handler_done.clear()
        self._fake_time += 0.2
        os.kill(self._pid, signal.SIGINT)
        self._handler_done.wait(5)  # never hangs the harness


@pytest.fixture
def deterministic_sigint():
    return CieloDeterministicSigint


@pytest.fixture(scope="function", params=[False, True])
def RE(request):
    engine = RunEngine({}, call_returns_result=request.param, scan_id_file=None)

    def close():
        if engine.state not in ("idle", "panicked"):
            try:
                engine.halt()
            except Exception:  # e.g. TransitionError: nothing to halt
                pass
        engine.close(timeout=5)

    request.addfinalizer(close)
    return engine
'''


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default="test_run_engine.py", help="Bluesky test module")
    args, rest = parser.parse_known_args(argv)
    import bluesky.tests

    source = pathlib.Path(bluesky.tests.__file__).parent
    with tempfile.TemporaryDirectory(prefix="cielo-harness-") as tmp:
        package = pathlib.Path(tmp) / "bluesky_on_cielo"
        package.mkdir()
        (package / "__init__.py").write_text("")
        shutil.copy(source / args.file, package / args.file)
        shutil.copy(source / "utils.py", package / "utils.py")
        (package / "conftest.py").write_text(CONFTEST)
        command = [
            sys.executable, "-m", "pytest", str(package / args.file), "-p", "no:cacheprovider",
            "--rootdir", tmp, "-o", "addopts=", "-q", "--timeout=60", "-rf", *rest,
        ]  # fmt: skip
        return subprocess.run(command, cwd=tmp, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
