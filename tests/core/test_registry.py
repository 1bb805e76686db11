"""The registry: contributions by kind and name, with the plugin that offered each."""

from __future__ import annotations

import pytest

from cielo import hookimpl
from cielo.core import PluginError, make_plugin_manager
from cielo.core.plugins import CONTRIBUTION_HOOKS, Registry


def plan_a():
    """Plan A."""
    yield from ()


def plan_b():
    yield from ()


class Offers:
    """Offers one thing of every kind, names prefixed so two instances do not clash."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def _one(self, value=plan_a):
        return {f"{self.prefix}_thing": value}

    @hookimpl
    def cielo_device_types(self):
        return self._one()

    @hookimpl
    def cielo_plans(self):
        return {f"{self.prefix}_a": plan_a, f"{self.prefix}_b": plan_b}

    @hookimpl
    def cielo_callbacks(self):
        return self._one()

    @hookimpl
    def cielo_suitcases(self):
        return self._one()

    @hookimpl
    def cielo_catalog_backends(self):
        return self._one()

    @hookimpl
    def cielo_readers(self):
        return self._one()

    @hookimpl
    def cielo_agents(self):
        return self._one()

    @hookimpl
    def cielo_msg_commands(self):
        return self._one()

    @hookimpl
    def cielo_bus_transports(self):
        return self._one()

    @hookimpl
    def cielo_authenticators(self):
        return self._one()


def manager(*plugins):
    return make_plugin_manager(autoload=False, strict=True, bundled=(), plugins=plugins)


def test_every_kind_is_collected_with_its_provider():
    registry = Registry(manager(("one", Offers("one")), ("two", Offers("two"))))
    for kind in CONTRIBUTION_HOOKS:
        items = registry.get(kind)
        assert "one_thing" in items or kind == "plans"
    assert dict(registry.plans) == {
        "one_a": plan_a,
        "one_b": plan_b,
        "two_a": plan_a,
        "two_b": plan_b,
    }
    assert registry.provider("plans", "two_b") == "two"
    assert registry.providers("agents") == {"one_thing": "one", "two_thing": "two"}
    with pytest.raises(TypeError):
        registry.plans["x"] = plan_a  # type: ignore[index]


def test_a_name_offered_twice_names_both_plugins():
    class Copycat(Offers):
        @hookimpl
        def cielo_plans(self):
            return {"one_b": plan_b}

    registry = Registry(manager(("one", Offers("one")), ("copycat", Copycat("cc"))))
    with pytest.raises(
        PluginError, match="plan 'one_b' is offered by two plugins: 'one' and 'copycat'"
    ):
        registry.get("plans")
    assert registry.get("agents")  # other kinds still collect


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        (["plan_a"], "cielo_plans\\(\\) returned list, expected a mapping"),
        ({"": plan_a}, "named ''; names must be non-empty strings"),
        ({"x": 3}, "offered plan 'x' as 3, which is not callable"),
    ],
)
def test_malformed_contributions_name_the_plugin(returned, message):
    class Bad:
        @hookimpl
        def cielo_plans(self):
            return returned

    with pytest.raises(PluginError, match=f"plugin 'bad': .*{message}"):
        Registry(manager(("bad", Bad()))).get("plans")


def test_by_plugin_lists_offers_and_survives_a_failing_hook():
    class Failing:
        @hookimpl
        def cielo_plans(self):
            raise RuntimeError("boom")

    offers = Registry(manager(("one", Offers("one")), ("failing", Failing()))).by_plugin()
    assert offers["one"]["cielo_plans"] == ["one_a", "one_b"]
    assert offers["failing"]["cielo_plans"] == ["<error: RuntimeError: boom>"]


class Opaque:
    """Not a device, not a number: no JSON description."""


def bad(thing: Opaque):
    yield from ()


def test_plan_schemas_are_checked_when_plans_are_collected():
    def good(num: int = 1, label: str = ""):
        """Count."""
        yield from ()

    class Plans:
        def __init__(self, plans):
            self.plans = plans

        @hookimpl
        def cielo_plans(self):
            return self.plans

    registry = Registry(manager(("ok", Plans({"good": good}))))
    schema = registry.plan_schema("good")
    assert schema["properties"]["num"] == {"type": "integer", "default": 1}
    with pytest.raises(PluginError, match="plugin 'odd': plan 'bad': .*'thing'"):
        Registry(manager(("odd", Plans({"bad": bad})))).get("plans")
