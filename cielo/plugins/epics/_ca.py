"""libca calls below pyepics' ``PV``: channels, monitors, batched gets, puts with status.

pyepics' ``epics.ca`` loads libca, makes and attaches the context and names the DBR
structures. On top of that this module calls libca through prototypes of its own (so
the argument types set here never change how pyepics calls the same functions):

* :func:`create_channel` passes a connection callback of its own: libca's thread runs a
  few lines of Python per connection change (pyepics' cache item, per-callback
  ``time.sleep(0)`` and keyword calls cost a GIL hand-over each, 10,000 times);
* :func:`get_many` puts every get of a batch into one *synchronous group*
  (``ca_sg_array_get``) and waits once (``ca_sg_block``): libca writes each answer
  straight into a numpy record owned here, with no Python callback per channel;
* :func:`subscribe` delivers each monitor update decoded;
* :func:`put` writes with a completion callback that reports libca's status, so a put
  the IOC refuses, or one lost with its IOC, fails instead of completing.

Callbacks run on libca's threads: they must not call libca's waiting functions.
"""

from __future__ import annotations

import ctypes
import itertools
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _dbr
from ._transport import epics_module

__all__ = [
    "Gets",
    "clear_channel",
    "create_channel",
    "get_many",
    "put",
    "subscribe",
    "unsubscribe",
]

ECA_NORMAL = 1
CA_OP_CONN_UP = 6
#: DBE_VALUE | DBE_ALARM: value changes and alarm changes.
MONITOR_MASK = 1 | 4


class _Args(ctypes.Structure):
    """libca's ``event_handler_args``, with the user argument as a plain integer."""

    _fields_ = [
        ("usr", ctypes.c_size_t),
        ("chid", ctypes.c_void_p),
        ("type", ctypes.c_long),
        ("count", ctypes.c_long),
        ("raw_dbr", ctypes.c_void_p),
        ("status", ctypes.c_int),
    ]


class _ConnectionArgs(ctypes.Structure):
    """libca's ``connection_handler_args``."""

    _fields_ = [("chid", ctypes.c_void_p), ("op", ctypes.c_long)]


_EVENT = ctypes.CFUNCTYPE(None, _Args)
_CONNECTION = ctypes.CFUNCTYPE(None, _ConnectionArgs)


class _Lib:
    """Prototypes of the libca functions used here, bound to pyepics' loaded libca."""

    def __init__(self, libca: Any) -> None:
        c_int, c_uint, c_long, c_ulong = ctypes.c_int, ctypes.c_uint, ctypes.c_long, ctypes.c_ulong
        vp, size_t = ctypes.c_void_p, ctypes.c_size_t

        def fn(name: str, restype: Any, *argtypes: Any) -> Any:
            return ctypes.CFUNCTYPE(restype, *argtypes)((name, libca))

        def quick(name: str, restype: Any, *argtypes: Any) -> Any:
            # keeps the interpreter lock: these only read a channel's fields under
            # libca's context mutex, which libca never holds while it calls back into
            # Python (it releases it first), so no thread can wait on us in turn
            return ctypes.PYFUNCTYPE(restype, *argtypes)((name, libca))

        self.libca = libca
        self.create_channel = fn(
            "ca_create_channel",
            c_int,
            ctypes.c_char_p,
            _CONNECTION,
            size_t,
            c_uint,
            ctypes.POINTER(vp),
        )
        self.clear_channel = fn("ca_clear_channel", c_int, vp)
        self.puser = quick("ca_puser", size_t, vp)
        self.field_type = quick("ca_field_type", ctypes.c_short, vp)
        self.element_count = quick("ca_element_count", c_ulong, vp)
        self.get_callback = fn("ca_array_get_callback", c_int, c_long, c_ulong, vp, _EVENT, size_t)
        self.sg_create = fn("ca_sg_create", c_int, ctypes.POINTER(c_uint))
        self.sg_array_get = fn("ca_sg_array_get", c_int, c_uint, c_long, c_ulong, vp, vp)
        self.sg_block = fn("ca_sg_block", c_int, c_uint, ctypes.c_double)
        self.sg_delete = fn("ca_sg_delete", c_int, c_uint)
        self.put_callback = fn(
            "ca_array_put_callback", c_int, c_long, c_ulong, vp, vp, _EVENT, size_t
        )
        self.create_subscription = fn(
            "ca_create_subscription",
            c_int,
            c_long,
            c_ulong,
            vp,
            c_long,
            _EVENT,
            size_t,
            ctypes.POINTER(vp),
        )
        self.clear_subscription = fn("ca_clear_subscription", c_int, vp)
        self.flush_io = fn("ca_flush_io", c_int)
        self.message = fn("ca_message", ctypes.c_char_p, c_long)
        shorts = ctypes.c_ushort * 39
        self.dbr_size = list(shorts.in_dll(libca, "dbr_size"))
        self.dbr_value_size = list(shorts.in_dll(libca, "dbr_value_size"))
        self.value_offset = list(shorts.in_dll(libca, "dbr_value_offset"))

    def size(self, dbr_type: int, count: int) -> int:
        """Bytes of a DBR of ``dbr_type`` holding ``count`` elements (libca's dbr_size_n)."""
        return self.dbr_size[dbr_type] + max(count - 1, 0) * self.dbr_value_size[dbr_type]


