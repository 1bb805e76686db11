"""Tests of signature_schema and bind_parameters (cielo.core._signature)."""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cielo.core import (
    Offered,
    PlanParameterError,
    PluginError,
    Range,
    Units,
    bind_parameters,
    signature_schema,
)
from cielo.core.protocols import Movable, Readable


class Motor:
    """A minimal movable, readable device."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.parent = None

    def read(self) -> dict[str, Any]:
        return {}

    def describe(self) -> dict[str, Any]:
        return {}

    def set(self, value: Any) -> None:
        pass


class Detector:
    """A minimal readable, triggerable device (not movable)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.parent = None

    def read(self) -> dict[str, Any]:
        return {}

    def describe(self) -> dict[str, Any]:
        return {}

    def trigger(self) -> None:
        pass


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


DEVICES = {"motor1": Motor("motor1"), "motor2": Motor("motor2"), "det": Detector("det")}


def plan(
    detectors: Sequence[Readable],
    motor: Movable,
    start: float,
    num: int = 5,
    *,
    mode: Literal["transmission", "fluorescence"] = "transmission",
    color: Color = Color.RED,
    snake: bool = False,
    label: str | None = None,
    md: Mapping[str, Any] | None = None,
) -> None:
    """Move a motor and read detectors.

    Parameters
    ----------
    detectors : list
        What to read.
    motor : Movable
        What to move.
    """


def scan_like(detectors: Sequence[Readable], *args: Movable | float, num: int | None = None):
    """Scan-style varargs."""


def test_schema_describes_every_kind_of_parameter() -> None:
    schema = signature_schema(plan)
    props = schema["properties"]
    assert schema["title"] == "plan"
    assert schema["description"] == "Move a motor and read detectors."
    assert schema["required"] == ["detectors", "motor", "start"]
    assert props["detectors"]["type"] == "array"
    assert props["detectors"]["items"] == {"type": "string", "x-cielo-device": "Readable"}
    assert props["detectors"]["description"] == "What to read."
    assert props["motor"]["x-cielo-device"] == "Movable"
    assert props["start"] == {"type": "number"}
    assert props["num"] == {"type": "integer", "default": 5}
    assert props["mode"]["enum"] == ["transmission", "fluorescence"]
    assert props["mode"]["default"] == "transmission"
    assert props["color"]["enum"] == ["red", "blue"]
    assert props["color"]["default"] == "red"
    assert props["snake"]["type"] == "boolean"
    assert {"type": "null"} in props["label"]["anyOf"]
    assert props["md"]["anyOf"][0]["type"] == "object"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_validates_text_parameters_with_jsonschema() -> None:
    schema = signature_schema(plan)
    good = {"detectors": ["det"], "motor": "motor1", "start": 1.5, "mode": "fluorescence"}
    jsonschema.validate(good, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**good, "mode": "absorption"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**good, "num": 2.5}, schema)


def test_varargs_are_described() -> None:
    props = signature_schema(scan_like)["properties"]
    assert props["args"]["type"] == "array"
    assert props["args"]["x-cielo-kind"] == "var_positional"
    assert {"type": "number"} in props["args"]["items"]["anyOf"]


class Opaque:
    pass


def test_undescribable_parameter_names_function_and_parameter() -> None:
    def bad(x: int, thing: Opaque) -> None: ...

    with pytest.raises(PluginError, match=r"'thing' of .*bad"):
        signature_schema(bad)


def test_unresolvable_annotation_is_a_plugin_error() -> None:
    def bad(x: NotDefinedAnywhere) -> None: ...  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(PluginError, match="bad"):
        signature_schema(bad)


def test_bind_converts_device_names_and_values() -> None:
    bound = bind_parameters(
        plan, (["det", "motor1"], "motor2", 1), {"color": "blue"}, DEVICES, what="plan 'plan'"
    )
    assert bound.arguments["detectors"] == [DEVICES["det"], DEVICES["motor1"]]
    assert bound.arguments["motor"] is DEVICES["motor2"]
    assert bound.arguments["color"] is Color.BLUE
    assert bound.arguments["start"] == 1


def test_bind_accepts_device_objects() -> None:
    bound = bind_parameters(plan, ([DEVICES["det"]], DEVICES["motor1"], 0.0), {}, DEVICES, what="p")
    assert bound.arguments["motor"] is DEVICES["motor1"]


