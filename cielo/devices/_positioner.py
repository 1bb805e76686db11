"""Positioners: devices that move to a target, with soft limits, progress and stop."""

from __future__ import annotations

import math
import threading
from typing import Any

from cielo.core import DeviceError, LimitError, Status
from cielo.core.protocols import Location

from ._device import Device
from ._kind import Kind
from ._signal import Signal, SignalRW

__all__ = ["MoveStatus", "Positioner", "StoppedError"]


class StoppedError(DeviceError):
    """A move was stopped before it reached its target."""


#: :class:`MoveStatus`'s default ``initial``: read the positioner's position
READ_POSITION: Any = object()


class MoveStatus(Status):
    """The status of one move: knows its target and reports progress to watchers.

    ``status.watch(fn)`` calls ``fn(name=, current=, initial=, target=, unit=,
    precision=, fraction=, time_elapsed=[, time_remaining=])`` as the positioner moves.
    """

    def __init__(
        self,
        positioner: Positioner,
        target: Any,
        *,
        timeout: float | None = None,
        settle_time: float = 0.0,
        initial: Any = READ_POSITION,
    ) -> None:
        super().__init__(positioner, timeout=timeout, settle_time=settle_time)
        self.target = target
        #: where the move began (read from the positioner unless given)
        self.initial = positioner.position if initial is READ_POSITION else initial

    _watched = False
    #: set by :meth:`Positioner.stop` before the motion is halted: a finish that the
    #: halted motion itself brings (a done flag, a completed put) fails with it instead
    stop_error: BaseException | None = None

    def set_finished(self) -> None:
        """Mark the move successful, unless it is being stopped (then it failed)."""
        stop = self.stop_error
        if stop is not None:
            self.set_exception(stop)
        else:
            super().set_finished()

    def watch(self, watcher: Any) -> None:
        self._watched = True
        super().watch(watcher)

    def report(self, current: Any, time_remaining: float | None = None) -> None:
        """Tell watchers where the positioner is now (and, if known, how long is left)."""
        if not self._watched:
            return
        extra = {} if time_remaining is None else {"time_remaining": max(0.0, time_remaining)}
        span = _distance(self.target, self.initial)
        fraction = 1.0 if not span else min(1.0, 1.0 - _distance(self.target, current) / span)
        device = self.obj
        self.update_progress(
            name=device.name,
            current=current,
            initial=self.initial,
            target=self.target,
            unit=device.egu,
            precision=device.precision,
            fraction=fraction,
            **extra,
        )


def _distance(a: Any, b: Any) -> float:
    try:
        return abs(float(a) - float(b))
    except (TypeError, ValueError):
        return 0.0