_lib: _Lib | None = None
_lib_lock = threading.Lock()


def lib() -> _Lib:
    """The libca prototypes (libca loaded and its first context made on first use)."""
    global _lib
    current = _lib
    if current is not None:
        return current
    ca = epics_module().ca
    with _lib_lock:
        if _lib is None:
            if ca.libca is None:
                ca.initialize_libca()
            _lib = _Lib(ca.libca)
        return _lib


def message(status: int) -> str:
    """libca's text for a status code."""
    text = lib().message(status)
    return text.decode(errors="replace") if text else f"status {status}"


# -- channels -----------------------------------------------------------------------------
ConnectionHandler = Callable[[bool], None]
_tokens = itertools.count(1)
_connections: dict[int, ConnectionHandler] = {}
_by_chid: dict[int, ConnectionHandler] = {}


def _on_connection(args: _ConnectionArgs) -> None:  # libca's thread
    handler = _by_chid.get(args.chid or 0)
    if handler is None:  # called back before create_channel returned
        handler = _connections.get(lib().puser(args.chid))
    if handler is not None:
        handler(args.op == CA_OP_CONN_UP)


_CONNECTION_CALLBACK = _CONNECTION(_on_connection)


def create_channel(pvname: str, on_connection: ConnectionHandler) -> int:
    """A channel to ``pvname`` in this thread's context (attach it first);
    ``on_connection(connected)`` runs on libca's thread at each change."""
    token = next(_tokens)
    _connections[token] = on_connection
    chid = ctypes.c_void_p()
    status = lib().create_channel(
        pvname.encode(), _CONNECTION_CALLBACK, token, 0, ctypes.byref(chid)
    )
    if status != ECA_NORMAL:
        del _connections[token]
        raise OSError(status, f"{pvname}: {message(status)}")
    _by_chid[chid.value or 0] = on_connection
    lib().flush_io()
    return int(chid.value or 0)


def clear_channel(chid: int) -> None:
    """Close the channel (in this thread's context); its callbacks stop."""
    lib_ = lib()
    _connections.pop(lib_.puser(chid), None)
    _by_chid.pop(chid, None)
    lib_.clear_channel(chid)


def native(chid: int) -> tuple[int, int]:
    """``(native DBR type, element count)`` of a channel; the type is -1 while libca
    counts it unconnected."""
    lib_ = lib()
    return int(lib_.field_type(chid)), int(lib_.element_count(chid))


