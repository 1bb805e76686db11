"""save_analysis records results as a stream of the run; the readable follows the protocol."""

from __future__ import annotations

import numpy as np

from cielo.callbacks import AnalysisReadable, save_analysis
from cielo.core.protocols import Readable


def test_readable_describes_what_it_reads(validate):
    obj = AnalysisReadable(
        "fit",
        {
            "center": np.float64(0.3),
            "success": True,
            "n": 12,
            "model": "gaussian",
            "crossings": (0.1, 0.5),
            "stderr": None,
        },
    )
    assert isinstance(obj, Readable)
    reading, keys = obj.read(), obj.describe()
    assert (
        set(reading)
        == set(keys)
        == {"fit_center", "fit_success", "fit_n", "fit_model", "fit_crossings", "fit_stderr"}
    )
    assert keys["fit_success"]["dtype"] == "boolean"
    assert keys["fit_n"]["dtype"] == "integer"
    assert keys["fit_crossings"] == {
        "dtype": "array",
        "shape": [2],
        "source": "analysis:fit.crossings",
    }
    assert np.isnan(reading["fit_stderr"]["value"])
    desc = {
        "uid": "d",
        "run_start": "r",
        "time": 1.0,
        "name": "analysis",
        "data_keys": keys,
        "hints": {"fit": obj.hints},
        "configuration": {},
        "object_keys": {"fit": list(keys)},
    }
    validate("descriptor", desc)


def test_save_analysis_messages():
    plan = save_analysis({"det": {"cen": 1.5}, "fit": {"ok": True}}, stream="stats")
    msgs = list(plan)
    assert [m.command for m in msgs] == ["create", "read", "read", "save"]
    assert msgs[0].kwargs == {"name": "stats"}
    assert msgs[1].obj.read()["det_cen"]["value"] == 1.5
    assert msgs[2].obj.read()["fit_ok"]["value"] is True


def test_bad_value_is_named():
    import pytest

    with pytest.raises(TypeError, match="'analysis:x.obj'"):
        AnalysisReadable("x", {"obj": object()})