def test_bind_varargs_mixture_of_devices_and_numbers() -> None:
    bound = bind_parameters(
        scan_like, (["det"], "motor1", -1, 1, "motor2", 0, 2), {"num": 3}, DEVICES, what="scan"
    )
    assert bound.args[1:] == (DEVICES["motor1"], -1, 1, DEVICES["motor2"], 0, 2)


@pytest.mark.parametrize(
    ("args", "kwargs", "pattern"),
    [
        ((["det"], "det", 1.0), {}, r"'motor' got 'det', expected a Movable.*not Movable.*set"),
        ((["det"], "moter1", 1.0), {}, r"unknown device 'moter1'; did you mean 'motor1'"),
        (("det", "motor1", 1.0), {}, r"'detectors'.*put it in a list"),
        ((["det"], "motor1", "fast"), {}, r"'start' got 'fast', expected a number"),
        ((["det"], "motor1", 1.0, 2.5), {}, r"'num' got 2.5, expected an integer"),
        ((["det"], "motor1", True), {}, r"'start' got True"),
        ((["det"], "motor1", 1.0), {"mode": "fluoresence"}, r"did you mean 'fluorescence'"),
        ((["det"],), {}, r"missing a required argument: 'motor'"),
        ((["det"], "motor1", 1.0), {"speed": 3}, r"unexpected keyword argument 'speed'"),
        ((["det"], "motor1", 1.0), {"color": "green"}, r"'color'.*one of \['red', 'blue'\]"),
    ],
)
def test_bind_refuses_bad_parameters(
    args: tuple[Any, ...], kwargs: dict[str, Any], pattern: str
) -> None:
    with pytest.raises(PlanParameterError, match=pattern) as info:
        bind_parameters(plan, args, kwargs, DEVICES, what="plan 'plan'")
    assert str(info.value).startswith("plan 'plan'")


def test_none_default_accepts_none_and_integral_floats_become_ints() -> None:
    bound = bind_parameters(
        plan, (["det"], "motor1", 0.0, 4.0), {"label": None, "md": None}, DEVICES, what="p"
    )
    assert bound.arguments["num"] == 4 and isinstance(bound.arguments["num"], int)


def test_callable_annotation_and_annotated() -> None:
    def f(cb: Callable[..., Any] | None = None, n: Annotated[int, "count"] = 1) -> None: ...

    schema = signature_schema(f)
    assert schema["properties"]["n"]["type"] == "integer"
    bind_parameters(f, (print,), {}, {}, what="f")
    with pytest.raises(PlanParameterError, match="callable"):
        bind_parameters(f, ("print",), {}, {}, what="f")


def test_device_class_annotation() -> None:
    def f(m: Motor) -> None: ...

    assert signature_schema(f)["properties"]["m"]["x-cielo-device"] == "Motor"
    assert (
        bind_parameters(f, ("motor1",), {}, DEVICES, what="f").arguments["m"] is DEVICES["motor1"]
    )
    with pytest.raises(PlanParameterError, match="is not Motor"):
        bind_parameters(f, ("det",), {}, DEVICES, what="f")


# -- the bundled plans -------------------------------------------------------


def _all_plans() -> dict[str, Any]:
    from cielo.plugins.fly import fly
    from cielo.plugins.scans import PLANS

    return {**PLANS, "fly": fly}


@pytest.mark.parametrize("name", sorted(_all_plans()))
def test_every_bundled_plan_has_a_valid_schema(name: str) -> None:
    plan = _all_plans()[name]
    schema = signature_schema(plan)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["title"] == name
    assert schema["description"], f"{name} needs a docstring summary"
    if "md" in schema["properties"]:
        assert schema["properties"]["md"]["default"] is None
    # numpydoc: every parameter documented (a form shows it), and an example
    undocumented = [k for k, v in schema["properties"].items() if not v.get("description")]
    assert undocumented == [], f"{name}: document {undocumented} under Parameters"
    assert "\nExamples\n--------\n" in inspect.getdoc(plan)


def test_grid_scan_schema_lists_devices_and_numbers() -> None:
    from cielo.plugins.scans import grid_scan

    props = signature_schema(grid_scan)["properties"]
    assert props["detectors"]["items"]["x-cielo-device"] == "Readable"
    items = props["args"]["items"]["anyOf"]
    assert {"type": "string", "x-cielo-device": "Movable"} in items
    assert {"type": "number"} in items
    assert props["per_step"]["anyOf"][0] == {"x-cielo-python": "callable"}


