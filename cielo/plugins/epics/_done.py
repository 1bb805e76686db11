"""Completion from a done flag: an action is done when its flag goes busy, then back to done.

A motor record's put-completion and its ``DMOV`` flag usually agree, but not always
(some IOCs and simulators complete the put when the move *starts*). So a move counts as
done only when ``DMOV`` has been seen busy (0) after the move was requested and then
done (1) again — and, when a put-completion was asked for, that has completed too. The
same holds for a scaler's ``CNT`` flag.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from cielo.core import DeviceError, Status

from ._backend import READ_TIMEOUT, CaBackend, DisconnectedError
from ._channel import Value, read_channels_then
from ._signal import ca_backend
from ._transport import on_event_loop, schedule

__all__ = [
    "ANSWER_TIMEOUT",
    "PROBE_INTERVAL",
    "DoneWatcher",
    "answer_value",
    "check_answer_timeout",
    "on_event_loop",
]

#: Seconds to wait, after the put completed with the flag never seen busy, before
#: accepting it as a move that needed no motion (a record that does not toggle its flag).
NULL_MOVE_GRACE = 0.5
#: Seconds an EPICS device waits for its IOC to answer a get (the default of the motor's
#: and scaler's ``answer_timeout``).
ANSWER_TIMEOUT = 2.0
#: Seconds between two checks, while an action goes on, that the IOC still answers.
PROBE_INTERVAL = 0.5


def check_answer_timeout(value: Any) -> float:
    """``value`` as an answer timeout; a :class:`ValueError` saying what to give otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"answer_timeout={value!r}: give a positive number of seconds")
    return float(value)


def answer_value(
    device: str, signal: Any, result: Value | str, timeout: float, consequence: str
) -> Any:
    """The value of a get's ``result``; a :class:`DeviceError` naming the PV, the
    ``consequence`` and the fix if no answer came within ``timeout``."""
    backend = ca_backend(signal)
    if isinstance(result, str) and result.startswith("no answer"):
        raise DeviceError(
            f"{device}: {backend.read_pv} did not answer within {timeout:g} s, so "
            f"{consequence} (is the IOC hung? check it, e.g. caget {backend.read_pv}; "
            "a larger answer_timeout=... waits longer)"
        )
    return backend.reading_from(result)["value"]


