"""Outside oracle: Bluesky's PeakStats and cielo's agree on the same documents."""

from __future__ import annotations

import numpy as np
import pytest

from cielo.callbacks import PeakStats, replay

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("xs", [np.linspace(-2, 2, 41), np.linspace(2, -2, 33)])
def test_peak_stats_match_bluesky(docs, xs):
    fitting = pytest.importorskip("bluesky.callbacks.fitting")
    rng = np.random.default_rng(1)
    run = docs.step_run(
        xs, func=lambda x: 3 + 40 * np.exp(-((x - 0.3) ** 2) / 0.4) + rng.normal(0, 0.2)
    )
    theirs = fitting.PeakStats("motor", "det")
    ours = PeakStats("det", "motor")
    replay(run, theirs, ours)
    mine = ours.results["det"]
    assert mine.max == pytest.approx(tuple(theirs.max))
    assert mine.min == pytest.approx(tuple(theirs.min))
    assert mine.cen == pytest.approx(theirs.cen, abs=1e-9)
    assert mine.fwhm == pytest.approx(theirs.fwhm, abs=1e-9)
    # centre of mass: Bluesky's weighs y itself, ours y - min(y) (a background does not
    # pull it towards the middle of the scan); equal on data whose minimum is zero
    y = np.asarray(ours.ydata["det"])
    order = np.argsort(ours.xdata)
    x_sorted, lifted = np.asarray(ours.xdata)[order], (y - y.min())[order]
    assert mine.com == pytest.approx(float((x_sorted * lifted).sum() / lifted.sum()))
    if xs[0] < xs[-1]:
        zero = fitting.PeakStats("motor", "det")
        replay([(n, _minus(d, y.min())) for n, d in run], zero)
        assert mine.com == pytest.approx(zero.com, rel=1e-9)


def _minus(doc, offset):
    if "data" not in doc or "det" not in doc.get("data", {}):
        return doc
    return {**doc, "data": {**doc["data"], "det": doc["data"]["det"] - offset}}
