"""Bundled plugin: the standard scans (count, scan, grid_scan, spiral, adaptive, ...).

The plans keep Bluesky's names and parameter names, so Bluesky users find them where
they expect them.
"""

from __future__ import annotations

from collections.abc import Mapping

from cielo.core import hookimpl
from cielo.hookspecs import PlanFunction

from ._adaptive import adaptive_scan, rel_adaptive_scan
from ._common import share_parameters_doc
from ._count import count
from ._grid import grid_scan, list_grid_scan, rel_grid_scan, rel_list_grid_scan
from ._ramp import RampFail, ramp_plan
from ._spiral import (
    rel_spiral,
    rel_spiral_fermat,
    rel_spiral_square,
    spiral,
    spiral_fermat,
    spiral_square,
)
from ._step import (
    inner_product_scan,
    list_scan,
    log_scan,
    rel_list_scan,
    rel_log_scan,
    rel_scan,
    scan,
    scan_nd,
)
from ._tune import tune_centroid, tweak

#: Every plan this plugin offers, by name.
PLANS: dict[str, PlanFunction] = {
    f.__name__: f
    for f in (
        count,
        scan,
        rel_scan,
        inner_product_scan,
        list_scan,
        rel_list_scan,
        log_scan,
        rel_log_scan,
        grid_scan,
        rel_grid_scan,
        list_grid_scan,
        rel_list_grid_scan,
        scan_nd,
        spiral,
        rel_spiral,
        spiral_fermat,
        rel_spiral_fermat,
        spiral_square,
        rel_spiral_square,
        adaptive_scan,
        rel_adaptive_scan,
        tune_centroid,
        tweak,
        ramp_plan,
    )
}


#: Plans that take the parameters of another: documented alike (the ``rel_`` plans are,
#: by :func:`relative_plan`).
_SHARED_DOCS: list[tuple[PlanFunction, PlanFunction]] = [(inner_product_scan, scan)]
for _plan, _source in _SHARED_DOCS:
    share_parameters_doc(_plan, _source)


@hookimpl
def cielo_plans() -> Mapping[str, PlanFunction]:
    """Offer the standard plans."""
    return dict(PLANS)


__all__ = ["PLANS", "RampFail", "cielo_plans", *sorted(PLANS)]
