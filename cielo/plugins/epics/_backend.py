"""``CaBackend``: the Channel Access transport of a :class:`cielo.devices.Signal`.

A backend uses the shared channels of :mod:`._channel` (one per PV name). A read is a
fresh CA get (``DBR_TIME``: the IOC's timestamp and alarm severity): a monitor update
may reach the client after the put completion of a trigger or a move, so the monitor's
latest value is used only where a signal asks for it (``use_monitor=True``, for values
nobody waits on) and only while it is fresh. ``describe()`` uses the control information
(units, precision, limits, enum strings) fetched once on connection, in batches off the
callback thread; writes use put-completion, so the status is done when the IOC says the
put has completed (and fails with libca's message when it did not); subscriptions are CA
monitors, made while someone subscribes. Connection timeouts share one timer thread.
A channel that drops fails every pending put, and later reads, with an error naming the
PV; a channel whose IOC never answered fails at once, without waiting again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from cielo.core import ConnectionTimeoutError, DeviceError, Status, finished_status
from cielo.core.protocols import DataKey, Reading
from cielo.devices import ReadingCallback, SignalBackend

from ._channel import Channel, Value, channel, read_channels
from ._transport import DTYPES, ctrl_limits, dispatch, on_event_loop, schedule

__all__ = ["CaBackend", "DisconnectedError", "when_ready"]

logger = logging.getLogger("cielo.plugins.epics")

ConnectionCallback = Callable[[str, bool], None]
#: Seconds a signal used before :meth:`connect` waits for its PV to connect.
AUTO_CONNECT_TIMEOUT = 5.0
#: Seconds a read waits for the IOC's answer.
READ_TIMEOUT = 2.0
_ENUM = 3


class DisconnectedError(DeviceError):
    """A PV is not connected (never was, or its IOC went away)."""


class CaBackend(SignalBackend[Any]):
    """A signal's value in EPICS PV ``read_pv`` (written to ``write_pv`` if given).

    Parameters
    ----------
    read_pv
        The PV read, described and monitored.
    write_pv
        The PV written by ``put``; ``None`` writes ``read_pv``; ``""`` makes it read-only.
    string
        Read enum PVs as their strings (``"On"``) rather than their indices (``1``).
    use_monitor
        Read the monitor's latest value when the channel is monitored and has had an
        update since it connected, instead of a fresh CA get. Only for values that no
        trigger or move of the plan changes: the IOC sends monitor updates and put
        completions on separate paths, so right after a put the monitor may still hold
        the old value. Arrays of ``epics.ca.AUTOMONITOR_MAXLENGTH`` elements or more are
        not monitored for it (they are read with a get).
    """

    def __init__(
        self,
        read_pv: str,
        write_pv: str | None = None,
        *,
        string: bool = True,
        use_monitor: bool = False,
    ) -> None:
        if not read_pv or not isinstance(read_pv, str):
            raise ValueError(f"a PV name must be a non-empty string, not {read_pv!r}")
        self.read_pv = read_pv
        self.write_pv = read_pv if write_pv is None else write_pv
        self.string = string
        self.use_monitor = use_monitor
        self._lock = threading.Lock()
        self._read = channel(read_pv)
        self._write = self._read if self.write_pv in (read_pv, "") else channel(self.write_pv)
        self._callback: ReadingCallback | None = None
        self._last_read: Reading | None = None
        self._skip_repeat = False
        self._pending: set[Status] = set()
        self._listeners: list[ConnectionCallback] = []
        self._attached = False
        self._caching = False

    # -- identity and connection -------------------------------------------
    @property
    def source(self) -> str:
        if self.write_pv and self.write_pv != self.read_pv:
            return f"ca://{self.read_pv} (write {self.write_pv})"
        return f"ca://{self.read_pv}"

    @property
    def pvnames(self) -> list[str]:
        """Every PV behind this signal (read first)."""
        names = [self.read_pv]
        if self.write_pv and self.write_pv != self.read_pv:
            names.append(self.write_pv)
        return names

    @property
    def connected(self) -> bool:
        """The channels are up, and this signal has connected (or been used) once."""
        return self._attached and self._read.connected and self._write.connected

    @property
    def writable(self) -> bool:
        return bool(self.write_pv)

    def _channels(self) -> list[Channel]:
        return [self._read] if self._write is self._read else [self._read, self._write]

    def _attach(self) -> None:
        """Listen to the channels' connection changes (once), read from the monitor if
        asked."""
        with self._lock:
            if self._attached:
                return
            self._attached = True
        for chan in self._channels():
            chan.add_listener(self._connection_changed)
        if self.use_monitor and not self._caching:
            self._caching = True
            self._read.cache_reads(True)

    def connect(self, timeout: float | None) -> Status:
        self._attach()
        statuses = [chan.start(timeout) for chan in self._channels()]
        if len(statuses) == 1:
            return statuses[0]
        combined = Status(self)
        remaining = [len(statuses)]
        errors: list[BaseException] = []

        def _one(st: Status) -> None:
            exc = st.exception()
            with self._lock:
                if exc is not None:
                    errors.append(exc)
                remaining[0] -= 1
                last = remaining[0] == 0
            if last:
                if errors:
                    combined.set_exception(
                        ConnectionTimeoutError("; ".join(str(e) for e in errors))
                    )
                else:
                    combined.set_finished()

        for st in statuses:
            st.add_callback(_one)
        return combined

    def disconnect(self) -> None:
        """Stop listening to the channels (they stay open for other signals on them)."""
        self.set_callback(None)
        with self._lock:
            attached, self._attached = self._attached, False
            caching, self._caching = self._caching, False
        if attached:
            for chan in self._channels():
                chan.remove_listener(self._connection_changed)
        if caching:
            self._read.cache_reads(False)

    def add_connection_callback(self, callback: ConnectionCallback) -> None:
        """Call ``callback(pvname, connected)`` on every connection change (dispatcher thread)."""
        self._attach()
        self._listeners.append(callback)

    def remove_connection_callback(self, callback: ConnectionCallback) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _connection_changed(self, chan: Channel, conn: bool) -> None:
        if not conn and chan is self._write:
            with self._lock:
                pending, self._pending = self._pending, set()
            for st in pending:
                st.set_exception(
                    DisconnectedError(
                        f"{chan.pvname} disconnected before its put completed (did the IOC stop?)"
                    )
                )
        for listener in list(self._listeners):
            listener(chan.pvname, conn)

    def _require(self, chan: Channel) -> Channel:
        """``chan``, ready to use; else a :class:`DisconnectedError` naming it.

        A PV never tried is connected on first use (as pyepics does), waiting
        :data:`AUTO_CONNECT_TIMEOUT` at most; one whose IOC did not answer an earlier
        attempt fails at once (libca goes on searching, so it comes back by itself).
        On the RunEngine's loop, which must not wait, :func:`when_ready` does this with
        callbacks instead.
        """
        if chan.ready:
            return chan
        connecting = self._connecting(chan)
        try:
            connecting.exception(AUTO_CONNECT_TIMEOUT + 1.0)
        except TimeoutError:
            pass
        if not chan.ready:
            raise self._not_connected(chan)
        return chan

    def _connecting(self, chan: Channel) -> Status:
        """The status of ``chan``'s connection (started if never tried, or if its control
        information did not come); a :class:`DisconnectedError` at once when the channel
        dropped or an earlier attempt found no IOC."""
        if chan.ever_connected and not chan.connected:
            raise DisconnectedError(f"{chan.pvname} is disconnected (did the IOC stop?)")
        self._attach()
        status = chan.connect_status
        if status is None or (status.done and chan.connected):  # never tried, or up but
            return chan.start(AUTO_CONNECT_TIMEOUT)  # its control information did not come
        if status.done:
            raise self._not_connected(chan)
        return status  # connecting now

    def _not_connected(self, chan: Channel) -> DisconnectedError:
        return DisconnectedError(
            f"{chan.pvname} is not connected: it never connected (no IOC answered for it "
            f"within {AUTO_CONNECT_TIMEOUT:g} s; is the IOC running, and listed in "
            "EPICS_CA_ADDR_LIST? check it, e.g. cainfo " + chan.pvname + ")"
        )

    # -- reading ------------------------------------------------------------
    def read_channel(self) -> Channel:
        """The read PV's channel, ready for a get (connected on first use, as a read
        would); a :class:`DisconnectedError` naming the PV when it is not."""
        return self._require(self._read)

    def latest_value(self) -> Any:
        """The read PV's latest monitor value (``None`` when not monitored or not fresh)."""
        latest = self._read.latest
        return None if latest is None else self._as_reading(latest)["value"]

    def cached_reading(self) -> Reading | None:
        """The monitor's latest value, when this signal reads from it and it is fresh."""
        if not self.use_monitor:
            return None
        latest = self._read.latest
        return None if latest is None else self._as_reading(latest)

    def get_reading(self) -> Reading:
        chan = self._require(self._read)
        cached = self.cached_reading()
        if cached is not None:
            return cached
        (result,) = read_channels([chan], READ_TIMEOUT)
        return self.reading_from(result)

    def reading_from(self, result: Value | str) -> Reading:
        """The reading of a get's ``result`` (an error text raises, naming the PV)."""
        if isinstance(result, str):
            raise self._failure(self._read, "read", result)
        reading = self._as_reading(result)
        self._last_read = reading
        return reading

    def _as_reading(self, result: Value) -> Reading:
        value, timestamp, severity = result
        if self.string and self._read.native_type == _ENUM and isinstance(value, int):
            names = self._read.ctrl.get("enum_strs") or ()
            value = names[value] if 0 <= value < len(names) else str(value)
        return {"value": value, "timestamp": timestamp, "alarm_severity": severity}

    def _failure(self, chan: Channel, action: str, cause: str | None) -> DeviceError:
        """An error naming the PV for a failed ``action`` (read, write).

        libca can answer a get with "Virtual circuit disconnect" before the connection
        callback that marks the channel down has been dispatched: that is a disconnection too.
        """
        lost = "disconnect" in (cause or "").lower()
        if lost or (chan.ever_connected and not chan.connected):
            return DisconnectedError(f"{chan.pvname} is disconnected (did the IOC stop?)")
        cause = cause or "no answer"
        if cause.startswith("no answer"):  # connected, and silent: hung (a stopped process)
            cause += f" (is the IOC hung? check it, e.g. caget {chan.pvname})"
        return DeviceError(f"{chan.pvname}: the {action} failed: {cause}")

    def get_datakey(self, source: str) -> DataKey:
        chan = self._require(self._read)
        ctrl = chan.ctrl
        ftype = chan.type_name
        dtype, dtype_numpy = DTYPES.get(ftype, ("number", "<f8"))
        key: DataKey = {"source": source, "dtype": dtype, "dtype_numpy": dtype_numpy, "shape": []}  # type: ignore[typeddict-item]
        if ftype == "enum":
            choices = [str(s) for s in (ctrl.get("enum_strs") or ())]
            if self.string:
                key["dtype"], key["dtype_numpy"] = "string", "|S40"
            key["choices"] = choices
        elif chan.count > 1:
            key["dtype"] = "array"
            key["shape"] = [chan.count]
        units = ctrl.get("units")
        if units:
            key["units"] = str(units)
        if ctrl.get("precision") is not None and dtype == "number":
            key["precision"] = int(ctrl["precision"])
        limits = ctrl_limits(ctrl)
        if limits:
            key["limits"] = limits  # type: ignore[typeddict-unknown-key]
        return key

    def get_setpoint(self) -> Any:
        """The write PV's current value (a fresh get)."""
        chan = self._require(self._write)
        (result,) = read_channels([chan], READ_TIMEOUT)
        if isinstance(result, str):
            raise self._failure(chan, "read", result)
        value = result[0]
        if self.string and chan.native_type == _ENUM and isinstance(value, int):
            names = chan.ctrl.get("enum_strs") or ()
            value = names[value] if 0 <= value < len(names) else str(value)
        return value

    @property
    def control_info(self) -> dict[str, Any]:
        """The read PV's control information (units, precision, limits, enum strings)."""
        return dict(self._read.ctrl)

    # -- writing ------------------------------------------------------------
    def put(self, value: Any, *, wait: bool = True, timeout: float | None = None) -> Status:
        if not self.write_pv:
            raise DeviceError(f"{self.read_pv} is read-only; it cannot be written")
        if not self._write.ready and on_event_loop():
            self._connecting(self._write)  # a PV that dropped, or that no IOC had, fails now
            return self._put_when_ready(value, wait, timeout)
        chan = self._require(self._write)
        status = Status(self, timeout=timeout)
        if wait:
            with self._lock:
                self._pending.add(status)

        def _done(error: str | None) -> None:  # libca's thread
            if wait:
                dispatch(self._put_done, status, error)

        try:
            chan.put(value, _done)
        except ValueError as exc:  # the value does not fit the PV's type
            with self._lock:
                self._pending.discard(status)
            raise DeviceError(f"{chan.pvname}: cannot write {value!r}: {exc}") from exc
        except OSError as exc:  # libca refused the request
            with self._lock:
                self._pending.discard(status)
            raise self._failure(chan, f"write of {value!r}", exc.strerror) from exc
        return status if wait else finished_status(self)

    def _put_when_ready(self, value: Any, wait: bool, timeout: float | None) -> Status:
        """:meth:`put` on the RunEngine's loop of a PV not yet connected: the write is sent
        once it connects (nothing waits here); it fails naming the PV if it never does."""
        status = Status(self, timeout=timeout)

        def _ready(error: BaseException | None) -> None:
            if error is None and not status.done:
                try:
                    self.put(value, wait=wait).add_callback(lambda put: _copy_outcome(put, status))
                    return
                except Exception as exc:
                    error = exc
            if error is not None:
                if not wait:  # nobody waits for the status: say it here
                    logger.error("the write of %r to %s failed: %s", value, self.write_pv, error)
                status.set_exception(error)

        when_ready([self], _ready)
        return status if wait else finished_status(self)

    def _put_done(self, status: Status, error: str | None) -> None:
        with self._lock:
            self._pending.discard(status)
        if error is None:
            status.set_finished()
        else:
            status.set_exception(self._failure(self._write, "write", error))

    # -- monitoring ---------------------------------------------------------
    def set_callback(self, callback: ReadingCallback | None) -> None:
        with self._lock:
            previous, self._callback = self._callback, callback
            self._skip_repeat = callback is not None
        if callback is None:
            if previous is not None:
                self._read.remove_monitor(self._on_monitor)
            return
        if previous is None:
            self._require(self._read)
            self._read.add_monitor(self._on_monitor)

    def watch_values(
        self, callback: Callable[[Any], None], *, changes_only: bool = False
    ) -> Callable[[], None]:
        """Call ``callback(value)`` on each monitor update of the read PV (dispatcher
        thread), reading nothing first: a new subscription's first update is the current
        value. Returns a function that stops it. For watchers that run where no get may
        wait (the RunEngine's loop, the dispatcher thread), unlike ``Signal.subscribe``,
        which reads the value before its first callback.

        ``changes_only``: leave out that first update of a new subscription (the value
        from before whatever the caller writes next, e.g. a done flag still busy with a
        move being superseded, whose stop then reads as this move's end)."""
        chan = self._read
        skip = [changes_only and not chan.subscribed]

        def _update(update: Value) -> None:
            if skip[0]:
                skip[0] = False
                return
            callback(self._as_reading(update)["value"])

        chan.add_monitor(_update)
        return lambda: chan.remove_monitor(_update)

    def _on_monitor(self, update: Value) -> None:  # dispatcher thread
        reading = self._as_reading(update)
        if self._skip_repeat:
            # a new CA subscription first sends the current value: the signal has just
            # read it (subscribe) and must not see it twice
            self._skip_repeat = False
            last = self._last_read
            if last is not None and last["timestamp"] == reading["timestamp"]:
                return
        callback = self._callback
        if callback is not None:
            callback(reading)