def test_bind_refuses_bad_grid_scan_parameters_before_anything_moves() -> None:
    from cielo.plugins.scans import grid_scan

    moved: list[Any] = []

    class Recording(Motor):
        def set(self, value: Any) -> None:
            moved.append(value)

    devices = {**DEVICES, "motor1": Recording("motor1")}
    with pytest.raises(PlanParameterError, match=r"'args\[4\]'.*unknown device 'motr2'"):
        bind_parameters(
            grid_scan, (["det"], "motor1", -1, 1, 5, "motr2", -1, 1, 5), {}, devices, what="g"
        )
    with pytest.raises(PlanParameterError, match=r"'detectors\[0\]' got 'det3'"):
        bind_parameters(grid_scan, (["det3"], "motor1", -1, 1, 5), {}, devices, what="g")
    with pytest.raises(PlanParameterError, match=r"'args\[0\]'.*'det'"):
        bind_parameters(grid_scan, (["det"], "det", -1, 1, 5), {}, devices, what="g")
    assert moved == []


def test_schema_restricted_to_a_profiles_devices() -> None:
    schema = signature_schema(plan, devices=DEVICES)
    props = schema["properties"]
    assert props["motor"]["enum"] == ["motor1", "motor2"]  # det cannot move
    assert props["detectors"]["items"]["enum"] == ["det", "motor1", "motor2"]
    good = {"detectors": ["det"], "motor": "motor2", "start": 0}
    jsonschema.validate(good, schema)
    with pytest.raises(jsonschema.ValidationError, match="'det' is not one of"):
        jsonschema.validate({**good, "motor": "det"}, schema)


def test_bluesky_plans_are_described_and_bound() -> None:
    """Bluesky's own annotations (its protocols, Cycler, bare Iterable) work too."""
    import bluesky.plans as bp
    from cycler import Cycler

    for name in ("count", "scan", "grid_scan", "list_scan", "scan_nd", "spiral", "fly", "tweak"):
        jsonschema.Draft202012Validator.check_schema(signature_schema(getattr(bp, name)))
    bound = bind_parameters(
        bp.scan_nd, (["det"], {"motor1": [1, 2], "motor2": [3, 4]}), {}, DEVICES, what="scan_nd"
    )
    cyc = bound.arguments["cycler"]
    assert isinstance(cyc, Cycler) and list(cyc) == [
        {DEVICES["motor1"]: 1, DEVICES["motor2"]: 3},
        {DEVICES["motor1"]: 2, DEVICES["motor2"]: 4},
    ]
    with pytest.raises(PlanParameterError, match="unknown device 'motor3'"):
        bind_parameters(bp.scan_nd, (["det"], {"motor3": [1]}), {}, DEVICES, what="scan_nd")


# -- one engine: the schema and the check agree -------------------------------


def tuned(
    motor: Movable,
    exposure: Annotated[float, Range(gt=0, le=10)],
    shape: tuple[int, int] = (2, 2),
    gains: dict[str, Annotated[int, Range(ge=0)]] | None = None,
    target: Movable | float = 0.0,
    mode: Literal["fast", "slow"] = "fast",
    color: Color = Color.RED,
    repeats: list[int] | None = None,
    channels: set[int] | None = None,
) -> None:
    """Every kind of constraint a form shows and a submission is checked against."""


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-20, 20)
    | st.floats(-20, 20, allow_nan=False)
    | st.sampled_from(["motor1", "det", "fast", "slow", "red", "blue", "x"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("ab"), inner),
    max_leaves=6,
)


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(sorted(inspect.signature(tuned).parameters)), value=_JSON_VALUES)
def test_schema_and_binding_accept_the_same_values(name: str, value: Any) -> None:
    """A value the JSON schema accepts is bound, one it refuses is refused naming the
    parameter: both come from one compiled annotation (jsonschema is the oracle)."""
    schema = signature_schema(tuned, devices=DEVICES)
    good: dict[str, Any] = {"motor": "motor1", "exposure": 1.0}
    instance = {**good, name: value}
    by_schema = jsonschema.Draft202012Validator(schema).is_valid(instance)
    try:
        bind_parameters(tuned, (), instance, DEVICES, what="plan 'tuned'")
    except PlanParameterError as exc:
        assert not by_schema, f"schema accepts {instance}, binding refuses: {exc}"
        assert name in str(exc).split(" got ")[0]  # the message names the parameter
    else:
        assert by_schema, f"binding accepts {instance}, the schema refuses it"


