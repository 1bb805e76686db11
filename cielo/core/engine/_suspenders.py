"""Suspenders: pause a plan while a signal is out of bounds, resume when it returns.

A suspender subscribes to a signal (ophyd convention: ``subscribe(cb)`` calls
``cb(value=..., ...)`` at once and on every change; ophyd-async passes a reading dict).
When the condition trips it asks the engine to suspend with a future; once the
condition has held its resume state for ``sleep`` seconds the future completes, the
engine runs the optional ``post_plan``, rewinds to the last checkpoint and goes on.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import Any

__all__ = [
    "Suspender",
    "SuspendWhen",
    "SuspendBoolHigh",
    "SuspendBoolLow",
    "SuspendFloor",
    "SuspendCeil",
    "SuspendCeiling",
    "SuspendWhenOutsideBand",
    "SuspendOutsideBand",
    "SuspendWhenChanged",
]

logger = logging.getLogger("cielo.engine.suspenders")


def _value_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if "value" in kwargs:
        return kwargs["value"]
    if args:
        first = args[0]
        if isinstance(first, dict) and first:
            reading = next(iter(first.values()))
            if isinstance(reading, dict) and "value" in reading:
                return reading["value"]
        return first
    raise TypeError("a suspender's signal called back without a value")


class Suspender:
    """Base class: subclasses define :meth:`should_suspend` and :meth:`should_resume`.

    Parameters
    ----------
    signal
        Anything with ``subscribe(cb)`` and ``clear_sub(cb)`` (or ``unsubscribe(token)``).
    sleep
        Seconds the resume condition must hold before the plan goes on.
    pre_plan, post_plan
        Plans (or callables returning plans) run when suspending / before resuming.
    tripped_message
        Extra words for the log and :attr:`RunEngine.suspension_reason`.
    """

    def __init__(
        self,
        signal: Any,
        *,
        sleep: float = 0.0,
        pre_plan: Any = None,
        post_plan: Any = None,
        tripped_message: str = "",
    ) -> None:
        if not hasattr(signal, "subscribe"):
            raise TypeError(f"a suspender needs a signal with subscribe(cb), got {signal!r}")
        if sleep < 0:
            raise ValueError(f"sleep must be >= 0 seconds, got {sleep!r}")
        self.signal = signal
        self.sleep = sleep
        self.pre_plan = pre_plan
        self.post_plan = post_plan
        self.tripped_message = tripped_message
        self.engine: Any = None
        self._lock = threading.RLock()
        self._future: concurrent.futures.Future[None] | None = None
        self._timer: threading.Timer | None = None
        self._token: Any = None
        self.value: Any = None

    # -- conditions ----------------------------------------------------------
    def should_suspend(self, value: Any) -> bool:
        raise NotImplementedError

    def should_resume(self, value: Any) -> bool:
        return not self.should_suspend(value)

    def describe(self, value: Any) -> str:
        """Why the plan is suspended (for logs)."""
        name = getattr(self.signal, "name", self.signal)
        return f"{type(self).__name__}: {name!r} is {value!r}"

    @property
    def tripped(self) -> bool:
        return self._future is not None

    # -- engine side ---------------------------------------------------------
    def install(self, engine: Any) -> None:
        with self._lock:
            if self.engine is not None and self.engine is not engine:
                raise RuntimeError(f"{self!r} is already installed on another RunEngine")
            self.engine = engine
        self._token = self.signal.subscribe(self._on_update)

    def remove(self) -> None:
        with self._lock:
            engine, self.engine = self.engine, None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            future, self._future = self._future, None
        if engine is None:
            return
        clear = getattr(self.signal, "clear_sub", None)
        if clear is not None:
            clear(self._on_update)
        elif hasattr(self.signal, "unsubscribe"):
            self.signal.unsubscribe(self._token)
        if future is not None and not future.done():
            future.set_result(None)  # a removed suspender must not keep a plan waiting

    def reassert(self) -> None:
        """Ask the engine to suspend again if still tripped (at a new ``RE(plan)`` or resume)."""
        with self._lock:
            if self._future is not None and self.engine is not None:
                self._request(self._future)

    def _request(self, future: concurrent.futures.Future[None]) -> None:
        justification = self.describe(self.value)
        if self.tripped_message:
            justification = f"{justification} ({self.tripped_message})"
        self.engine.request_suspend(
            future,
            pre_plan=self.pre_plan,
            post_plan=self.post_plan,
            justification=justification,
        )

    def _on_update(self, *args: Any, **kwargs: Any) -> None:
        value = _value_of(args, kwargs)
        with self._lock:
            self.value = value
            if self.engine is None:
                return
            if self._future is None:
                if self.should_suspend(value):
                    self._future = concurrent.futures.Future()
                    logger.warning("suspender tripped: %s", self.describe(value))
                    self._request(self._future)
                return
            if self.should_resume(value):
                if self._timer is None:
                    self._timer = threading.Timer(self.sleep, self._release, args=(self._future,))
                    self._timer.daemon = True
                    self._timer.start()
            elif self._timer is not None:  # went bad again while settling
                self._timer.cancel()
                self._timer = None

    def _release(self, future: concurrent.futures.Future[None]) -> None:
        with self._lock:
            if self._future is not future:
                return
            self._future = None
            self._timer = None
        logger.warning("suspender released: %s", self.describe(self.value))
        if not future.done():
            future.set_result(None)

    def __repr__(self) -> str:
        name = getattr(self.signal, "name", self.signal)
        return f"<{type(self).__name__} on {name!r}{' tripped' if self.tripped else ''}>"


class SuspendWhen(Suspender):
    """Suspend when ``suspend_if(value)`` is true; resume when ``resume_if(value)`` is (default: not suspend_if)."""

    def __init__(
        self,
        signal: Any,
        suspend_if: Callable[[Any], bool],
        resume_if: Callable[[Any], bool] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(signal, **kwargs)
        self._suspend_if = suspend_if
        self._resume_if = resume_if

    def should_suspend(self, value: Any) -> bool:
        return bool(self._suspend_if(value))

    def should_resume(self, value: Any) -> bool:
        if self._resume_if is None:
            return not self._suspend_if(value)
        return bool(self._resume_if(value))


class SuspendBoolHigh(Suspender):
    """Suspend while the signal is true (e.g. an interlock)."""

    def should_suspend(self, value: Any) -> bool:
        return bool(value)


class SuspendBoolLow(Suspender):
    """Suspend while the signal is false (e.g. shutter open permit)."""

    def should_suspend(self, value: Any) -> bool:
        return not bool(value)


class _Threshold(Suspender):
    def __init__(
        self, signal: Any, suspend_thresh: float, resume_thresh: float | None = None, **kwargs: Any
    ):
        super().__init__(signal, **kwargs)
        self.suspend_thresh = suspend_thresh
        self.resume_thresh = suspend_thresh if resume_thresh is None else resume_thresh


class SuspendFloor(_Threshold):
    """Suspend when the value drops below ``suspend_thresh``; resume at ``resume_thresh`` or above.

    E.g. ``SuspendFloor(beam_current, 90, resume_thresh=95, sleep=10)``.
    """

    def __init__(
        self, signal: Any, suspend_thresh: float, resume_thresh: float | None = None, **kwargs: Any
    ):
        super().__init__(signal, suspend_thresh, resume_thresh, **kwargs)
        if self.resume_thresh < self.suspend_thresh:
            raise ValueError(
                f"SuspendFloor: resume_thresh {self.resume_thresh!r} must be >= suspend_thresh "
                f"{self.suspend_thresh!r}"
            )

    def should_suspend(self, value: Any) -> bool:
        return value < self.suspend_thresh

    def should_resume(self, value: Any) -> bool:
        return value >= self.resume_thresh


class SuspendCeil(_Threshold):
    """Suspend when the value rises above ``suspend_thresh``; resume at ``resume_thresh`` or below."""

    def __init__(
        self, signal: Any, suspend_thresh: float, resume_thresh: float | None = None, **kwargs: Any
    ):
        super().__init__(signal, suspend_thresh, resume_thresh, **kwargs)
        if self.resume_thresh > self.suspend_thresh:
            raise ValueError(
                f"SuspendCeil: resume_thresh {self.resume_thresh!r} must be <= suspend_thresh "
                f"{self.suspend_thresh!r}"
            )

    def should_suspend(self, value: Any) -> bool:
        return value > self.suspend_thresh

    def should_resume(self, value: Any) -> bool:
        return value <= self.resume_thresh


SuspendCeiling = SuspendCeil


class SuspendWhenOutsideBand(Suspender):
    """Suspend when the value leaves ``[band_bottom, band_top]``; resume when back inside."""

    def __init__(self, signal: Any, band_bottom: float, band_top: float, **kwargs: Any):
        if band_bottom >= band_top:
            raise ValueError(f"band_bottom {band_bottom!r} must be below band_top {band_top!r}")
        super().__init__(signal, **kwargs)
        self.band_bottom = band_bottom
        self.band_top = band_top

    def should_suspend(self, value: Any) -> bool:
        return not (self.band_bottom <= value <= self.band_top)


SuspendOutsideBand = SuspendWhenOutsideBand


class SuspendWhenChanged(Suspender):
    """Suspend when the value differs from ``expected_value`` (default: its value at install).

    With ``allow_resume=False`` (default, as Bluesky) the plan stays suspended until the
    suspender is removed or the value returns to what is expected and allow_resume is set.
    """

    def __init__(
        self, signal: Any, expected_value: Any = None, *, allow_resume: bool = False, **kwargs: Any
    ):
        super().__init__(signal, **kwargs)
        self.expected_value = expected_value
        self.allow_resume = allow_resume

    def install(self, engine: Any) -> None:
        if self.expected_value is None:
            self.expected_value = _current_value(self.signal)
        super().install(engine)

    def should_suspend(self, value: Any) -> bool:
        return value != self.expected_value

    def should_resume(self, value: Any) -> bool:
        return self.allow_resume and value == self.expected_value


def _current_value(signal: Any) -> Any:
    get = getattr(signal, "get", None)
    if get is not None:
        return get()
    reading = signal.read()
    return next(iter(reading.values()))["value"]
