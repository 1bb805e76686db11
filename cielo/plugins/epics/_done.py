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

from cielo.core import Status

from ._backend import CaBackend, DisconnectedError
from ._signal import ca_backend
from ._transport import schedule

__all__ = ["DoneWatcher"]

#: Seconds to wait, after the put completed with the flag never seen busy, before
#: accepting it as a move that needed no motion (a record that does not toggle its flag).
NULL_MOVE_GRACE = 0.5


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
    arrived
        When the put has completed but the flag was never seen busy: returns true if
        the action has visibly ended anyway (a motor at its target), so the status need
        not wait :data:`NULL_MOVE_GRACE`.
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
        arrived: Callable[[], bool] | None = None,
    ) -> None:
        self.status = status
        self.flag = flag
        self.busy, self.done = busy, done
        self.seen_busy = False
        self.seen_done = False
        self.put_done = True
        self._lock = threading.Lock()
        self._on_finish = on_finish
        self._arrived = arrived
        self._backends: list[CaBackend] = [ca_backend(flag)] + [ca_backend(s) for s in watched]
        flag.subscribe(self._on_flag, run=False)
        for backend in self._backends:
            backend.add_connection_callback(self._on_connection)
        status.add_callback(self._cleanup)

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
            if self._arrived is not None and self._done_and_arrived():
                return
            schedule(NULL_MOVE_GRACE, self._null_move)  # the shared timer thread
        self._maybe_finish()

    def _done_and_arrived(self) -> bool:
        try:
            ready = _as_int(self.flag.get()) == self.done and bool(
                self._arrived and self._arrived()
            )
        except Exception:
            return False
        if ready:
            with self._lock:
                self.seen_busy = self.seen_done = True
            self._maybe_finish()
        return ready

    def _null_move(self) -> None:
        with self._lock:
            if self.seen_busy or self.status.done:
                return
        try:
            value = self.flag.get()
        except Exception as exc:
            self.status.set_exception(exc)
            return
        if _as_int(value) == self.done:
            with self._lock:
                self.seen_busy = self.seen_done = True
            self._maybe_finish()

    def _on_flag(self, value: Any = None, **_: Any) -> None:
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
        self.flag.clear_sub(self._on_flag)
        for backend in self._backends:
            backend.remove_connection_callback(self._on_connection)


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