class DoneWatcher:
    """Finish ``status`` once ``flag`` went ``busy`` then ``done``, and the put completed.

    Parameters
    ----------
    status
        The status to finish (a move or count status).
    flag
        The done-flag signal (``DMOV``, ``CNT``), read as numbers.
    busy, done
        The flag's values while busy and when done.
    watched
        Other signals whose disconnection fails the status (with the PV's name).
    on_finish
        Called with the status's exception (or ``None``) when finishing, before the
        status is marked, e.g. to report that a move was stopped.
    position, arrived
        When the put has completed but the flag was never seen busy, the flag and
        ``position`` (a signal) are read, without waiting for them (this runs on the
        dispatcher thread, which delivers every monitor update and put completion):
        ``arrived(value of position)`` returns true if the action has visibly ended
        anyway (a motor at its target), so the status need not wait
        :data:`NULL_MOVE_GRACE`.
    answer_timeout
        While the status is pending, the flag's IOC is asked for its value every
        :data:`PROBE_INTERVAL` s; no answer within this many seconds fails the status
        naming the PV (a hung IOC, whose circuit libca gives up on only after
        ``EPICS_CA_CONN_TMO``, 30 s by default). ``None``: no checks.
    device, action
        For that error: the device's name and what is abandoned ("the move to 5").
    """

    def __init__(
        self,
        status: Status,
        flag: Any,
        *,
        busy: int,
        done: int,
        watched: tuple[Any, ...] = (),
        on_finish: Callable[[], BaseException | None] | None = None,
        position: Any = None,
        arrived: Callable[[Any], bool] | None = None,
        answer_timeout: float | None = None,
        device: str = "",
        action: str = "the action",
    ) -> None:
        self.status = status
        self.flag = flag
        self.busy, self.done = busy, done
        self.seen_busy = False
        self.seen_done = False
        self.put_done = True
        self._lock = threading.Lock()
        self._on_finish = on_finish
        self._position = position if arrived is not None else None
        self._arrived = arrived
        self._backends: list[CaBackend] = [ca_backend(flag)] + [ca_backend(s) for s in watched]
        self._answer_timeout = answer_timeout
        self._device, self._action = device or getattr(flag, "name", ""), action
        # no get first; the flag's value from before the put is no transition of this
        # action (a superseded move's busy flag, then its stop's done, is not this move)
        self._unwatch = ca_backend(flag).watch_values(self._on_flag, changes_only=True)
        for backend in self._backends:
            backend.add_connection_callback(self._on_connection)
        status.add_callback(self._cleanup)
        if answer_timeout is not None:
            schedule(PROBE_INTERVAL, self._probe)

    # -- is the IOC still answering? --------------------------------------------
    def _probe(self) -> None:
        """Ask the flag's IOC for its value: it must answer within the answer timeout."""
        if self.status.done or self._answer_timeout is None:
            return
        try:
            channel = ca_backend(self.flag).read_channel()
            read_channels_then([channel], self._answer_timeout, self._probed)
        except Exception as exc:  # e.g. disconnected: the action cannot be watched
            self.status.set_exception(exc)

    def _probed(self, results: list[Value | str]) -> None:
        if self.status.done or self._answer_timeout is None:
            return
        try:
            answer_value(
                self._device,
                self.flag,
                results[0],
                self._answer_timeout,
                f"{self._action} was abandoned",
            )
        except Exception as exc:
            self.status.set_exception(exc)
            return
        schedule(PROBE_INTERVAL, self._probe)

    def track_put(self, put_status: Status) -> None:
        """Also wait for ``put_status`` (the put-completion); its failure fails the status."""
        with self._lock:
            self.put_done = False
        put_status.add_callback(self._on_put)

    def _on_put(self, put_status: Status) -> None:
        exc = put_status.exception()
        if exc is not None:
            self.status.set_exception(exc)
            return
        with self._lock:
            self.put_done = True
            never_busy = not self.seen_busy
        if never_busy:
            # The busy value may have been merged away by Channel Access (a move of a
            # millisecond), or the move may not have begun yet (a put that completes
            # at once). Already there and done: finished; otherwise give the flag time.
            if self._position is not None:
                try:
                    self._read_then([self.flag, self._position], self._arrival_read)
                except Exception as error:  # e.g. disconnected meanwhile
                    self.status.set_exception(error)
                    return
            else:
                schedule(NULL_MOVE_GRACE, self._null_move)  # the shared timer thread
        self._maybe_finish()

    def _read_then(self, signals: list[Any], then: Callable[[list[Value | str]], None]) -> None:
        """Get ``signals`` and call ``then(results)`` on the dispatcher thread: the
        callers run on the dispatcher and timer threads, where a get that waits for the
        IOC would hold back every other callback (a hung IOC: 2 s each)."""
        channels = [ca_backend(s).read_channel() for s in signals]
        read_channels_then(channels, self._answer_timeout or READ_TIMEOUT, then)

    def _values(self, signals: list[Any], results: list[Value | str]) -> list[Any]:
        timeout = self._answer_timeout or READ_TIMEOUT
        consequence = f"the end of {self._action} could not be confirmed"
        return [
            answer_value(self._device, s, r, timeout, consequence)
            for s, r in zip(signals, results, strict=True)
        ]

    def _arrival_read(self, results: list[Value | str]) -> None:
        """The flag and position after a put that completed with the flag never busy."""
        if self.status.done:
            return
        try:
            flag, position = self._values([self.flag, self._position], results)
            ready = _as_int(flag) == self.done and bool(self._arrived and self._arrived(position))
        except Exception:  # no answer: the checks of the IOC report it
            ready = False
        if not ready:
            schedule(NULL_MOVE_GRACE, self._null_move)
            return
        with self._lock:
            self.seen_busy = self.seen_done = True
        self._maybe_finish()

    def _null_move(self) -> None:
        with self._lock:
            if self.seen_busy or self.status.done:
                return
        try:
            self._read_then([self.flag], self._null_move_read)
        except Exception as exc:
            self.status.set_exception(exc)

    def _null_move_read(self, results: list[Value | str]) -> None:
        try:
            (value,) = self._values([self.flag], results)
        except Exception as exc:
            self.status.set_exception(exc)
            return
        with self._lock:
            if self.seen_busy or self.status.done or _as_int(value) != self.done:
                return
            self.seen_busy = self.seen_done = True
        self._maybe_finish()

    def _on_flag(self, value: Any) -> None:
        value = _as_int(value)
        with self._lock:
            if value == self.busy:
                self.seen_busy = True
            elif value == self.done and self.seen_busy:
                self.seen_done = True
        self._maybe_finish()

    def _maybe_finish(self) -> None:
        with self._lock:
            ready = self.seen_done and self.put_done and not self.status.done
        if not ready:
            return
        exc = self._on_finish() if self._on_finish is not None else None
        if exc is None:
            self.status.set_finished()
        else:
            self.status.set_exception(exc)

    def _on_connection(self, pvname: str, connected: bool) -> None:
        if not connected:
            self.status.set_exception(
                DisconnectedError(f"{pvname} disconnected while waiting (did the IOC stop?)")
            )

    def _cleanup(self, _status: Status) -> None:
        self._unwatch()
        for backend in self._backends:
            backend.remove_connection_callback(self._on_connection)


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
