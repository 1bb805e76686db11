"""Failing callbacks are reported once each with a count; closing delivers every buffered document."""

from __future__ import annotations

import logging
import threading
import time

from cielo import Msg
from cielo.devices import SoftSignal
from cielo.testing import make_run_engine

SIGNAL = SoftSignal(1.0, name="signal")


def events(n: int):
    yield Msg("open_run")
    for _ in range(n):
        yield Msg("create", None, name="primary")
        yield Msg("read", SIGNAL)
        yield Msg("save")
    yield Msg("close_run")


def fails_on_events(name: str, doc: dict) -> None:
    if name == "event":
        raise ValueError(f"cannot plot event {doc['seq_num']}")


def test_a_failing_callback_logs_one_traceback_and_a_count(RE, caplog):
    RE.subscribe(fails_on_events)
    with caplog.at_level(logging.INFO, logger="cielo.engine"):
        result = RE(events(2000))
    assert result.exit_status == "success"  # not fatal unless asked
    assert len([r for r in caplog.records if r.exc_info]) == 1
    assert "cannot plot event 1" in caplog.text
    assert "fails_on_events 2000 time(s)" in caplog.records[-1].getMessage()
    assert RE.callback_error_counts == {"fails_on_events": 2000}
    assert len(RE.callback_errors) <= 1000  # bounded
    RE(events(3))  # counted afresh for the next plan
    assert RE.callback_error_counts == {"fails_on_events": 3}


class Slow:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.events = 0

    def __call__(self, name: str, doc: dict) -> None:
        if name == "event":
            time.sleep(self.seconds)
            self.events += 1

    def __repr__(self) -> str:
        return "slow-catalog"


def _backlog(RE, slow: Slow, n: int) -> threading.Thread:
    """Run ``n`` events in a thread; the plan ends long before ``slow`` has them all."""
    RE.subscribe(slow)
    thread = threading.Thread(target=RE, args=(events(n),))
    thread.start()
    time.sleep(0.3)
    return thread


def test_close_delivers_every_buffered_document_and_says_so(caplog):
    slow = Slow(0.005)
    RE = make_run_engine()
    thread = _backlog(RE, slow, 400)
    with caplog.at_level(logging.WARNING, logger="cielo.engine"):
        RE.close()
    thread.join()
    assert slow.events == 400
    assert "closing: delivering" in caplog.text


def test_close_with_a_timeout_names_what_was_lost(caplog):
    slow = Slow(0.02)
    RE = make_run_engine()
    thread = _backlog(RE, slow, 400)
    with caplog.at_level(logging.ERROR, logger="cielo.engine"):
        RE.close(timeout=0.5)
    thread.join()
    time.sleep(0.1)
    assert 0 < slow.events < 400
    lost = 400 - slow.events
    message = [r.getMessage() for r in caplog.records if "never delivered" in r.getMessage()]
    assert message and "lost" in message[0] and "slow-catalog lost" in message[0]
    assert abs(int(message[0].split(" lost ")[1].split(";")[0]) - lost) <= 2
