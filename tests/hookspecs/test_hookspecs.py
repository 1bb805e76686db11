"""Every hookspec is documented, in the generated reference, and exercised (datasette-style)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from cielo import hookimpl, load_profile
from cielo.cli import build_parser, hook_docs, render_hook_reference
from cielo.cli import main as cli_main
from cielo.core import make_plugin_manager
from cielo.core.plugins import PluginHooks
from cielo.hookspecs import SPEC_MODULES, PlanForm

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "plugins" / "hooks.md"


def all_specs() -> dict[str, Any]:
    specs = {}
    for module in SPEC_MODULES:
        for name, obj in vars(module).items():
            if name.startswith("cielo_") and callable(obj):
                specs[name] = obj
    return specs


ALL_SPECS = all_specs()


def test_every_hook_is_exported_and_marked():
    for name, func in ALL_SPECS.items():
        module = inspect.getmodule(func)
        assert name in module.__all__, f"{name} missing from {module.__name__}.__all__"
        assert hasattr(func, "cielo_spec"), f"{name} is not marked with @hookspec"


@pytest.mark.parametrize("name", sorted(ALL_SPECS))
def test_hook_is_documented(name: str):
    func = ALL_SPECS[name]
    doc = inspect.getdoc(func) or ""
    assert doc, f"{name} has no docstring"
    assert "Fires" in doc, f"{name}: say when the hook fires"
    assert ":returns:" in doc, f"{name}: document the return value"
    sig = inspect.signature(func)
    for param in sig.parameters:
        assert f":param {param}:" in doc, f"{name}: document parameter {param!r}"
    assert sig.return_annotation is not sig.empty, f"{name}: annotate the return type"
    assert all(p.annotation is not p.empty for p in sig.parameters.values())
    if func.cielo_spec.get("historic"):
        assert "istoric" in doc
    if func.cielo_spec.get("firstresult"):
        assert "first non-None" in doc


def test_generated_reference_is_up_to_date():
    assert REFERENCE.read_text() == render_hook_reference(), (
        "docs/plugins/hooks.md is stale: run `cielo hooks --markdown > docs/plugins/hooks.md`"
    )


def test_reference_covers_every_hook_with_its_parameters():
    docs = {h.name: h for h in hook_docs()}
    assert set(docs) == set(ALL_SPECS)
    text = render_hook_reference()
    for name, func in ALL_SPECS.items():
        assert f"### `{name}`" in text
        assert set(docs[name].params) == set(inspect.signature(func).parameters)
        assert docs[name].returns


class EveryHook:
    """Implements every hook and records each call."""

    def __init__(self, profile_dir: Path | None = None) -> None:
        self.calls: dict[str, list[dict[str, Any]]] = {}
        self.profile_dir = profile_dir

    def _record(self, hook: str, **kwargs: Any) -> None:
        self.calls.setdefault(hook, []).append(kwargs)

    @hookimpl
    def cielo_addhooks(self, pluginmanager):
        self._record("cielo_addhooks", pluginmanager=pluginmanager)

    @hookimpl
    def cielo_device_types(self):
        self._record("cielo_device_types")
        return {"every.thing": Thing}

    @hookimpl
    def cielo_devices(self, profile):
        self._record("cielo_devices", profile=profile)
        return {"extra": Thing("extra")}

    @hookimpl
    def cielo_plans(self):
        self._record("cielo_plans")
        return {"every_plan": every_plan}

    @hookimpl
    def cielo_plan_forms(self):
        self._record("cielo_plan_forms")
        return {"every_plan": PlanForm(ui={"ui:layout": [["x"]]})}

    @hookimpl
    def cielo_callbacks(self):
        self._record("cielo_callbacks")
        return {"every_cb": lambda: print}

    @hookimpl
    def cielo_suitcases(self):
        self._record("cielo_suitcases")
        return {"every_suitcase": lambda: print}

    @hookimpl
    def cielo_catalog_backends(self):
        self._record("cielo_catalog_backends")
        return {"every": lambda uri: print}

    @hookimpl
    def cielo_readers(self):
        self._record("cielo_readers")
        return {"application/x-every": lambda doc, root_map=None: None}

    @hookimpl
    def cielo_agents(self):
        self._record("cielo_agents")
        return {"every_agent": lambda: None}

    @hookimpl
    def cielo_authenticators(self):
        self._record("cielo_authenticators")
        return {"every": lambda **options: None}

    @hookimpl
    def cielo_msg_commands(self):
        self._record("cielo_msg_commands")
        return {"every_command": lambda ctx, msg: None}

    @hookimpl
    def cielo_bus_transports(self):
        self._record("cielo_bus_transports")
        return {"every": lambda uri, **options: None}

    @hookimpl
    def cielo_run_metadata(self, plan_name, md):
        self._record("cielo_run_metadata", plan_name=plan_name, md=dict(md))
        return {"facility": "everywhere"}

    @hookimpl
    def cielo_check_run_metadata(self, md):
        self._record("cielo_check_run_metadata", md=dict(md))
        md["checked"] = True

    @hookimpl
    def cielo_environment_ready(self, env):
        self._record("cielo_environment_ready", env=env)

    @hookimpl
    def cielo_engine_created(self, engine):
        self._record("cielo_engine_created", engine=engine)

    @hookimpl
    def cielo_profile_dirs(self):
        self._record("cielo_profile_dirs")
        return [self.profile_dir] if self.profile_dir else None

    @hookimpl
    def cielo_add_commands(self, subparsers):
        self._record("cielo_add_commands", subparsers=subparsers)
        subparsers.add_parser("every", help="a command of every hook").set_defaults(
            func=lambda args: 7
        )


class Thing:
    def __init__(self, name: str) -> None:
        self.name = name


def every_plan():
    """Do nothing."""
    yield from ()


def test_every_hook_is_called_through_the_facade(tmp_path: Path):
    plugin = EveryHook(profile_dir=tmp_path)
    pm = make_plugin_manager(autoload=False, strict=True, plugins=[("every", plugin)])
    assert plugin.calls["cielo_addhooks"] == [{"pluginmanager": pm}]
    profile = tmp_path / "every.toml"
    profile.write_text(
        '[devices.thing]\ntype = "every.thing"\n[callbacks.every_cb]\n'
        '[suitcases.every_suitcase]\n[catalog]\nuri = "every://x"\n'
    )
    env = load_profile("every", plugin_manager=pm)  # found in the plugin's directory
    assert env.profile.path == profile
    assert set(env.devices) >= {"thing", "extra"}
    assert env.plans["every_plan"] is every_plan
    assert "every_agent" in env.agents and "application/x-every" in env.readers
    assert "every_command" in env.msg_commands and "every" in env.catalog_backends
    assert "every" in env.registry.get("bus_transports")
    assert "every" in env.registry.get("authenticators")
    assert plugin.calls["cielo_devices"][0]["profile"] is env.profile
    assert plugin.calls["cielo_environment_ready"] == [{"env": env}]

    hooks = PluginHooks(pm)
    assert hooks.run_metadata("every_plan", {"a": 1})["facility"] == "everywhere"
    assert plugin.calls["cielo_run_metadata"] == [{"plan_name": "every_plan", "md": {"a": 1}}]
    md: dict[str, Any] = {"a": 1}
    hooks.check_run_metadata(md)
    assert md["checked"] is True
    engine = _EngineStandIn()  # bundled plugins configure the engine they are given
    hooks.engine_created(engine)
    assert plugin.calls["cielo_engine_created"] == [{"engine": engine}]
    assert "every" in [n for n, _ in hooks.by_plugin("cielo_msg_commands")]
    assert ("every", {"every_plan": PlanForm(ui={"ui:layout": [["x"]]})}) in hooks.plan_forms()
    assert "every" in build_parser(pm).format_help()
    assert cli_main(["every"], plugin_manager=pm) == 7

    assert set(plugin.calls) == set(ALL_SPECS), "a hook is not exercised"


def engine_plan():
    """Open a run, send the plugin's command, close the run."""
    from cielo import Msg

    yield Msg("open_run", plan_name="engine_plan", sample="s1")
    reply = yield Msg("every_command")
    yield Msg("close_run")
    return reply


