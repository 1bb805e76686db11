"""``CaBackend``: the Channel Access transport of a :class:`cielo.devices.Signal`, on pyepics.

Channels are monitored as pyepics decides by default (scalars and arrays shorter than
``epics.ca.AUTOMONITOR_MAXLENGTH``; large waveforms are not streamed unasked). A read is
a fresh CA get (``DBR_TIME``: the IOC's timestamp and alarm severity): a monitor update
may reach the client after the put completion of a trigger or a move, so the monitor's
latest value is used only where a signal asks for it (``use_monitor=True``, for values
nobody waits on). ``describe()`` uses the control information (units, precision,
limits, enum strings) fetched once on connection, off the callback thread; writes use
put-completion, so the status is done when the IOC says the put has completed;
subscriptions are CA monitors. Connection timeouts share one timer thread.
A channel that drops fails every pending put, and later reads, with an error naming
the PV.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from cielo.core import ConnectionTimeoutError, DeviceError, Status, finished_status
from cielo.core.protocols import DataKey, Reading
from cielo.devices import ReadingCallback, SignalBackend

from ._ctrlinfo import request_control_info
from ._transport import DTYPES, ctrl_limits, dispatch, epics_module, schedule

__all__ = ["CaBackend", "DisconnectedError"]

ConnectionCallback = Callable[[str, bool], None]
#: Channel Access status "virtual circuit disconnect" (the IOC went away).
_ECA_DISCONN = 192
#: Seconds a signal used before :meth:`connect` waits for its PV to connect.
AUTO_CONNECT_TIMEOUT = 5.0


class DisconnectedError(DeviceError):
    """A PV is not connected (never was, or its IOC went away)."""


#: Every channel that holds a pyepics PV: disconnected before pyepics clears its cache.
_channels: weakref.WeakSet[_Channel] = weakref.WeakSet()
_clear_hook_registered = False


def _new_pv(channel: _Channel) -> Any:
    """A pyepics PV for ``channel``, disconnected by pyepics' own ``clear_cache``.

    pyepics requires PVs not made by ``get_pv`` to be disconnected before
    ``epics.ca.clear_cache()`` (a new context, a test session ending); a PV left
    connected makes libca crash when it is garbage-collected later.
    """
    global _clear_hook_registered
    epics = epics_module()
    with _clear_lock:
        if not _clear_hook_registered:
            epics.ca.register_clear_cache(_disconnect_all)
            _clear_hook_registered = True
        _channels.add(channel)
    return epics.PV(
        channel.pvname,
        form="time",
        connection_callback=channel._connection_changed,
    )


_clear_lock = threading.Lock()


def _disconnect_all() -> None:
    """Disconnect every channel's PV; the next connect makes a fresh one."""
    for channel in list(_channels):
        channel.forget_pv()


