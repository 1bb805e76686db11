"""Store a plan's peak statistics in its runs, so they are kept and read back with the data."""

from __future__ import annotations

import logging
from collections.abc import Generator, Sequence
from typing import Any

from cielo.core import Msg

__all__ = ["with_peak_stats"]

logger = logging.getLogger("cielo.callbacks")


def with_peak_stats(
    plan: Any,
    *,
    y: str | Sequence[str] | None = None,
    x: str | None = None,
    derivative: bool = False,
    stream: str = "peak_stats",
) -> Generator[Msg, Any, Any]:
    """Plan wrapper: each run of ``plan`` records its peak statistics before it closes.

    The statistics (those of the ``peak_stats`` callback: ``com``, ``cen``, ``fwhm``,
    ``max_x``... per detector field, options ``y``, ``x``, ``derivative``) become one
    event of the run's ``stream``, fields ``{field}_{statistic}`` (``det_cen``), so every
    suitcase and the catalog store them with the run. They are computed by a callback
    subscribed in lock step for the plan's duration, so they cover every point. Runs
    opened with a run key (several runs open at once) and runs with no statistics (no
    numeric detector field, grid scans without ``x``) are closed without them.

    Examples
    --------
    >>> RE(with_peak_stats(scan([det], motor, -2, 2, 21)))  # doctest: +SKIP
    >>> catalog[uid]["peak_stats"].columns(["det_cen", "det_fwhm"])  # doctest: +SKIP
    """
    from cielo.callbacks import PeakStatsCollector, save_analysis
    from cielo.plans import plan_mutator, subs_wrapper

    collector = PeakStatsCollector(y=y, x=x, derivative=derivative)

    def before_close(msg: Msg) -> tuple[Any, Any]:
        if msg.command != "close_run" or msg.run is not None or len(collector.open_runs) != 1:
            return None, None

        def record_then_close() -> Generator[Msg, Any, Any]:
            current = {f: s for f, s in collector.current().items() if s.n}
            if current:
                yield from save_analysis(
                    {f: s.as_dict() for f, s in current.items()}, stream=stream
                )
            else:
                logger.info("with_peak_stats: no statistics to record for this run")
            return (yield msg)

        return record_then_close(), None

    return (yield from subs_wrapper(plan_mutator(plan, before_close), collector))