# -- gets ---------------------------------------------------------------------------------
def get_many(requests: Sequence[tuple[int, int, int]], timeout: float) -> _dbr.Answers:
    """Get ``(chid, dbr_type, count)`` of every request in one synchronous group.

    The calling thread must be attached to the channels' context. Every get is sent,
    then one wait covers them all; a request libca refuses (a disconnected channel) or
    one unanswered within ``timeout`` is listed in the answers' ``errors``.
    """
    lib_ = lib()
    answers = _dbr.Answers(len(requests))
    scalars: dict[int, list[int]] = {}
    arrays: list[int] = []
    for i, (_chid, dbr_type, count) in enumerate(requests):
        (scalars.setdefault(dbr_type, []) if count == 1 else arrays).append(i)
    gid = ctypes.c_uint()
    status = lib_.sg_create(ctypes.byref(gid))
    if status != ECA_NORMAL:
        answers.errors = dict.fromkeys(range(len(requests)), message(status))
        return answers
    sent: list[tuple[list[int], np.ndarray[Any, Any]]] = []
    try:
        get, group = lib_.sg_array_get, gid.value
        for dbr_type, indices in scalars.items():
            records = np.zeros(len(indices), dtype=_dbr.dtype(dbr_type))
            records["status"] = _dbr.UNANSWERED  # overwritten by the answer
            base, size = records.ctypes.data, records.itemsize
            for k, i in enumerate(indices):
                status = get(group, dbr_type, 1, requests[i][0], base + k * size)
                if status != ECA_NORMAL:
                    answers.errors[i] = message(status)
            sent.append((indices, records))
        for i in arrays:
            chid, dbr_type, count = requests[i]
            layout = _dbr.dtype(dbr_type)
            raw = np.zeros(max(lib_.size(dbr_type, count), layout.itemsize), np.uint8)
            raw[:2].view("<i2")[0] = _dbr.UNANSWERED
            status = get(group, dbr_type, count, chid, raw.ctypes.data)
            if status != ECA_NORMAL:
                answers.errors[i] = message(status)
            sent.append(([i], raw))
        lib_.sg_block(group, timeout)
    finally:
        lib_.sg_delete(gid.value)  # cancels what is still pending: no late writes
    late = f"no answer within {timeout:g} s"
    for indices, records in sent:
        if records.dtype == np.uint8:  # an array's whole DBR
            (i,) = indices
            _chid, dbr_type, count = requests[i]
            layout = _dbr.dtype(dbr_type)
            record = records[: layout.itemsize].view(layout)[0]
            if int(record["status"]) == _dbr.UNANSWERED:
                answers.errors.setdefault(i, late)
            elif i not in answers.errors:
                offset = lib_.value_offset[dbr_type]
                answers.arrays[i] = (record, _dbr.array_value(records, dbr_type, count, offset))
            continue
        for k in np.flatnonzero(records["status"] == _dbr.UNANSWERED).tolist():
            answers.errors.setdefault(indices[k], late)
        answers.groups.append((indices, records))
    return answers


class Gets:
    """Gets with a completion callback each, answered on libca's thread; :meth:`wait`
    for them all, or pass ``on_done`` to be called (on libca's thread, or at once if a
    request is refused) when every answer is in. For a single value a callback answers
    sooner than a synchronous group (whose wait is coarser), and an array's answer tells
    how many elements it has."""

    def __init__(
        self,
        requests: Sequence[tuple[int, int, int]],
        on_done: Callable[[], None] | None = None,
    ) -> None:
        self.results: list[_dbr.Value | str | None] = [None] * len(requests)
        #: Asked with count 0 (an array's elements as many as it holds now).
        self.arrays = [count == 0 for _chid, _type, count in requests]
        self._remaining = len(requests)
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._on_done = on_done
        if not requests:
            self._finish()
        lib_ = lib()
        for i, (chid, dbr_type, count) in enumerate(requests):
            token = next(_tokens)
            _gets[token] = (self, i)
            status = lib_.get_callback(dbr_type, count, chid, _GET_CALLBACK, token)
            if status != ECA_NORMAL:
                _gets.pop(token, None)
                self.answer(i, message(status))
        lib_.flush_io()

    def answer(self, index: int, result: _dbr.Value | str) -> None:
        self.results[index] = result
        with self._lock:
            self._remaining -= 1
            last = self._remaining == 0
        if last:
            self._finish()

    def _finish(self) -> None:
        self._done.set()
        if self._on_done is not None:
            self._on_done()

    def wait(self, timeout: float) -> list[_dbr.Value | str]:
        """Every answer (the text of why there is none where it failed or is late)."""
        self._done.wait(timeout)
        return self.answers(timeout)

    def answers(self, timeout: float) -> list[_dbr.Value | str]:
        """The answers so far; where there is none, that it did not come within ``timeout``."""
        late = f"no answer within {timeout:g} s"
        return [late if r is None else r for r in self.results]