class _Channel:
    """One pyepics PV plus its connection state and control information."""

    def __init__(self, pvname: str, on_connection: Callable[[_Channel, bool], None]) -> None:
        self.pvname = pvname
        self.pv: Any = None
        self.ctrl: dict[str, Any] = {}
        #: Native field type (``epics.dbr``; 3 is ENUM) and its DBR_TIME type, read when
        #: the control information is: pyepics' own ``PV.ftype`` is sometimes taken
        #: while libca still reports the type unknown (seen with thousands of channels).
        self.native_type = -1
        self.time_type = -1
        self.connected = False
        self.ever_connected = False
        self.connect_status: Status | None = None
        self._start_lock = threading.Lock()
        self._on_connection = on_connection

    def start(self, timeout: float | None) -> Status:
        """Start connecting (once; again after a failed attempt); the status of it."""
        with self._start_lock:
            current = self.connect_status
            if current is not None and not (current.done and not current.success):
                return current
            status = Status(self)
            self.connect_status = status
            if self.pv is None:
                self.pv = _new_pv(self)
            elif self.pv.connected:  # connected after an earlier attempt timed out
                self._fetch_ctrl(status)
        if timeout is not None:
            cancel = schedule(timeout, self._timed_out, status, timeout)
            status.add_callback(lambda _st: cancel())
        return status

    @property
    def name(self) -> str:  # used by Status in its messages
        return self.pvname

    def forget_pv(self) -> None:
        """Disconnect and drop the PV (its context is going away); connect anew later."""
        with self._start_lock:
            pv, self.pv = self.pv, None
            self.connect_status = None
            self.connected = False
        if pv is not None:
            try:
                pv.disconnect()
            except Exception:  # the channel may already be gone with its IOC
                pass

    def _timed_out(self, status: Status, timeout: float) -> None:
        status.set_exception(
            ConnectionTimeoutError(f"{self.pvname} did not connect within {timeout:g} s")
        )

    def _connection_changed(
        self, pvname: str = "", conn: bool = False, pv: Any = None, **_: Any
    ) -> None:
        # libca thread (or inside epics.PV() for a cached channel): remember the PV
        # object, then hand over to the dispatcher before touching libca again
        if pv is not None and self.pv is None:
            self.pv = pv
        dispatch(self._connection_changed_dispatched, bool(conn))

    def _connection_changed_dispatched(self, conn: bool) -> None:
        self.connected = conn
        if conn:
            self.ever_connected = True
            status = self.connect_status
            if status is not None and not status.done:
                self._fetch_ctrl(status)
        self._on_connection(self, conn)

    def _fetch_ctrl(self, status: Status) -> None:
        """Ask for the control information and field type (batched, on the control-info
        thread: the dispatcher goes on delivering monitors meanwhile)."""

        def done(md: dict[str, Any] | None, native: int) -> None:
            if status.done:
                return
            pv = self.pv
            if md is None or native < 0 or pv is None:
                status.set_exception(
                    ConnectionTimeoutError(f"{self.pvname} connected but sent no control info")
                )
                return
            md.pop("value", None)
            self.ctrl = md
            self.native_type = native
            self.time_type = epics_module().ca.promote_type(pv.chid, use_time=True)
            status.set_finished()

        if self.pv is not None and not status.done:
            request_control_info(self, done)

    @property
    def type_name(self) -> str:
        """The native field type's name (``double``, ``enum``, ...)."""
        return str(epics_module().dbr.Name(self.native_type)).lower()

    @property
    def monitored(self) -> bool:
        """True when pyepics keeps this channel's latest value (auto-monitor, right type)."""
        pv = self.pv
        return bool(pv is not None and pv.auto_monitor and pv.ftype == self.time_type)

    def close(self) -> None:
        if self.pv is not None:
            self.pv.clear_callbacks()
            self.pv.disconnect()
            self.pv = None
        self.connected = False


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
        Read the monitor's latest value when the channel is monitored, instead of a fresh
        CA get. Only for values that no trigger or move of the plan changes: the IOC sends
        monitor updates and put completions on separate paths, so right after a put the
        monitor may still hold the old value.
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
        self._read = _Channel(read_pv, self._connection_changed)
        self._write = (
            self._read
            if self.write_pv == read_pv or not self.write_pv
            else _Channel(self.write_pv, self._connection_changed)
        )
        self._callback: ReadingCallback | None = None
        self._monitor_index: int | None = None
        self._pending: set[Status] = set()
        self._listeners: list[ConnectionCallback] = []

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
        return self._read.connected and self._write.connected

    @property
    def writable(self) -> bool:
        return bool(self.write_pv)

    def connect(self, timeout: float | None) -> Status:
        statuses = [self._read.start(timeout)]
        if self._write is not self._read:
            statuses.append(self._write.start(timeout))
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
        self.set_callback(None)
        self._read.close()
        if self._write is not self._read:
            self._write.close()

    def add_connection_callback(self, callback: ConnectionCallback) -> None:
        """Call ``callback(pvname, connected)`` on every connection change (dispatcher thread)."""
        self._listeners.append(callback)

    def remove_connection_callback(self, callback: ConnectionCallback) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _connection_changed(self, channel: _Channel, conn: bool) -> None:
        if not conn and channel.ever_connected:
            with self._lock:
                pending, self._pending = self._pending, set()
            for st in pending:
                st.set_exception(
                    DisconnectedError(
                        f"{channel.pvname} disconnected before its put completed "
                        "(did the IOC stop?)"
                    )
                )
        for listener in list(self._listeners):
            listener(channel.pvname, conn)

    def _require(self, channel: _Channel) -> Any:
        if not channel.ever_connected:  # connect on first use, as pyepics does
            status = channel.start(AUTO_CONNECT_TIMEOUT)
            if status.exception(AUTO_CONNECT_TIMEOUT + 1.0) is not None or not status.done:
                raise DisconnectedError(
                    f"{channel.pvname} is not connected (no IOC answered within "
                    f"{AUTO_CONNECT_TIMEOUT:g} s; is the IOC running and listed in "
                    "EPICS_CA_ADDR_LIST?)"
                )
        if not channel.connected:
            raise DisconnectedError(f"{channel.pvname} is disconnected (did the IOC stop?)")
        return channel.pv

    # -- reading ------------------------------------------------------------
    def _is_enum(self) -> bool:
        return self._read.native_type == 3  # DBR_ENUM

    def get_reading(self) -> Reading:
        pv = self._require(self._read)
        as_string = self.string and self._is_enum()
        try:
            md = pv.get_with_metadata(
                form="time", use_monitor=self.use_monitor, as_string=as_string, timeout=2.0
            )
        except Exception as exc:  # pyepics' errors do not name the PV
            raise self._failure(self._read, "read", exc) from exc
        if md is None or md.get("value") is None:
            raise self._failure(self._read, "read", None)
        return _reading(md["value"], md)

    def _failure(self, channel: _Channel, action: str, exc: BaseException | None) -> DeviceError:
        """An error naming the PV for a failed ``action`` (read, write)."""
        ca_status = getattr(exc, "status", None)
        lost = channel.pv is not None and not channel.pv.connected
        if lost or ca_status == _ECA_DISCONN:
            return DisconnectedError(f"{channel.pvname} is disconnected (did the IOC stop?)")
        if isinstance(ca_status, int) and ca_status != 1:  # 1: ECA_NORMAL
            cause = f": {epics_module().ca.message(ca_status)}"
        elif exc is not None:
            cause = f": {type(exc).__name__}: {exc}"
        else:
            cause = " (no answer within 2 s)"
        return DeviceError(f"{channel.pvname}: the {action} failed{cause}")

    def get_datakey(self, source: str) -> DataKey:
        pv = self._require(self._read)
        ctrl = self._read.ctrl
        ftype = self._read.type_name
        dtype, dtype_numpy = DTYPES.get(ftype, ("number", "<f8"))
        nelm = int(pv.nelm or 1)
        key: DataKey = {"source": source, "dtype": dtype, "dtype_numpy": dtype_numpy, "shape": []}  # type: ignore[typeddict-item]
        if ftype == "enum":
            choices = [str(s) for s in (ctrl.get("enum_strs") or ())]
            if self.string:
                key["dtype"], key["dtype_numpy"] = "string", "|S40"
            key["choices"] = choices
        elif nelm > 1:
            key["dtype"] = "array"
            key["shape"] = [nelm]
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
        pv = self._require(self._write)
        try:
            enum = self._write.native_type == 3
            md = pv.get_with_metadata(
                form="time", use_monitor=False, as_string=self.string and enum, timeout=2.0
            )
        except Exception as exc:
            raise self._failure(self._write, "read", exc) from exc
        value = None if md is None else md.get("value")
        if value is None:
            raise self._failure(self._write, "read", None)
        return value

    @property
    def control_info(self) -> dict[str, Any]:
        """The read PV's control information (units, precision, limits, enum strings)."""
        return dict(self._read.ctrl)

    # -- writing ------------------------------------------------------------
    def put(self, value: Any, *, wait: bool = True, timeout: float | None = None) -> Status:
        if not self.write_pv:
            raise DeviceError(f"{self.read_pv} is read-only; it cannot be written")
        pv = self._require(self._write)
        if not wait:
            try:
                pv.put(value, wait=False)
            except Exception as exc:
                raise self._failure(self._write, f"write of {value!r}", exc) from exc
            return finished_status(self)
        status = Status(self, timeout=timeout)
        with self._lock:
            self._pending.add(status)

        def _done(**_: Any) -> None:  # libca thread
            dispatch(self._put_done, status)

        try:
            pv.put(value, wait=False, callback=_done, use_complete=True)
        except Exception as exc:
            with self._lock:
                self._pending.discard(status)
            raise self._failure(self._write, f"write of {value!r}", exc) from exc
        return status

    def _put_done(self, status: Status) -> None:
        with self._lock:
            self._pending.discard(status)
        status.set_finished()

    # -- monitoring ---------------------------------------------------------
    def set_callback(self, callback: ReadingCallback | None) -> None:
        with self._lock:
            self._callback = callback
            index = self._monitor_index
        pv = self._read.pv
        if callback is None:
            if index is not None and pv is not None:
                pv.remove_callback(index)
            self._monitor_index = None
            return
        if index is None:
            pv = self._require(self._read)
            self._monitor_index = pv.add_callback(self._on_monitor, with_ctrlvars=False)

    def _on_monitor(self, value: Any = None, char_value: Any = None, **md: Any) -> None:
        if self.string and str(md.get("type", "")).endswith("enum"):
            value = char_value
        dispatch(self._deliver, _reading(value, md))

    def _deliver(self, reading: Reading) -> None:
        callback = self._callback
        if callback is not None:
            callback(reading)


def _reading(value: Any, md: dict[str, Any]) -> Reading:
    reading: Reading = {"value": value, "timestamp": float(md.get("timestamp") or 0.0)}
    severity = md.get("severity")
    if severity is not None:
        reading["alarm_severity"] = int(severity)
    return reading
