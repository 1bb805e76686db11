"""``EpicsMotor``: an EPICS motor record (VAL, RBV, DMOV, STOP, HLM, LLM, EGU, VELO)."""

from __future__ import annotations

from typing import Any

from cielo.core.protocols import DataKey
from cielo.devices import Kind, MoveStatus, Positioner, Signal

from ._backend import when_ready
from ._batch import EpicsReadMixin, read_many
from ._channel import Value, read_channels_then
from ._done import (
    ANSWER_TIMEOUT,
    DoneWatcher,
    answer_value,
    check_answer_timeout,
    on_event_loop,
)
from ._signal import EpicsSignal, EpicsSignalRO, ca_backend

__all__ = ["EpicsMotor"]


class EpicsMotor(EpicsReadMixin, Positioner):
    """A motor record named ``prefix``: ``EpicsMotor("XF:31ID:m1", name="m1")``.

    ``set(target)`` checks the soft limits (``LLM``..``HLM``, read from the IOC) first,
    then writes ``VAL`` with put-completion; the move is done when ``DMOV`` has gone to
    0 and back to 1 after the move began (and the put has completed), not on the
    put-completion alone. ``stop()`` writes ``STOP``. The readback (``RBV``) reads under
    the device's own name; a dropped connection fails the move naming the PV.

    Called on an event loop (the RunEngine's), ``set()`` waits for nothing: it returns
    the move's status at once, and the limits and start position are read with gets
    whose answers start the move (a target outside the limits then fails the status
    with :class:`LimitError` instead of raising). While a move goes on, the IOC is asked
    for ``DMOV`` every half second: an IOC that stops answering (hung,
    its circuit still up) fails the move after ``answer_timeout`` naming the PV, where
    libca would take ``EPICS_CA_CONN_TMO`` (30 s by default) to give up on it.

    A motor record gives ``VAL`` and ``RBV`` the record's ``EGU`` as units and ``LLM``..
    ``HLM`` as control limits; where an IOC leaves them out of the channels' control
    information (caproto's fake motor record does), ``describe()`` and ``egu`` take them
    from the ``EGU``, ``LLM`` and ``HLM`` fields.

    Parameters
    ----------
    prefix
        The motor record's name.
    separator
        Between record name and field: ``"."`` for a motor record, ``":"`` for the demo
        IOC's motor (whose fields are separate records).
    timeout
        Default timeout of each move, seconds (``None``: wait as long as it takes).
    answer_timeout
        Seconds to wait for the IOC to answer a get (the limits and position a move
        starts from, each check during the move) before failing the move.
    """

    user_readback: EpicsSignalRO
    user_setpoint: EpicsSignal
    motor_done_move: EpicsSignalRO
    motor_is_moving: EpicsSignalRO
    motor_stop: EpicsSignal
    high_limit: EpicsSignal
    low_limit: EpicsSignal
    velocity: EpicsSignal
    motor_egu: EpicsSignalRO

    def __init__(
        self,
        prefix: str,
        *,
        separator: str = ".",
        name: str = "",
        kind: Kind | str | int = Kind.normal,
        parent: Any = None,
        timeout: float | None = None,
        answer_timeout: float = ANSWER_TIMEOUT,
    ) -> None:
        self.answer_timeout = check_answer_timeout(answer_timeout)
        super().__init__(prefix, name=name, kind=kind, parent=parent, timeout=timeout)
        f = f"{prefix}{separator}".__add__
        readback = EpicsSignalRO(f("RBV"), kind=Kind.hinted)
        readback.parent_name = True
        self.user_readback = readback
        self.user_setpoint = EpicsSignal(f("VAL"), kind=Kind.normal)
        self.motor_done_move = EpicsSignalRO(f("DMOV"), string=False, kind=Kind.omitted)
        self.motor_is_moving = EpicsSignalRO(f("MOVN"), string=False, kind=Kind.omitted)
        self.motor_stop = EpicsSignal(f("STOP"), string=False, kind=Kind.omitted)
        self.high_limit = EpicsSignal(f("HLM"), kind=Kind.config)
        self.low_limit = EpicsSignal(f("LLM"), kind=Kind.config)
        self.velocity = EpicsSignal(f("VELO"), kind=Kind.config)
        self.motor_egu = EpicsSignalRO(f("EGU"), kind=Kind.config)

    # -- units and limits live in the IOC ---------------------------------------
    @property
    def egu(self) -> str | None:
        """Engineering units: the readback channel's, else the record's ``EGU`` field."""
        units = super().egu
        if units:
            return units
        return self._egu_field()

    def _egu_field(self) -> str | None:
        value = self.motor_egu.get()
        if isinstance(value, bytes):
            value = value.decode(errors="replace")
        text = str(value).strip("\x00 ") if value is not None else ""
        return text or None

    def describe(self) -> dict[str, DataKey]:
        """Data keys of the readback and setpoint, with ``EGU`` and ``LLM``/``HLM`` filled in."""
        keys = dict(super().describe())
        mine = [s.name for s in (self.user_readback, self.user_setpoint) if s.name in keys]
        if any("units" not in keys[name] for name in mine):
            units = self._egu_field()
            if units:
                for name in mine:
                    keys[name] = {**keys[name], "units": keys[name].get("units", units)}
        if any("control" not in keys[name].get("limits", {}) for name in mine):
            limits = self.limits
            if limits is not None:
                control = {"low": limits[0], "high": limits[1]}
                for name in mine:
                    given: dict[str, Any] = dict(keys[name].get("limits", {}))
                    given.setdefault("control", control)
                    keys[name] = {**keys[name], "limits": given}  # type: ignore[typeddict-unknown-key]
        return keys

    @property  # type: ignore[override]
    def limits(self) -> tuple[float, float] | None:
        """The soft limits ``(LLM, HLM)`` read from the IOC; ``None`` when ``LLM == HLM``."""
        if "low_limit" not in self.__dict__:  # during Positioner.__init__
            return None
        both = read_many([self.low_limit, self.high_limit])
        low, high = (float(both[s.name]["value"]) for s in (self.low_limit, self.high_limit))
        return None if low == high else (low, high)

    @limits.setter
    def limits(self, value: tuple[float, float] | None) -> None:
        if value is None or "low_limit" not in self.__dict__:
            return
        low, high = (float(v) for v in value)
        if low > high:
            raise ValueError(f"{self.name}: limits {value!r} have low > high; give (low, high)")
        self.low_limit.put(low)
        self.high_limit.put(high)

    def _limits_text(self, low: float, high: float) -> str:
        return (
            f"[{low:g}, {high:g}] {self.egu or ''} (LLM/HLM of {self.prefix}); "
            "choose a target inside them or change the limits"
        )

    # -- moving ----------------------------------------------------------------
    def set(self, value: Any, *, timeout: float | None = None) -> MoveStatus:
        """Start moving to ``value``; the status is done when the move is done.

        On an event loop nothing waits for the IOC: the soft limits and the start
        position are read with gets, and their answers start the move (or fail the
        status: a target outside the limits, an IOC that does not answer, a PV that
        never connects).
        """
        if not on_event_loop():
            return super().set(value, timeout=timeout)
        number = self._as_number(value)
        signals = (self.low_limit, self.high_limit, self.user_readback)
        status = self._new_move(value, timeout, initial=None)

        def _connected(error: BaseException | None) -> None:
            # at once when every channel is up; else once they connected (the dispatcher)
            if error is not None:
                status.set_exception(error)
                return
            if status.done:  # superseded or stopped meanwhile
                return
            try:
                channels = [ca_backend(s).read_channel() for s in signals]
                read_channels_then(
                    channels,
                    self.answer_timeout,
                    lambda results: self._checked(status, value, number, signals, results),
                )
            except Exception as exc:  # e.g. disconnected meanwhile
                status.set_exception(exc)

        used = (*signals, self.motor_done_move, self.user_setpoint)
        when_ready([ca_backend(s) for s in used], _connected)
        return status

    def _checked(
        self,
        status: MoveStatus,
        value: Any,
        number: float,
        signals: tuple[Signal[Any], ...],
        results: list[Value | str],
    ) -> None:
        """The limits and position came (the dispatcher thread): start the move, or fail it."""
        if status.done:  # superseded, stopped or timed out meanwhile
            return
        try:
            values = [
                answer_value(
                    self.name, s, r, self.answer_timeout, f"the move to {number:g} was not started"
                )
                for s, r in zip(signals, results, strict=True)
            ]
            low, high = float(values[0]), float(values[1])
            self._check_within(value, number, None if low == high else (low, high))
            status.initial = values[2]
            self._start_move(value, status)
        except Exception as exc:  # the status carries it to whoever waits for the move
            status.set_exception(exc)

    def _last_position(self) -> Any:
        if not on_event_loop():
            return self.position
        return ca_backend(self.user_readback).latest_value()  # no get on the loop

    def _start_move(self, target: Any, status: MoveStatus) -> None:
        watcher = DoneWatcher(
            status,
            self.motor_done_move,
            busy=0,
            done=1,
            watched=(self.user_readback, self.user_setpoint),
            position=self.user_readback,
            arrived=lambda position: self._at(float(target), position),
            answer_timeout=self.answer_timeout,
            device=self.name,
            action=f"the move to {float(target):g}",
        )
        unwatch = ca_backend(self.user_readback).watch_values(status.report)  # no get first
        status.add_callback(lambda _st: unwatch())
        try:
            put = self.user_setpoint.set(float(target))
        except Exception as exc:
            status.set_exception(exc)
            return
        watcher.track_put(put)

    def _at(self, target: float, position: Any) -> bool:
        """Whether ``position`` (the readback's value) is at ``target`` (within the
        readback's precision)."""
        precision = ca_backend(self.user_readback).control_info.get("precision")
        tolerance = 10.0 ** -int(precision) if precision is not None else 1e-9
        return abs(float(position) - target) <= tolerance

    def _stop_motion(self) -> None:
        self.motor_stop.put(1, wait=False)