def test_the_run_engine_calls_its_hooks(validate):
    from cielo import RunEngine

    plugin = EveryHook()
    pm = make_plugin_manager(autoload=False, strict=True, plugins=[("every", plugin)])
    seen: list[tuple[str, dict[str, Any]]] = []
    with RunEngine(plugin_manager=pm, scan_id_file=None) as RE:
        assert plugin.calls["cielo_engine_created"] == [{"engine": RE}]
        RE.subscribe(lambda name, doc: seen.append((name, doc)))
        RE(engine_plan())
    for name, doc in seen:
        validate(name, doc)
    start = seen[0][1]
    assert start["facility"] == "everywhere" and start["checked"] is True
    assert start["versions"]["every"] == "unknown"
    assert start["versions"]["sim"] == pm.plugin_info["sim"].version
    (call,) = plugin.calls["cielo_run_metadata"]
    assert call["plan_name"] == "engine_plan" and call["md"]["sample"] == "s1"
    assert plugin.calls["cielo_check_run_metadata"][0]["md"]["facility"] == "everywhere"
    assert "cielo_msg_commands" in plugin.calls


class _EngineStandIn:
    """Just enough of a RunEngine for ``cielo_engine_created`` implementations."""

    def __init__(self) -> None:
        self.caller_hooks: list[Any] = []

    def add_caller_hook(self, hook: Any) -> None:
        self.caller_hooks.append(hook)


def test_reference_code_fences_are_whole():
    text = render_hook_reference()
    lines = text.splitlines()
    fences = [line for line in lines if line.startswith("``")]
    assert fences and all(line in ("```python", "```") for line in fences), fences[:4]
    assert len(fences) % 2 == 0
    assert "``" not in text.replace("```", ""), "a reStructuredText literal was left in"