class Positioner(Device):
    """Base of everything that moves: ``set(target)`` returns a :class:`MoveStatus`.

    Subclasses provide the signals ``user_readback`` (read under the device's own name)
    and ``user_setpoint``, and implement :meth:`_start_move` (begin moving; finish the
    status when the move is done, or fail it) and optionally :meth:`_stop_motion`.

    Parameters
    ----------
    limits
        Soft limits ``(low, high)``; a target outside them raises :class:`LimitError`
        before anything moves. ``None`` (or ``low == high``) means no limits.
    timeout
        Default timeout of each move's status, seconds (``None``: wait forever).
    settle_time
        Seconds to wait after a move before reporting it done.
    """

    def __init__(
        self,
        prefix: str = "",
        *,
        name: str = "",
        kind: Kind | str | int = Kind.normal,
        parent: Any = None,
        limits: tuple[float, float] | None = None,
        timeout: float | None = None,
        settle_time: float = 0.0,
    ) -> None:
        super().__init__(prefix, name=name, kind=kind, parent=parent)
        self.limits = limits
        self.timeout = timeout
        self.settle_time = settle_time
        self._move_lock = threading.Lock()
        self._moving: MoveStatus | None = None

    # -- signals -------------------------------------------------------------
    @property
    def readback(self) -> Signal[Any]:
        signal: Signal[Any] = getattr(self, "user_readback")  # noqa: B009
        return signal

    @property
    def setpoint(self) -> SignalRW[Any]:
        signal: SignalRW[Any] = getattr(self, "user_setpoint")  # noqa: B009
        return signal

    @property
    def position(self) -> Any:
        """Where the positioner is now (its readback)."""
        return self.readback.get()

    @property
    def egu(self) -> str | None:
        """Engineering units of the readback."""
        return self.readback.describe()[self.readback.name].get("units")

    @property
    def precision(self) -> int | None:
        return self.readback.describe()[self.readback.name].get("precision")

    @property
    def moving(self) -> bool:
        status = self._moving
        return status is not None and not status.done

    # -- limits --------------------------------------------------------------
    @property
    def limits(self) -> tuple[float, float] | None:
        return self._limits

    @limits.setter
    def limits(self, value: tuple[float, float] | None) -> None:
        if value is not None:
            low, high = (float(v) for v in value)
            if low > high:
                raise ValueError(f"{self.name}: limits {value!r} have low > high; give (low, high)")
            value = None if low == high else (low, high)
        self._limits = value
        self._limits_changed(value)

    def _limits_changed(self, limits: tuple[float, float] | None) -> None:
        """Called when :attr:`limits` change (subclasses update what they describe)."""

    def check_value(self, value: Any) -> None:
        """Raise :class:`LimitError` if ``value`` is not a finite number inside the limits."""
        self._check_within(value, self._as_number(value), self.limits)

    def _as_number(self, value: Any) -> float:
        """``value`` as a number; :class:`LimitError` if it is none (or NaN)."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise LimitError(f"{self.name}: target {value!r} is not a number") from None
        if math.isnan(number):
            raise LimitError(f"{self.name}: target is NaN")
        return number

    def _check_within(self, value: Any, number: float, limits: tuple[float, float] | None) -> None:
        """:class:`LimitError` if ``number`` (the target ``value``) is outside ``limits``."""
        if limits is not None and not limits[0] <= number <= limits[1]:
            raise LimitError(
                f"{self.name}: target {value!r} is outside the soft limits "
                + self._limits_text(*limits)
            )

    def _limits_text(self, low: float, high: float) -> str:
        """The limits and how to change them, in :meth:`check_value`'s refusal."""
        return f"[{low}, {high}]; move within them or change {self.name}.limits"

    # -- moving --------------------------------------------------------------
    def set(self, value: Any, *, timeout: float | None = None) -> MoveStatus:
        """Start moving to ``value``; the status is done when the move is done."""
        self.check_value(value)
        status = self._new_move(value, timeout)
        self._start_move(value, status)
        return status

    def _new_move(
        self, value: Any, timeout: float | None, initial: Any = READ_POSITION
    ) -> MoveStatus:
        """The status of a move to ``value``, now the pending one (a previous move still
        going is stopped and fails as superseded)."""
        status = MoveStatus(
            self,
            value,
            timeout=self.timeout if timeout is None else timeout,
            settle_time=self.settle_time,
            initial=initial,
        )
        with self._move_lock:
            previous, self._moving = self._moving, status
        if previous is not None and not previous.done:
            self._stop_motion()
            previous.set_exception(
                StoppedError(
                    f"{self.name}: the move to {previous.target!r} was superseded "
                    f"by a move to {value!r}"
                )
            )
        status.add_callback(self._on_move_done)
        return status

    def _on_move_done(self, status: Status) -> None:
        if isinstance(status.exception(), TimeoutError) and self._moving is status:
            self._stop_motion()  # a move that timed out must not go on

    def move(self, value: Any, *, wait: bool = True, timeout: float | None = None) -> MoveStatus:
        """Move to ``value``, blocking until done when ``wait`` is true."""
        status = self.set(value, timeout=timeout)
        if wait:
            status.wait()
        return status

    def stop(self, *, success: bool = False) -> None:
        """Stop moving now; the pending move fails (or succeeds with ``success=True``).

        The move's status is marked as stopped before the motion is halted: the halt
        brings the done flag and the put's completion, which would otherwise finish it
        as a success when they come first (an EPICS motor's dispatcher thread)."""
        with self._move_lock:
            pending = self._moving
        if pending is not None and not pending.done and not success:
            pending.stop_error = StoppedError(
                f"{self.name} was stopped {self._where()} before reaching {pending.target!r}"
            )
        self._stop_motion()
        with self._move_lock:
            status, self._moving = self._moving, None
        if status is not None and not status.done:
            if success:
                status.set_finished()
            else:
                status.set_exception(
                    status.stop_error
                    or StoppedError(
                        f"{self.name} was stopped {self._where()} before reaching {status.target!r}"
                    )
                )

    def _last_position(self) -> Any:
        """Where the positioner is, for messages; ``None`` if unknown (subclasses may
        avoid a slow read)."""
        return self.position

    def _where(self) -> str:
        position = self._last_position()
        return "at an unknown position" if position is None else f"at {position!r}"

    def subscribe(self, callback: Any, event_type: str | None = None, run: bool = True) -> int:
        """Subscribe to the readback (``callback(*, value, old_value, timestamp, obj, ...)``)."""
        return self.readback.subscribe(callback, event_type, run)

    def clear_sub(self, callback: Any, event_type: str | None = None) -> None:
        self.readback.clear_sub(callback, event_type)

    def unsubscribe(self, token: int) -> None:
        self.readback.unsubscribe(token)

    def locate(self) -> Location:
        return {"setpoint": self.setpoint.get(), "readback": self.readback.get()}

    def _start_move(self, target: Any, status: MoveStatus) -> None:
        """Begin moving to ``target``; finish ``status`` when done (subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _start_move")

    def _stop_motion(self) -> None:
        """Halt the motion (subclasses); the base class handles the status."""