def when_ready(backends: Sequence[CaBackend], then: Callable[[BaseException | None], None]) -> None:
    """Call ``then(None)`` once every channel of ``backends`` is ready, or ``then(error)``
    naming a PV that is not; nothing waits.

    Ready now (the usual case): ``then`` runs at once, in this thread. Otherwise channels
    never tried are connected (:data:`AUTO_CONNECT_TIMEOUT` at most) and ``then`` runs on
    the dispatcher thread when all are ready, or when one has failed or is still not
    connected after that time. For the RunEngine's loop, where :meth:`CaBackend._require`
    would wait up to 5 s for a PV that never connects.
    """
    waits: list[tuple[CaBackend, Channel, Status]] = []
    for backend in backends:
        for chan in backend._channels():
            if chan.ready:
                continue
            try:
                waits.append((backend, chan, backend._connecting(chan)))
            except DisconnectedError as exc:
                then(exc)
                return
    if not waits:
        then(None)
        return
    lock = threading.Lock()
    state = {"left": len(waits), "reported": False}

    def report() -> None:
        with lock:
            if state["reported"]:
                return
            state["reported"] = True
        cancel()
        error = next((b._not_connected(c) for b, c, _st in waits if not c.ready), None)
        dispatch(then, error)

    def one_done(_status: Status) -> None:
        with lock:
            state["left"] -= 1
            last = state["left"] == 0
        if last:
            report()

    cancel = schedule(AUTO_CONNECT_TIMEOUT + 0.5, report)  # a connection begun elsewhere
    for _backend, _chan, status in waits:  # may have no timeout of its own
        status.add_callback(one_done)


def _copy_outcome(source: Status, target: Status) -> None:
    exc = source.exception()
    if exc is None:
        target.set_finished()
    else:
        target.set_exception(exc)
