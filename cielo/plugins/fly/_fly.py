"""fly: kick off flyers, let them run, complete and collect what they recorded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cielo.core import PlanParameterError
from cielo.core.protocols import Flyable
from cielo.plans import (
    MsgGenerator,
    collect,
    complete_all,
    declare_stream,
    flat_collect_keys,
    kickoff_all,
    run_wrapper,
    validated,
)

__all__ = ["fly", "flat_collect_keys"]


@validated
def fly(
    flyers: Sequence[Flyable],
    *,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator:
    """Fly-scan: kick off every flyer, wait for them to complete, then collect their data.

    Each flyer's data goes into a stream named after it (new-style flyers) or into the
    streams it names itself (``describe_collect`` returning ``{stream: data_keys}``).

    Parameters
    ----------
    flyers
        Devices with ``kickoff``, ``complete`` and ``collect``/``describe_collect``.
    md
        Metadata for the run start.

    Returns
    -------
    str
        The run uid.

    Examples
    --------
    >>> RE(fly([flyer]))  # doctest: +SKIP
    """
    flyers_: list[Any] = list(flyers)
    if not flyers_:
        raise PlanParameterError("fly: give at least one flyer, e.g. fly([flyer])")
    names = [getattr(f, "name", str(f)) for f in flyers_]
    base: dict[str, Any] = {
        "plan_name": "fly",
        "plan_args": {"flyers": names},
        "detectors": names,
        "hints": {},
    }
    base.update(md or {})

    def inner() -> MsgGenerator:
        yield from kickoff_all(*flyers_, wait=True)
        flat = [f for f in flyers_ if flat_collect_keys(f)]
        for flyer in flat:
            yield from declare_stream(flyer, name=flyer.name, collect=True)
        yield from complete_all(*flyers_, wait=True)
        for flyer in flyers_:
            name = flyer.name if any(flyer is f for f in flat) else None
            yield from collect(flyer, name=name)

    return (yield from run_wrapper(inner(), md=base))
