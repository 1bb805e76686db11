"""The pyepics side of the EPICS plugin: lazy import, client environment, callback thread.

pyepics (and with it libca) is imported on first use, never when the plugin is
registered. libca reads its ``EPICS_CA_*`` environment when its context is created, i.e.
when the first channel is made: set the environment (:func:`client_env`) before that,
or call :func:`reset_context` so the next channel starts a fresh context.

Channel Access calls back on libca's own threads, where calling back into libca is
forbidden. Every callback that reaches user code (monitor subscribers, status
callbacks) is therefore handed to one dispatcher thread, in arrival order.
"""

from __future__ import annotations

import asyncio
import heapq
import os
import queue
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from cielo.core import DeviceError

__all__ = [
    "attached",
    "client_env",
    "dispatch",
    "epics_module",
    "forget_attachments",
    "on_event_loop",
    "reset_context",
    "schedule",
    "thread_context",
]

_lock = threading.Lock()
_dispatcher: threading.Thread | None = None
_calls: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]]] = queue.SimpleQueue()


def epics_module() -> ModuleType:
    """``import epics``, with a clear error naming the fix when pyepics is missing."""
    first = "epics" not in sys.modules
    try:
        import epics
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise DeviceError(
            "EPICS devices need pyepics: pip install 'cielo[epics]' (or pyepics)"
        ) from exc
    if first and "softioc" in sys.modules:
        warnings.warn(
            "softioc (an IOC) is imported in this process: its copy of EPICS base and "
            "pyepics' libca do not work side by side (channels never connect). Run the "
            "IOC in another process (cielo ioc sim).",
            RuntimeWarning,
            stacklevel=2,
        )
    return epics


def client_env(
    ports: Iterable[int], host: str = "127.0.0.1", *, apply: bool = False
) -> dict[str, str]:
    """The Channel Access client environment that finds IOCs on ``host`` at ``ports`` only.

    With ``apply=True`` the variables are also written to ``os.environ`` (do it before
    the first EPICS channel is made, or call :func:`reset_context` afterwards).
    """
    env = {
        "EPICS_CA_ADDR_LIST": " ".join(f"{host}:{int(p)}" for p in ports),
        "EPICS_CA_AUTO_ADDR_LIST": "NO",
    }
    if apply:
        os.environ.update(env)
    return env


def reset_context() -> None:
    """Drop pyepics' channels and libca context; the next channel reads the env anew."""
    epics = sys.modules.get("epics")
    if epics is not None and epics.ca.libca is not None:
        epics.ca.clear_cache()


