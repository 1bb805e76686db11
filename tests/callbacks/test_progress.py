"""Progress bars (rich) on a real RunEngine: points done of the plan's total, slow moves."""

from __future__ import annotations

import io
import re

import pytest

from cielo.devices.sim import SimMotor, SimPeakDetector
from cielo.plans import subscribe_profile
from cielo.plugins.scans import count, scan
from cielo.testing import make_run_engine

rich = pytest.importorskip("rich")

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def terminal() -> tuple[io.StringIO, object]:
    from rich.console import Console

    out = io.StringIO()
    return out, Console(file=out, force_terminal=True, width=140)


def screen(out: io.StringIO) -> str:
    return ANSI.sub("", out.getvalue())


def test_a_long_scan_shows_points_done_of_its_total_and_its_slow_moves():
    from cielo.callbacks import LiveProgress

    out, console = terminal()
    bars = LiveProgress(delay=0.2, console=console)
    motor = SimMotor(name="motor", velocity=2.0)
    det = SimPeakDetector([motor], name="det")
    with make_run_engine() as RE:
        subscribe_profile(RE, {"callbacks.progress": bars})
        assert RE.waiting_hook == bars.waiting_hook  # slow waits reach it too (attach)
        RE(scan([det], motor, 1, 3, 6))  # a 0.5 s first move, then 0.2 s per point
    text = screen(out)
    assert re.search(r"moving motor to 1 mm, at 0\.\d+", text), text[-2000:]
    assert "scan" in text and re.search(r"\b[1-5]/6 points\b", text), text[-2000:]
    assert "elapsed" in text and "ETA" in text
    assert bars._progress is None  # the display stopped with the run


def test_a_quick_run_draws_nothing():
    from cielo.callbacks import LiveProgress

    out, console = terminal()
    bars = LiveProgress(delay=5.0, console=console)
    motor = SimMotor(name="motor")
    det = SimPeakDetector([motor], name="det")
    with make_run_engine() as RE:
        subscribe_profile(RE, {"callbacks.progress": bars})
        RE(scan([det], motor, -1, 1, 11))
        RE(count([det], 3))
    assert out.getvalue() == ""


def test_nothing_is_drawn_without_a_terminal():
    from rich.console import Console

    from cielo.callbacks import LiveProgress

    out = io.StringIO()
    bars = LiveProgress(delay=0.0, console=Console(file=out))
    assert not bars.enabled
    motor = SimMotor(name="motor", velocity=5.0)
    det = SimPeakDetector([motor], name="det")
    with make_run_engine() as RE:
        subscribe_profile(RE, {"callbacks.progress": bars})
        RE(scan([det], motor, 0, 1, 3))
    assert out.getvalue() == ""


def test_the_profile_factory_checks_its_delay():
    from cielo.plugins.callbacks import cielo_callbacks

    with pytest.raises(ValueError, match="delay=-1"):
        cielo_callbacks()["progress"](delay=-1)


def test_the_bars_go_away_while_the_engine_is_paused():
    """A paused plan returns to the prompt: a live display left running there garbled it."""
    from cielo.callbacks import LiveProgress
    from cielo.core import RunEngineInterrupted
    from cielo.plans import checkpoint, close_run, mv, open_run, pause, trigger_and_read

    out, console = terminal()
    bars = LiveProgress(delay=0.0, console=console)
    motor = SimMotor(name="motor", velocity=5.0)  # 0.2 s per point: drawn live
    det = SimPeakDetector([motor], name="det")

    def paused_midway():
        yield from open_run({"num_points": 4, "plan_name": "paused_midway"})
        for x in range(4):
            yield from checkpoint()
            yield from mv(motor, x)
            yield from trigger_and_read([det, motor])
            if x == 1:
                yield from pause()
        yield from close_run()

    with make_run_engine() as RE:
        subscribe_profile(RE, {"callbacks.progress": bars})
        with pytest.raises(RunEngineInterrupted):
            RE(paused_midway())
        RE.flush()
        assert RE.state == "paused" and bars._progress is None  # nothing live at the prompt
        drawn = len(out.getvalue())
        assert "/4 points" in screen(out)
        RE.resume()
        RE.flush()
    assert bars._progress is None and "/4 points" in screen(out)[drawn:]  # back on resume
