"""The channel layer: one Channel Access channel per PV name, shared by every signal on it.

Channels are made with ``epics.ca.create_channel`` and a connection callback: no pyepics
``PV`` object, no thread and no subscription per channel. What each connection change
does is small on libca's thread (hand it to the dispatcher); the field type and control
information of newly connected channels are fetched in batches (:mod:`._ctrlinfo`).

Monitors follow a policy rather than being made for every channel: a channel is
subscribed while a signal subscribes to it, or while a signal reads it from the monitor
(``use_monitor``) and its arrays are shorter than ``epics.ca.AUTOMONITOR_MAXLENGTH``.
Reads are fresh gets (:func:`read_channels`, one synchronous group for any number of
channels) unless the monitor holds a value received since the channel (re)connected.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from cielo.core import ConnectionTimeoutError, Status

from . import _ca, _dbr
from ._ctrlinfo import request_control_info
from ._dbr import Value
from ._transport import (
    attached,
    dispatch,
    epics_module,
    forget_attachments,
    schedule,
    thread_context,
)

__all__ = ["Channel", "channel", "read_channels", "read_channels_then"]

ConnectionListener = Callable[["Channel", bool], None]
ReadsDone = Callable[[list["Value | str"]], None]
MonitorCallback = Callable[[Value], None]

DBR_TIME, DBR_CTRL = 14, 28
#: Scalars read together from this many on go in one synchronous group.
GROUP_FROM = 16


class Channel:
    """One PV's channel: connection state, native type, control information, monitor."""

    def __init__(self, pvname: str) -> None:
        self.pvname = pvname
        self.chid: int | None = None
        self.context: Any = None
        self.connected = False
        self.ever_connected = False
        #: Native DBR type (``-1`` until the control information came), element count.
        self.native_type = -1
        self.count = 1
        self.ctrl: dict[str, Any] = {}
        self.connect_status: Status | None = None
        self._fetching = False
        self._lock = threading.RLock()
        self._listeners: list[ConnectionListener] = []
        self._monitors: list[MonitorCallback] = []
        self._cached_readers = 0
        self._subscription: tuple[int, int] | None = None
        #: The monitor's latest value, ``None`` until one came since the last connection.
        self.latest: Value | None = None

    @property
    def name(self) -> str:  # Status names its object in messages
        return self.pvname

    @property
    def time_type(self) -> int:
        return self.native_type + DBR_TIME

    @property
    def ready(self) -> bool:
        """Connected, with its field type and control information."""
        return self.connected and self.native_type >= 0

    @property
    def type_name(self) -> str:
        """The native field type's name (``double``, ``enum``, ...)."""
        return str(epics_module().dbr.Name(self.native_type)).lower()

    # -- connecting -------------------------------------------------------------------
    def start(self, timeout: float | None) -> Status:
        """Start connecting (once; again after a failed attempt); the status of it, done
        when the channel is connected and its control information known."""
        with self._lock:
            current = self.connect_status
            if current is not None and not (current.done and not current.success):
                return current
            status = Status(self)
            self.connect_status = status
            if self.ready:
                status.set_finished()
                return status
            if self.chid is None:
                self._create()
            elif self.connected:  # connected after an earlier attempt timed out
                self._fetch_ctrl()
        if timeout is not None and not status.done:
            cancel = schedule(timeout, self._timed_out, status, timeout)
            status.add_callback(lambda _st: cancel())
        return status

    def _create(self) -> None:
        _ca.lib()  # libca loaded, its first context made
        self.context = thread_context(epics_module().ca)
        self.chid = _ca.create_channel(self.pvname, self._on_connection)

    def _timed_out(self, status: Status, timeout: float) -> None:
        status.set_exception(
            ConnectionTimeoutError(f"{self.pvname} did not connect within {timeout:g} s")
        )

    def _on_connection(self, conn: bool) -> None:  # libca's thread
        dispatch(self._connection_changed, conn)

    def _connection_changed(self, conn: bool) -> None:
        self.connected = conn
        if conn:
            self.ever_connected = True
            if self.native_type < 0:
                self._fetch_ctrl()
            elif self.connect_status is not None and not self.connect_status.done:
                self.connect_status.set_finished()
        else:
            self.latest = None  # no longer fresh
        for listener in list(self._listeners):
            listener(self, conn)

    def _fetch_ctrl(self) -> None:
        with self._lock:
            if self._fetching or self.chid is None:
                return
            self._fetching = True
        request_control_info(self.chid, self.context, self._ctrl_arrived)

    def _ctrl_arrived(self, md: dict[str, Any] | None, native: int, count: int) -> None:
        """On the control-information thread: record it, finish the connect status."""
        with self._lock:
            self._fetching = False
            status = self.connect_status
            if md is None or native < 0:
                return  # the connect status times out; starting again asks again
            self.ctrl, self.native_type, self.count = md, native, max(int(count), 1)
        self._update_subscription()
        if status is not None and not status.done and self.connected:
            status.set_finished()

    def forget(self) -> None:
        """Close the channel (pyepics is clearing its channels and context); connect anew
        on the next :meth:`start`."""
        with self._lock:
            if self.chid is not None:
                with attached(epics_module().ca, self.context):
                    _ca.clear_channel(self.chid)
            self.chid = None
            self.context = None
            self._fetching = False
            self.connect_status = None
            self.connected = False
            self._subscription = None
            self.latest = None

    def add_listener(self, listener: ConnectionListener) -> None:
        """Call ``listener(channel, connected)`` on each connection change (dispatcher)."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: ConnectionListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    # -- monitoring -------------------------------------------------------------------
    @property
    def subscribed(self) -> bool:
        """Whether the channel has a CA subscription (a new one first sends the value)."""
        return self._subscription is not None

    def add_monitor(self, callback: MonitorCallback) -> None:
        """Call ``callback((value, timestamp, severity))`` on each update (dispatcher)."""
        with self._lock:
            self._monitors.append(callback)
        self._update_subscription()

    def remove_monitor(self, callback: MonitorCallback) -> None:
        with self._lock:
            if callback in self._monitors:
                self._monitors.remove(callback)
        self._update_subscription()

    def cache_reads(self, on: bool) -> None:
        """A signal reads this channel from its monitor (``on``) or stops doing so."""
        with self._lock:
            self._cached_readers += 1 if on else -1
        self._update_subscription()

    def _wants_subscription(self) -> bool:
        if self._monitors:
            return True
        maxlength = epics_module().ca.AUTOMONITOR_MAXLENGTH
        return self._cached_readers > 0 and self.count < maxlength

    def _update_subscription(self) -> None:
        with self._lock:
            wanted = self._wants_subscription() and self.native_type >= 0
            if wanted == (self._subscription is not None) or self.chid is None:
                return
            with attached(epics_module().ca, self.context):
                if wanted:
                    self._subscription = _ca.subscribe(
                        self.chid, self.time_type, self.count > 1, self._on_monitor
                    )
                else:
                    subscription, self._subscription = self._subscription, None
                    self.latest = None
                    assert subscription is not None
                    _ca.unsubscribe(subscription)

    def _on_monitor(self, update: Value) -> None:
        # libca's thread: keep the value, deliver it on the dispatcher
        if self._subscription is not None:
            self.latest = update
        dispatch(self._deliver, update)

    def _deliver(self, update: Value) -> None:
        for callback in list(self._monitors):
            callback(update)

    # -- writing ----------------------------------------------------------------------
    def put(self, value: Any, done: _ca.PutDone) -> None:
        """Write ``value`` with put-completion (``done(error or None)`` on libca's thread)."""
        assert self.chid is not None
        ca = epics_module().ca
        enum_strs = self.ctrl.get("enum_strs") or ()
        with attached(ca, self.context):
            _ca.put(self.chid, self.native_type, self.count, value, enum_strs, done)


_channels: dict[str, Channel] = {}
_registry_lock = threading.Lock()
_clear_hook_registered = False


def channel(pvname: str) -> Channel:
    """The channel of ``pvname`` (made on first use, then shared)."""
    global _clear_hook_registered
    found = _channels.get(pvname)
    if found is not None:
        return found
    with _registry_lock:
        if not _clear_hook_registered:
            epics_module().ca.register_clear_cache(_forget_all)
            _clear_hook_registered = True
        return _channels.setdefault(pvname, Channel(pvname))


def _forget_all() -> None:
    """pyepics is about to clear every channel (``epics.ca.clear_cache()``)."""
    forget_attachments()
    for chan in list(_channels.values()):
        chan.forget()


def read_channels(channels: Sequence[Channel], timeout: float) -> list[Value | str]:
    """Fresh ``DBR_TIME`` gets of ``channels`` (ready ones): ``(value, timestamp,
    severity)`` for each, or the text of why it failed.

    Many scalars go in one synchronous group (no Python callback per channel); a few, and
    arrays (whose answer says how many elements they hold now), are got with a callback
    each. Everything is sent before anything is awaited, so the time is about one round
    trip however many channels.
    """
    out: list[Value | str] = [""] * len(channels)
    by_context: dict[Any, list[int]] = defaultdict(list)
    for i, chan in enumerate(channels):
        by_context[chan.context].append(i)
    ca = epics_module().ca
    for context, indices in by_context.items():
        grouped = [i for i in indices if channels[i].count == 1]
        if len(grouped) < GROUP_FROM:
            grouped = []
        called = [i for i in indices if channels[i].count != 1 or len(grouped) == 0]
        with attached(ca, context):
            gets = _ca.Gets(
                [
                    (channels[i].chid or 0, channels[i].time_type, int(channels[i].count == 1))
                    for i in called
                ]
            )
            if grouped:
                requests = [(channels[i].chid or 0, channels[i].time_type, 1) for i in grouped]
                answers = _dbr.time_values(_ca.get_many(requests, timeout))
                for i, value in zip(grouped, answers, strict=True):
                    out[i] = value
            for i, value in zip(called, gets.wait(timeout), strict=True):
                out[i] = value
    return out


def read_channels_then(channels: Sequence[Channel], timeout: float, then: ReadsDone) -> None:
    """:func:`read_channels` without waiting: the gets are sent now and
    ``then(results)`` runs on the dispatcher thread once every answer is in, or after
    ``timeout`` seconds with the text ``no answer within ... s`` for each missing one.

    For callers that must not block (the RunEngine's event loop): nothing here waits for
    the IOC, so a hung one costs nothing until the timeout reports it.
    """
    by_context: dict[Any, list[int]] = defaultdict(list)
    for i, chan in enumerate(channels):
        by_context[chan.context].append(i)
    lock = threading.RLock()  # a refused get answers at once, in this thread
    batches: list[tuple[list[int], _ca.Gets]] = []
    state = {"open": len(by_context), "reported": False}
    cancel: list[Callable[[], None]] = []

    def report() -> None:
        with lock:
            if state["reported"]:
                return
            state["reported"] = True
        for stop in cancel:
            stop()
        out: list[Value | str] = [""] * len(channels)
        for indices, gets in batches:
            for i, result in zip(indices, gets.answers(timeout), strict=True):
                out[i] = result
        dispatch(then, out)

    def one_done() -> None:
        with lock:
            state["open"] -= 1
            last = state["open"] == 0 and len(batches) == len(by_context)
        if last:
            report()

    if not by_context:
        dispatch(then, [])
        return
    ca = epics_module().ca
    for context, indices in by_context.items():
        requests = [
            (channels[i].chid or 0, channels[i].time_type, int(channels[i].count == 1))
            for i in indices
        ]
        with attached(ca, context):
            with lock:  # an answer may come before the batch is listed
                gets = _ca.Gets(requests, on_done=one_done)
                batches.append((indices, gets))
    cancel.append(schedule(timeout, report))
    if state["open"] == 0:
        report()