def on_event_loop() -> bool:
    """Whether this thread runs an asyncio event loop (the RunEngine's): no waiting here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def dispatch(func: Callable[..., Any], *args: Any) -> None:
    """Run ``func(*args)`` on the EPICS dispatcher thread (in submission order).

    A plain queue and one daemon thread: a put costs well under a microsecond on libca's
    thread (an executor's future and locks cost many times that, 10,000 times when a
    profile's channels connect).
    """
    global _dispatcher
    if _dispatcher is None or not _dispatcher.is_alive():
        with _lock:
            if _dispatcher is None or not _dispatcher.is_alive():
                _dispatcher = threading.Thread(
                    target=_dispatch_forever, name="cielo-epics-dispatch", daemon=True
                )
                _dispatcher.start()
    _calls.put((func, args))


def _dispatch_forever() -> None:
    while True:
        func, args = _calls.get()
        _run_logged(func, args)


_local = threading.local()
#: Bumped when pyepics clears its channels and context: cached attachments are stale.
_generation = [0]


def forget_attachments() -> None:
    """Forget which context each thread was seen attached to (the contexts changed)."""
    _generation[0] += 1


def thread_context(ca: Any) -> Any:
    """The CA context of this thread, attaching pyepics' initial one if it has none.

    Remembered per thread, so the channels' hot paths do not ask libca every time (each
    libca call lets other threads take the interpreter lock).
    """
    seen = getattr(_local, "context", None)
    if seen is not None and seen[0] == _generation[0]:
        return seen[1]
    context = ca.current_context()
    if context is None:
        ca.use_initial_context()
        context = ca.current_context()
    _local.context = (_generation[0], context)
    return context


@contextmanager
def attached(ca: Any, context: Any) -> Iterator[None]:
    """Run with this thread attached to the channels' CA context.

    The raw ``ca`` calls of a batch, unlike pyepics' ``PV`` methods, do not attach it.
    In a thread with no context attached (the RunEngine's, a plan's), a get would not be
    sent, or would go to a context of its own. Like pyepics' ``PV`` methods, a thread
    without a context keeps it attached; a thread in another context gets that context
    back.
    """
    seen = getattr(_local, "context", None)
    if seen is not None and seen == (_generation[0], context):
        yield
        return
    current = ca.current_context()
    if current == context or current is None:
        if current is None:
            ca.attach_context(context)
        _local.context = (_generation[0], context)
        yield
        return
    ca.detach_context()
    ca.attach_context(context)
    try:
        yield
    finally:
        ca.detach_context()
        ca.attach_context(current)


class _Timers:
    """One thread that runs callbacks at deadlines (connection timeouts of every channel).

    A ``threading.Timer`` per connecting channel costs a thread each: 10,000 PVs made
    10,000 threads. Here a heap of deadlines is served by a single daemon thread.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[..., Any], tuple[Any, ...]]] = []
        self._pending: set[int] = set()
        self._cancelled: set[int] = set()
        self._cond = threading.Condition()
        self._seq = 0
        self._thread: threading.Thread | None = None

    def schedule(self, delay: float, func: Callable[..., Any], *args: Any) -> Callable[[], None]:
        with self._cond:
            self._seq += 1
            token = self._seq
            entry = (time.monotonic() + delay, token, func, args)
            heapq.heappush(self._heap, entry)
            self._pending.add(token)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="cielo-epics-timers", daemon=True
                )
                self._thread.start()
            if self._heap[0] is entry:  # a new earliest deadline: wake the thread for it
                self._cond.notify()

        def cancel() -> None:
            with self._cond:
                if token in self._pending:
                    self._cancelled.add(token)

        return cancel

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if not self._heap:
                        self._cond.wait()
                        continue
                    when, token, func, args = self._heap[0]
                    if token in self._cancelled:
                        heapq.heappop(self._heap)
                        self._cancelled.discard(token)
                        self._pending.discard(token)
                        continue
                    wait = when - time.monotonic()
                    if wait <= 0:
                        heapq.heappop(self._heap)
                        self._pending.discard(token)
                        break
                    self._cond.wait(wait)
            _run_logged(func, args)


_timers = _Timers()


def schedule(delay: float, func: Callable[..., Any], *args: Any) -> Callable[[], None]:
    """Call ``func(*args)`` after ``delay`` seconds on the shared timer thread; returns a
    function that cancels the call."""
    return _timers.schedule(delay, func, *args)


def _run_logged(func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        func(*args)
    except Exception:  # a subscriber's bug must not kill the dispatcher
        import logging

        logging.getLogger("cielo.plugins.epics").exception("error in EPICS callback %r", func)


def ctrl_limits(ctrl: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Event-model ``limits`` (control, display, warning, alarm) from pyepics control info."""
    pairs = {
        "control": ("lower_ctrl_limit", "upper_ctrl_limit"),
        "display": ("lower_disp_limit", "upper_disp_limit"),
        "warning": ("lower_warning_limit", "upper_warning_limit"),
        "alarm": ("lower_alarm_limit", "upper_alarm_limit"),
    }
    limits: dict[str, dict[str, float]] = {}
    for key, (lo_name, hi_name) in pairs.items():
        lo, hi = ctrl.get(lo_name), ctrl.get(hi_name)
        if lo is None or hi is None:
            continue
        lo, hi = float(lo), float(hi)
        if lo != lo or hi != hi or (lo == 0.0 and hi == 0.0):  # NaN or unset
            continue
        limits[key] = {"low": lo, "high": hi}
    return limits


#: pyepics field type (without "time_"/"ctrl_") → (event-model dtype, numpy dtype string).
DTYPES: dict[str, tuple[str, str]] = {
    "string": ("string", "|S40"),
    "char": ("integer", "|u1"),
    "short": ("integer", "<i2"),
    "int": ("integer", "<i2"),
    "long": ("integer", "<i4"),
    "int64": ("integer", "<i8"),
    "float": ("number", "<f4"),
    "double": ("number", "<f8"),
    "enum": ("integer", "<u2"),
}