def test_a_set_parameter_given_a_value_twice_is_refused_as_its_schema_refuses_it() -> None:
    schema = signature_schema(tuned, devices=DEVICES)
    assert schema["properties"]["channels"]["anyOf"][0]["uniqueItems"] is True
    kwargs = {"motor": "motor1", "exposure": 1.0, "channels": [1, 2, 1]}
    assert not jsonschema.Draft202012Validator(schema).is_valid(kwargs)
    with pytest.raises(PlanParameterError, match=r"'channels\[2\]' got 1, .*give each value once"):
        bind_parameters(tuned, (), kwargs, DEVICES, what="plan 'tuned'")
    bound = bind_parameters(tuned, (), {**kwargs, "channels": [1, 2]}, DEVICES, what="plan")
    assert bound.arguments["channels"] == {1, 2}


def test_declared_ranges_are_schema_bounds_and_refusals() -> None:
    props = signature_schema(tuned)["properties"]
    assert props["exposure"] == {"type": "number", "exclusiveMinimum": 0.0, "maximum": 10.0}
    assert props["gains"]["anyOf"][0]["additionalProperties"] == {"type": "integer", "minimum": 0.0}
    with pytest.raises(PlanParameterError, match=r"'exposure' got 0, expected a number > 0 and"):
        bind_parameters(tuned, ("motor1", 0), {}, DEVICES, what="plan 'tuned'")
    with pytest.raises(PlanParameterError, match=r"gains\['a'\]\" got -1, expected a number >= 0"):
        bind_parameters(tuned, ("motor1", 1), {"gains": {"a": -1}}, DEVICES, what="plan 'tuned'")


def test_declared_units_are_a_schema_keyword_and_change_no_value() -> None:
    def timed(
        exposure: Annotated[float, Range(gt=0), Units("s")],
        delay: Annotated[float | list[float] | None, Units("s")] = None,
        tilt: Annotated[float, Units("rad")] = 0.0,
    ) -> None: ...

    schema = signature_schema(timed)
    props = schema["properties"]
    assert props["exposure"] == {"type": "number", "exclusiveMinimum": 0.0, "units": "s"}
    assert props["delay"]["units"] == "s" and props["delay"]["default"] is None
    assert props["tilt"] == {"type": "number", "units": "rad", "default": 0.0}
    jsonschema.Draft202012Validator.check_schema(schema)
    assert jsonschema.Draft202012Validator(schema).is_valid({"exposure": 1, "delay": [1, 2]})
    bound = bind_parameters(timed, (0.5,), {"delay": [1, 2]}, DEVICES, what="plan 'timed'")
    assert bound.arguments == {"exposure": 0.5, "delay": [1, 2]}
    with pytest.raises(PlanParameterError, match=r"'exposure' got 0, expected a number > 0"):
        bind_parameters(timed, (0,), {}, DEVICES, what="plan 'timed'")
    with pytest.raises(PlanParameterError, match=r"'delay' got 'soon'"):
        bind_parameters(timed, (1,), {"delay": "soon"}, DEVICES, what="plan 'timed'")


@pytest.mark.parametrize("symbol", ["", "  ", None, 5])
def test_units_without_a_symbol_are_refused_naming_the_fix(symbol: Any) -> None:
    with pytest.raises(ValueError, match=r"Units\(.*\): units must be a non-empty string such as"):
        Units(symbol)


def test_the_bundled_plans_declare_their_seconds_and_radians() -> None:
    from cielo.plugins.scans import count, ramp_plan, spiral

    assert signature_schema(count)["properties"]["delay"]["units"] == "s"
    assert signature_schema(ramp_plan)["properties"]["period"]["units"] == "s"
    assert signature_schema(spiral)["properties"]["tilt"]["units"] == "rad"


def test_a_name_of_what_plugins_offer_is_marked_for_the_environment_to_list():
    def plan(agent: Annotated[str, Offered("agents")], n: int = 1) -> None: ...

    assert signature_schema(plan)["properties"]["agent"] == {
        "type": "string",
        "x-cielo-offered": "agents",
    }
    assert bind_parameters(plan, (), {"agent": "gp"}, {}, what="plan").arguments == {"agent": "gp"}
    with pytest.raises(PlanParameterError, match=r"parameter 'agent' got 3, expected a string"):
        bind_parameters(plan, (), {"agent": 3}, {}, what="plan")