_gets: dict[int, tuple[Gets, int]] = {}


def _on_get(args: _Args) -> None:  # libca's thread
    found = _gets.pop(args.usr, None)
    if found is None:
        return
    gets, index = found
    if args.status != ECA_NORMAL or not args.raw_dbr:
        gets.answer(index, message(args.status))
    else:
        gets.answer(index, _event(args, lib(), gets.arrays[index]))


_GET_CALLBACK = _EVENT(_on_get)


# -- monitors -----------------------------------------------------------------------------
MonitorHandler = Callable[[_dbr.Value], None]
_monitors: dict[int, MonitorHandler] = {}
_arrays: dict[int, bool] = {}


def _on_event(args: _Args) -> None:  # libca's thread
    handler = _monitors.get(args.usr)
    if handler is None or args.status != ECA_NORMAL or not args.raw_dbr:
        return
    lib_ = lib()
    array = _arrays.get(args.usr, False)
    handler(_event(args, lib_, array))


def _event(args: _Args, lib_: _Lib, array: bool) -> _dbr.Value:
    """The value of a callback's DBR (copied: libca reuses the buffer); ``array``: an
    array however many elements it holds now."""
    size = lib_.size(args.type, args.count)
    raw = (ctypes.c_char * size).from_address(args.raw_dbr).raw
    offset = lib_.value_offset[args.type]
    return _dbr.event_value(raw, args.type, args.count, offset, array=array)


_EVENT_CALLBACK = _EVENT(_on_event)


def subscribe(chid: int, dbr_type: int, array: bool, on_update: MonitorHandler) -> tuple[int, int]:
    """A CA monitor of the channel (this thread attached to its context):
    ``on_update((value, timestamp, severity))`` on libca's thread, first with the current
    value (an array as many elements as it holds). Returns ``(event id, token)`` for
    :func:`unsubscribe`."""
    token = next(_tokens)
    _monitors[token] = on_update
    _arrays[token] = array
    evid = ctypes.c_void_p()
    lib_ = lib()
    count = 0 if array else 1
    status = lib_.create_subscription(
        dbr_type, count, chid, MONITOR_MASK, _EVENT_CALLBACK, token, ctypes.byref(evid)
    )
    if status != ECA_NORMAL:
        del _monitors[token]
        _arrays.pop(token, None)
        raise OSError(status, message(status))
    lib_.flush_io()
    return int(evid.value or 0), token


def unsubscribe(subscription: tuple[int, int]) -> None:
    evid, token = subscription
    _monitors.pop(token, None)
    _arrays.pop(token, None)
    lib().clear_subscription(evid)


# -- puts ---------------------------------------------------------------------------------
PutDone = Callable[[str | None], None]
_puts: dict[int, PutDone] = {}


def _on_put(args: _Args) -> None:  # libca's thread
    done = _puts.pop(args.usr, None)
    if done is not None:
        done(None if args.status == ECA_NORMAL else message(args.status))


_PUT_CALLBACK = _EVENT(_on_put)


def put(
    chid: int, native: int, nelm: int, value: Any, enum_strs: Sequence[str], done: PutDone
) -> None:
    """Write ``value`` with put-completion; ``done(error or None)`` runs on libca's thread
    when the IOC has completed it (``error`` is libca's text when it failed). The calling
    thread must be attached to the channel's context."""
    buffer, count = _dbr.encode(value, native, nelm, enum_strs)
    lib_ = lib()
    token = next(_tokens)
    _puts[token] = done
    pointer = buffer.ctypes.data if isinstance(buffer, np.ndarray) else ctypes.addressof(buffer)
    status = lib_.put_callback(native, count, chid, pointer, _PUT_CALLBACK, token)
    if status != ECA_NORMAL:
        _puts.pop(token, None)
        raise OSError(status, message(status))
    lib_.flush_io()
