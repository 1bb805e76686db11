"""Signals: soft, read-only, derived; reading, describing, subscriptions."""

from __future__ import annotations

import numpy as np
import pytest

from cielo.core import Status
from cielo.core import protocols as P
from cielo.devices import (
    DerivedSignal,
    DerivedSignalRW,
    Kind,
    Signal,
    SoftBackend,
    SoftSignal,
    SoftSignalR,
)


def test_soft_signal_read_describe_agree():
    sig = SoftSignal(1.5, units="mm", precision=2, limits=(-1, 5), name="x")
    reading = sig.read()
    key = sig.describe()
    assert reading.keys() == key.keys() == {"x"}
    assert reading["x"]["value"] == 1.5
    assert key["x"]["dtype"] == "number"
    assert key["x"]["dtype_numpy"] == "<f8"
    assert key["x"]["shape"] == []
    assert key["x"]["units"] == "mm"
    assert key["x"]["precision"] == 2
    assert key["x"]["limits"] == {"control": {"low": -1.0, "high": 5.0}}
    assert key["x"]["source"] == "soft://x"


@pytest.mark.parametrize(
    "value, dtype, numpy",
    [
        (1, "integer", "<i8"),
        (True, "boolean", "|b1"),
        ("a", "string", "|S40"),
        (2.0, "number", "<f8"),
    ],
)
def test_scalar_dtypes(value, dtype, numpy):
    key = SoftSignal(value, name="s").describe()["s"]
    assert (key["dtype"], key["dtype_numpy"], key["shape"]) == (dtype, numpy, [])


def test_array_signal_shape_and_dtype():
    sig = SoftSignal(np.zeros((3, 4), dtype=np.uint16), name="img")
    key = sig.describe()["img"]
    assert key["dtype"] == "array"
    assert key["shape"] == [3, 4]
    assert key["dtype_numpy"] == np.dtype(np.uint16).str


def test_put_converts_and_rejects_bad_values():
    sig = SoftSignal(0.0, name="x")
    sig.put(3)
    assert sig.get() == 3.0 and isinstance(sig.get(), float)
    with pytest.raises(ValueError, match="'abc'"):
        sig.put("abc")  # type: ignore[arg-type]
    choice = SoftSignal("open", choices=["open", "closed"], name="c")
    with pytest.raises(ValueError, match="ajar"):
        choice.put("ajar")


def test_set_returns_done_status():
    sig = SoftSignal(0.0, name="x")
    status = sig.set(2.0)
    assert isinstance(status, Status)
    status.wait(1)
    assert status.success and sig.get() == 2.0
    assert sig.locate() == {"setpoint": 2.0, "readback": 2.0}


def test_subscribe_runs_at_once_and_on_change():
    sig = SoftSignal(1.0, name="x")
    seen: list[tuple] = []

    def cb(*, value, old_value, timestamp, obj, **kw):
        seen.append((value, old_value, obj))

    token = sig.subscribe(cb)
    sig.put(2.0)
    sig.put(3.0)
    sig.clear_sub(cb)
    sig.put(4.0)
    assert seen == [(1.0, None, sig), (2.0, 1.0, sig), (3.0, 2.0, sig)]
    assert isinstance(token, int)


def test_unsubscribe_by_token_and_run_false():
    sig = SoftSignal(1.0, name="x")
    seen = []
    token = sig.subscribe(lambda **kw: seen.append(kw["value"]), run=False)
    sig.put(5.0)
    sig.unsubscribe(token)
    sig.put(6.0)
    assert seen == [5.0]


def test_failing_subscriber_does_not_break_others():
    sig = SoftSignal(1.0, name="x")
    seen = []

    def bad(**kw):
        raise RuntimeError("boom")

    sig.subscribe(bad)
    sig.subscribe(lambda **kw: seen.append(kw["value"]))
    sig.put(2.0)
    assert seen == [1.0, 2.0]


def test_read_only_signals_are_not_movable():
    ro = SoftSignalR(0.5, name="beam")
    assert isinstance(ro, P.Readable) and isinstance(ro, P.Subscribable)
    assert not isinstance(ro, P.Movable)
    ro.update(0.1)
    assert ro.get() == 0.1
    plain = Signal(SoftBackend(1.0), name="plain")
    assert not hasattr(plain, "put")
    assert not isinstance(plain, P.Movable)


def test_protocols_of_soft_signal():
    sig = SoftSignal(0.0, name="x")
    for proto in (P.Readable, P.Movable, P.Locatable, P.Configurable, P.HasHints, P.Subscribable):
        assert isinstance(sig, proto), proto
    assert sig.hints == {"fields": ["x"]}
    sig.kind = Kind.normal
    assert sig.hints == {"fields": []}


def test_derived_signal_computes_and_follows_inputs():
    a = SoftSignal(1.0, name="a")
    b = SoftSignal(2.0, name="b")
    total = DerivedSignal(lambda x, y: x + y, a, b, units="mm", name="total")
    assert total.get() == 3.0
    assert total.describe()["total"]["units"] == "mm"
    seen = []
    total.subscribe(lambda **kw: seen.append(kw["value"]))
    a.put(10.0)
    assert seen == [3.0, 12.0]
    assert total.read()["total"]["timestamp"] == a.read()["a"]["timestamp"]
    assert not isinstance(total, P.Movable)
    assert total.source == "derived://total(a,b)"


def test_derived_signal_rw_writes_through_inverse():
    a = SoftSignal(1.0, name="a")
    double = DerivedSignalRW(lambda x: 2 * x, a, inverse=lambda v: [v / 2], name="double")
    double.set(10.0).wait(1)
    assert a.get() == 5.0 and double.get() == 10.0
