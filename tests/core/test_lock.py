"""The instrument lock between real processes: a second runner is refused, a dead one frees it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from cielo.core import CieloError, InstrumentBusy, InstrumentLock, load_profile

HOLDER = textwrap.dedent(
    """
    import sys, time
    from cielo.core import InstrumentLock
    lock = InstrumentLock(sys.argv[1], holder="test holder 'scan'", directory=sys.argv[2])
    lock.acquire()
    print("acquired", flush=True)
    time.sleep(600)
    """
)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A process that holds the lock of instrument 'bl1' in ``tmp_path`` until killed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, "bl1", str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "acquired"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)
    proc.stdout.close()


def test_a_second_process_is_refused_naming_the_holder(tmp_path: Path, holder):
    lock = InstrumentLock("bl1", holder="me", directory=tmp_path)
    with pytest.raises(InstrumentBusy) as info:
        lock.acquire()
    message = str(info.value)
    assert "instrument 'bl1' is in use by test holder 'scan'" in message
    assert f"pid {holder.pid}" in message and "since" in message and "kill" in message
    assert isinstance(info.value, CieloError) and not lock.held
    seen = lock.info()
    assert seen is not None and seen.pid == holder.pid and seen.holder == "test holder 'scan'"


def test_sigkill_of_the_holder_releases_the_lock(tmp_path: Path, holder):
    lock = InstrumentLock("bl1", holder="me", directory=tmp_path)
    assert lock.info() is not None
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    with lock:
        assert lock.held and lock.info() is not None and lock.info().pid == os.getpid()
    assert lock.info() is None


def test_other_instruments_are_independent_and_release_frees(tmp_path: Path, holder):
    with InstrumentLock("bl2", holder="me", directory=tmp_path):
        other = InstrumentLock("bl2", holder="them", directory=tmp_path)
        with pytest.raises(InstrumentBusy, match="in use by me"):
            other.acquire()
    with InstrumentLock("bl2", holder="them", directory=tmp_path) as again:
        assert again.held


def test_names_that_are_not_file_names_stay_inside_the_directory(tmp_path: Path):
    for name in ("../x", "a/b", ".."):
        lock = InstrumentLock(name, holder="me", directory=tmp_path)
        with lock:
            assert lock.path.parent == tmp_path
    with pytest.raises(ValueError, match="non-empty instrument name"):
        InstrumentLock(" ", holder="me")


def test_directory_comes_from_the_environment(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("CIELO_LOCK_DIR", str(tmp_path / "locks"))
    assert InstrumentLock("x", holder="me").path == tmp_path / "locks" / "x.lock"
    monkeypatch.delenv("CIELO_LOCK_DIR")
    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path / "state"))
    assert InstrumentLock("x", holder="me").path == tmp_path / "state" / "locks" / "x.lock"


def test_the_instrument_comes_from_the_profile(tmp_path: Path):
    path = tmp_path / "bl.toml"
    path.write_text('[profile]\ninstrument = "hutch-a"\n')
    assert load_profile(path).profile.instrument == "hutch-a"
    assert load_profile("sim").profile.instrument == "sim"
