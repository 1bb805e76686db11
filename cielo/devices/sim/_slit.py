"""A slit: gap and centre as pseudo axes over two blades."""

from __future__ import annotations

from collections.abc import Sequence

from .._pseudo import PseudoPositioner

__all__ = ["Slit"]


class Slit(PseudoPositioner):
    """Gap and centre of a slit from its ``top`` and ``bottom`` blades.

    ``gap = top - bottom``, ``center = (top + bottom) / 2``; blades are components of
    a subclass or existing positioners passed as ``reals={"top": m1, "bottom": m2}``.
    """

    pseudo_axes = ("gap", "center")
    real_axes = ("top", "bottom")

    def forward(self, *pseudo: float) -> Sequence[float]:
        gap, center = pseudo
        return center + gap / 2.0, center - gap / 2.0

    def inverse(self, *real: float) -> Sequence[float]:
        top, bottom = real
        return top - bottom, (top + bottom) / 2.0
