"""Pseudo positioners: axes computed from real positioners (a slit's gap and centre)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from cielo.core import DeviceError, LimitError, Status, status_all
from cielo.core.protocols import Location

from ._device import Device
from ._kind import Kind
from ._positioner import MoveStatus, Positioner
from ._signal import DerivedSignal, SoftSignal

__all__ = ["PseudoPositioner", "PseudoAxis"]


class PseudoAxis(Positioner):
    """One pseudo axis of a :class:`PseudoPositioner`; its readback is computed from the
    reals' readbacks through ``inverse``; moving it moves the reals through ``forward``."""

    def __init__(
        self,
        owner: PseudoPositioner,
        index: int,
        *,
        kind: Kind | str | int = Kind.hinted,
        limits: tuple[float, float] | None = None,
    ) -> None:
        self.user_setpoint = SoftSignal(0.0, kind=Kind.normal)
        readback = DerivedSignal(
            lambda *reals: owner.inverse(*reals)[index],
            *(real.readback for real in owner.reals.values()),
            kind=Kind.hinted,
        )
        readback.parent_name = True
        self.user_readback = readback
        super().__init__(kind=kind, limits=limits)
        self._owner = owner
        self._index = index

    def check_value(self, value: Any) -> None:
        """Check this axis' limits, then the reals' limits for the whole move."""
        super().check_value(value)
        full = list(self._owner.position)
        full[self._index] = float(value)
        self._owner.check_value(full)

    def _start_move(self, target: Any, status: MoveStatus) -> None:
        full = list(self._owner.position)
        full[self._index] = float(target)
        inner = self._owner.set(full)

        def _done(st: Status) -> None:
            exc = st.exception()
            if exc is None:
                status.set_finished()
            else:
                status.set_exception(exc)

        inner.add_callback(_done)

    def _stop_motion(self) -> None:
        self._owner.stop()


class PseudoPositioner(Device):
    """Axes computed from real positioners: subclass, name the axes, give the transforms.

    ::

        class Slit(PseudoPositioner):
            pseudo_axes = ("gap", "center")
            real_axes = ("top", "bottom")

            def forward(self, gap, center):
                return center + gap / 2, center - gap / 2

            def inverse(self, top, bottom):
                return top - bottom, (top + bottom) / 2

    The reals are either declared as components (``top = Cpt(SimMotor)``) or passed in
    as existing devices (``Slit(reals={"top": m1, "bottom": m2})``, left unrenamed).
    Each pseudo axis becomes a child positioner (``slit.gap.set(2)``); ``slit.set((2, 0))``
    moves all axes at once. Targets are checked against the pseudo axes' and the reals'
    limits before anything moves.
    """

    pseudo_axes: ClassVar[tuple[str, ...]] = ()
    real_axes: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        prefix: str = "",
        *,
        name: str = "",
        kind: Kind | str | int = Kind.normal,
        parent: Any = None,
        reals: Mapping[str, Positioner] | None = None,
        limits: Mapping[str, tuple[float, float]] | None = None,
    ) -> None:
        super().__init__(prefix, name=name, kind=kind, parent=parent)
        if not self.pseudo_axes or not self.real_axes:
            raise TypeError(f"{type(self).__name__} must set pseudo_axes and real_axes")
        if reals is None:
            missing = [
                a for a in self.real_axes if not isinstance(getattr(self, a, None), Positioner)
            ]
            if missing:
                raise DeviceError(
                    f"{name}: real axes {missing} are neither components nor given in reals="
                )
            self._reals = {a: getattr(self, a) for a in self.real_axes}
        else:
            if set(reals) != set(self.real_axes):
                raise DeviceError(
                    f"{name}: reals= must name exactly {list(self.real_axes)}, got {list(reals)}"
                )
            self._reals = {a: reals[a] for a in self.real_axes}
        limits = dict(limits or {})
        unknown = set(limits) - set(self.pseudo_axes)
        if unknown:
            raise DeviceError(
                f"{name}: limits for unknown axes {sorted(unknown)}; axes are {list(self.pseudo_axes)}"
            )
        for index, axis in enumerate(self.pseudo_axes):
            setattr(self, axis, PseudoAxis(self, index, limits=limits.get(axis)))
        for axis, value in zip(self.pseudo_axes, self.position, strict=True):
            self.axis(axis).user_setpoint.put(value)

    # -- transforms (subclasses) -----------------------------------------------
    def forward(self, *pseudo: float) -> Sequence[float]:
        """Real positions (in ``real_axes`` order) for the pseudo positions."""
        raise NotImplementedError

    def inverse(self, *real: float) -> Sequence[float]:
        """Pseudo positions (in ``pseudo_axes`` order) for the real positions."""
        raise NotImplementedError

    # -- access ------------------------------------------------------------------
    @property
    def reals(self) -> dict[str, Positioner]:
        return dict(self._reals)

    def axis(self, name: str) -> PseudoAxis:
        axis: PseudoAxis = getattr(self, name)
        return axis

    @property
    def position(self) -> tuple[float, ...]:
        return tuple(self.inverse(*(r.position for r in self._reals.values())))

    def locate(self) -> Location:
        setpoint = tuple(self.axis(a).user_setpoint.get() for a in self.pseudo_axes)
        return {"setpoint": setpoint, "readback": self.position}

    # -- moving ------------------------------------------------------------------
    def _full_target(self, value: Any) -> list[float]:
        if isinstance(value, Mapping):
            unknown = set(value) - set(self.pseudo_axes)
            if unknown:
                raise ValueError(
                    f"{self.name}: unknown axes {sorted(unknown)}; use {list(self.pseudo_axes)}"
                )
            current = dict(zip(self.pseudo_axes, self.position, strict=True))
            current.update(value)
            return [float(current[a]) for a in self.pseudo_axes]
        values = list(value) if isinstance(value, Sequence) else [value]
        if len(values) != len(self.pseudo_axes):
            raise ValueError(
                f"{self.name}: give {len(self.pseudo_axes)} positions {list(self.pseudo_axes)}, got {value!r}"
            )
        return [float(v) for v in values]

    def check_value(self, value: Any) -> list[float]:
        """Check pseudo and real limits; return the real targets."""
        target = self._full_target(value)
        for axis, v in zip(self.pseudo_axes, target, strict=True):
            Positioner.check_value(self.axis(axis), v)
        reals = [float(v) for v in self.forward(*target)]
        for (real_name, real), v in zip(self._reals.items(), reals, strict=True):
            try:
                real.check_value(v)
            except LimitError as exc:
                raise LimitError(
                    f"{self.name}: target {dict(zip(self.pseudo_axes, target, strict=True))} needs "
                    f"{real_name}={v}, refused: {exc}"
                ) from exc
        return reals

    def set(self, value: Any, *, timeout: float | None = None) -> Status:
        """Move to pseudo positions (a sequence in ``pseudo_axes`` order or a mapping)."""
        target = self._full_target(value)
        reals = self.check_value(target)
        for axis, v in zip(self.pseudo_axes, target, strict=True):
            self.axis(axis).user_setpoint.put(v)
        statuses = [
            real.set(v, timeout=timeout)
            for real, v in zip(self._reals.values(), reals, strict=True)
        ]
        return status_all(statuses, obj=self)

    def stop(self, *, success: bool = False) -> None:
        for real in self._reals.values():
            real.stop(success=success)
