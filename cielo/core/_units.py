"""The units of a parameter, declared where it is: ``Annotated[float, Units("s")]``.

:func:`~cielo.core.signature_schema` writes them as the parameter schema's ``"units"``
keyword (a form shows ``delay (s)``); :func:`~cielo.core.bind_parameters` ignores them: a
value is given in these units, nothing is converted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Units", "units_metadata"]


@dataclass(frozen=True)
class Units:
    """The units a number parameter is given in, e.g. ``Units("s")`` or ``Units("mm")``."""

    symbol: str

    def __post_init__(self) -> None:
        if not isinstance(self.symbol, str) or not self.symbol.strip():
            raise ValueError(
                f"Units({self.symbol!r}): units must be a non-empty string such as 's' or "
                "'mm'; leave the Units annotation out if the parameter has none"
            )


def units_metadata(metadata: tuple[Any, ...]) -> str | None:
    """The symbol of the last :class:`Units` among ``Annotated`` metadata, if any."""
    found = [m.symbol for m in metadata if isinstance(m, Units)]
    return found[-1] if found else None
