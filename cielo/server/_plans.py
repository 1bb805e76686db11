"""The plans and devices a server allows, and checking submitted items against them.

A :class:`PlanCatalog` is built from a loaded profile: each plan's parameters as the JSON
schema :func:`cielo.core.signature_schema` derives from its typed signature (device
parameters list the fitting devices, sub-devices by dotted name), and each device's
kind. :meth:`PlanCatalog.check_item` checks a submitted item against the schema
(``jsonschema``), so an unknown plan or device, a wrong type, a missing or unexpected
argument is refused before the item enters the queue, with a message naming the
parameter. Nothing in an item is evaluated.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from cielo.core import Environment, signature_schema
from cielo.core.suggest import did_you_mean

from ._devices import DeviceNames
from ._forms import plan_forms
from ._store import Item, QueueError

__all__ = ["ITEM_TYPES", "PlanCatalog", "load_catalog", "load_catalog_afresh", "new_item"]

#: Item types accepted in the queue, and the instructions.
ITEM_TYPES = ("plan", "instruction", "function")
INSTRUCTIONS = ("queue_stop",)
#: Keys a client may set on an item; others are refused.
_ITEM_KEYS = {"item_type", "name", "args", "kwargs", "item_uid", "user", "user_group", "meta"}


class PlanCatalog:
    """The allowed plans (with parameter schemas) and devices of a profile."""

    def __init__(
        self,
        plans: Mapping[str, dict[str, Any]],
        devices: Mapping[str, Any],
        functions: Mapping[str, dict[str, Any]] | None = None,
    ) -> None:
        self.plans = dict(plans)
        self.devices = dict(devices)
        #: the profile's ``[functions] allow``, by name: description and parameters
        self.functions = dict(functions or {})
        self._validators: dict[str, Any] = {}
        self.plans_uid = _digest(self.plans)
        self.devices_uid = _digest(self.devices)
        self.functions_uid = _digest(self.functions)

    @classmethod
    def from_environment(cls, env: Environment) -> PlanCatalog:
        names = DeviceNames(env.devices)
        forms = plan_forms(env.pm)  # plugins' own web forms (cielo_plan_forms)
        plans = {}
        for name, plan in sorted(env.plans.items()):
            try:
                schema = _with_offered(signature_schema(plan, devices=names), env)
            except Exception as exc:  # a plan whose signature cannot be described
                schema = {"type": "object", "x-cielo-error": f"{type(exc).__name__}: {exc}"}
            plans[name] = {
                "name": name,
                "description": (inspect.getdoc(plan) or "").split("\n\n")[0],
                "parameters": _parameters(schema),
                "schema": schema,
            }
            if name in forms:
                plans[name]["form"] = dict(forms[name].ui)
        devices = {name: _describe_device(names[name]) for name in names}
        return cls(plans, devices, describe_functions(env.functions))

    def __repr__(self) -> str:
        return f"<PlanCatalog {len(self.plans)} plans, {len(self.devices)} devices>"

    # -- checking items -----------------------------------------------------------

    def check_item(self, item: Any, *, user: str, user_group: str, keep_uid: bool = False) -> Item:
        """A queue item made from what a client sent, or :class:`QueueError` saying what is wrong.

        :param keep_uid: keep the item's ``item_uid`` (an update in place); otherwise a new
            uid is given.
        """
        if not isinstance(item, Mapping):
            raise QueueError(f"an item must be a JSON object, got {_short(item)}")
        unknown = sorted(set(item) - _ITEM_KEYS)
        if unknown:
            raise QueueError(
                f"unknown item key(s) {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(sorted(_ITEM_KEYS))}"
            )
        item_type = item.get("item_type")
        if item_type not in ITEM_TYPES:
            raise QueueError(
                f"item_type {item_type!r} is not allowed; use one of {', '.join(ITEM_TYPES)}"
            )
        name = item.get("name")
        if not isinstance(name, str):
            raise QueueError(f"the item's 'name' must be a string, got {_short(name)}")
        args, kwargs = item.get("args", []), item.get("kwargs", {})
        if not isinstance(args, list):
            raise QueueError(f"'args' must be a JSON array, got {_short(args)}")
        if not isinstance(kwargs, Mapping) or not all(isinstance(k, str) for k in kwargs):
            raise QueueError(f"'kwargs' must be a JSON object, got {_short(kwargs)}")
        if item_type == "instruction":
            if name not in INSTRUCTIONS:
                raise QueueError(
                    f"unknown instruction {name!r}; instructions: {', '.join(INSTRUCTIONS)}"
                )
        elif item_type == "function":
            self.check_function(name)
        else:
            self.check_parameters(name, args, dict(kwargs))
        uid = item.get("item_uid") if keep_uid else None
        made: Item = {
            "item_type": item_type,
            "name": name,
            "args": list(args),
            "kwargs": dict(kwargs),
            "item_uid": uid if isinstance(uid, str) and uid else str(uuid.uuid4()),
            "user": user,
            "user_group": user_group,
        }
        if "meta" in item:
            made["meta"] = item["meta"]
        return made

    def check_function(self, name: str) -> None:
        """Refuse a function the profile's ``[functions] allow`` does not name."""
        if name not in self.functions:
            hint = did_you_mean(name, self.functions, after=" ")
            raise QueueError(
                f"function {name!r} is not allowed on this profile; {hint}allowed functions: "
                f"{', '.join(sorted(self.functions)) or 'none'} (a profile allows one in "
                '[functions] allow = ["package.module:callable"])'
            )

    def check_parameters(self, name: str, args: Sequence[Any], kwargs: dict[str, Any]) -> None:
        """Refuse parameters that do not fit plan ``name``'s schema, naming the parameter."""
        plan = self.plans.get(name)
        if plan is None:
            hint = did_you_mean(name, self.plans, after=" ")
            raise QueueError(
                f"unknown plan {name!r}; {hint}allowed plans: {', '.join(sorted(self.plans))}"
            )
        schema = plan["schema"]
        if "x-cielo-error" in schema:
            raise QueueError(
                f"plan {name!r} cannot be run from the queue: {schema['x-cielo-error']}"
            )
        instance = _as_instance(name, schema, list(args), kwargs)
        fast, explaining = self._validators.get(name) or self._compile(name, schema)
        try:
            fast(instance)  # fastjsonschema: compiled, about 20x faster than jsonschema
            return
        except Exception:  # fastjsonschema.JsonSchemaException, or a schema it cannot compile
            pass
        errors = sorted(explaining.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if errors:  # jsonschema says which parameter, and why
            raise QueueError(_explain(name, errors[0], instance))

    def _compile(self, name: str, schema: dict[str, Any]) -> tuple[Any, Any]:
        import fastjsonschema
        import jsonschema

        explaining = jsonschema.validators.validator_for(schema)(schema)
        try:
            fast = fastjsonschema.compile(schema)
        except Exception:  # a construct it does not know: jsonschema alone

            def fast(instance: Any) -> None:
                raise ValueError("not compiled")

        self._validators[name] = (fast, explaining)
        return fast, explaining


def load_catalog(profile: str) -> PlanCatalog:
    """The plans and devices of ``profile`` (loaded here, devices not connected)."""
    from cielo.core import load_profile

    return PlanCatalog.from_environment(load_profile(profile))


async def load_catalog_afresh(profile: str, timeout: float = 60.0) -> PlanCatalog:
    """:func:`load_catalog` in a new process, so changed plugin modules and profile files
    are read again (this process keeps the modules it imported); :class:`QueueError`
    with the loading error."""
    import asyncio
    import sys

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cielo.server._plans",
        profile,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise QueueError(f"loading profile {profile!r} took over {timeout} s") from None
    if process.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        raise QueueError(f"profile {profile!r} did not load: {lines[-1] if lines else '?'}")
    data = json.loads(out)
    return PlanCatalog(data["plans"], data["devices"], data.get("functions"))


def new_item(item: Mapping[str, Any]) -> Item:
    """A copy of ``item`` with a fresh uid (a requeued or looped item)."""
    return {**item, "item_uid": str(uuid.uuid4())}


# -- helpers -------------------------------------------------------------------------


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parameters(schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    """bluesky-queueserver's parameter list (name, kind, default, description)."""
    kinds = {
        None: "POSITIONAL_OR_KEYWORD",
        "positional_only": "POSITIONAL_ONLY",
        "var_positional": "VAR_POSITIONAL",
        "keyword_only": "KEYWORD_ONLY",
        "var_keyword": "VAR_KEYWORD",
    }
    out = []
    required = set(schema.get("required", ()))
    for pname, prop in schema.get("properties", {}).items():
        kind = kinds.get(prop.get("x-cielo-kind"), "POSITIONAL_OR_KEYWORD")
        entry: dict[str, Any] = {
            "name": pname,
            "kind": {"name": kind, "value": list(kinds.values()).index(kind)},
            "description": prop.get("description", ""),
        }
        if pname not in required and "default" in prop:
            entry["default"] = repr(prop["default"])
        out.append(entry)
    return out


def describe_functions(functions: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each allowed function's name, description, parameters and parameter JSON schema
    (as plans list theirs)."""
    described = {}
    for name, func in sorted(functions.items()):
        try:
            schema = signature_schema(func)
        except Exception:  # an untyped or odd signature: its names alone
            schema = {"properties": {}}
        described[name] = {
            "name": name,
            "module": getattr(func, "__module__", ""),
            "description": (inspect.getdoc(func) or "").split("\n\n")[0],
            "parameters": _parameters(schema),
            "schema": schema,  # the web UI draws the function's form from it
        }
    return described


def _with_offered(schema: dict[str, Any], env: Environment) -> dict[str, Any]:
    """Parameters naming what plugins offer (``Offered(kind)``: an agent) list the names
    the environment offers as their ``enum``, and how to offer another."""
    for prop in schema.get("properties", {}).values():
        kind = prop.get("x-cielo-offered")
        if isinstance(kind, str):
            prop["enum"], prop["x-cielo-fix"] = env.offered(kind)
    return schema


def _describe_device(device: Any) -> dict[str, Any]:
    cls = type(device)
    described = {
        "classname": cls.__name__,
        "module": cls.__module__,
        "is_readable": callable(getattr(device, "read", None)),
        "is_movable": callable(getattr(device, "set", None)),
        "is_flyable": callable(getattr(device, "kickoff", None)),
    }
    units = _units(device)
    if units:
        described["units"] = units  # a plan form shows a motor as "motor1 (mm)"
    return described


def _units(device: Any) -> str | None:
    """A movable device's engineering units when asking costs no I/O: a class declaring
    ``blocking_reads`` (EPICS: its units live in the IOC) is not asked."""
    if getattr(cls := type(device), "blocking_reads", False) is True or not hasattr(cls, "egu"):
        return None
    try:
        units = device.egu
    except Exception:  # a device that cannot say: the form shows its name alone
        return None
    return units if isinstance(units, str) and units else None


def _as_instance(
    name: str, schema: Mapping[str, Any], args: list[Any], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """``{parameter: value}`` from positional and keyword arguments, as Python binds them."""
    props = schema.get("properties", {})
    positional = [p for p, s in props.items() if s.get("x-cielo-kind") in (None, "positional_only")]
    var_positional = next(
        (p for p, s in props.items() if s.get("x-cielo-kind") == "var_positional"), None
    )
    var_keyword = next(
        (p for p, s in props.items() if s.get("x-cielo-kind") == "var_keyword"), None
    )
    instance: dict[str, Any] = {}
    for pname, value in zip(positional, args, strict=False):
        instance[pname] = value
    extra = args[len(positional) :]
    if extra:
        if var_positional is None:
            raise QueueError(
                f"plan {name!r} takes {len(positional)} positional argument(s) "
                f"({', '.join(positional) or 'none'}), got {len(args)}"
            )
        instance[var_positional] = extra
    for key, value in kwargs.items():
        if key in instance:
            raise QueueError(f"plan {name!r}: parameter {key!r} given twice (by position and name)")
        kind = props.get(key, {}).get("x-cielo-kind")
        if key in props and kind not in ("var_positional", "var_keyword", "positional_only"):
            instance[key] = value
        elif var_keyword is not None:
            instance.setdefault(var_keyword, {})[key] = value
        else:
            hint = did_you_mean(key, [p for p in props if p != var_positional], before="; ")
            raise QueueError(
                f"plan {name!r} has no parameter {key!r}{hint} "
                f"(parameters: {', '.join(props) or 'none'})"
            )
    return instance


def _explain(name: str, error: Any, instance: Mapping[str, Any]) -> str:
    """A message naming the parameter (``detectors[0]``), the bad value and what fits."""
    path = list(error.absolute_path)
    where = ""
    for part in path:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    if error.validator == "required":
        return f"plan {name!r}: {error.message} (a required parameter is missing)"
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    device_kind = schema.get("x-cielo-device")
    if device_kind is None:  # a device parameter is usually one branch of anyOf
        for sub in schema.get("anyOf", ()):
            if isinstance(sub, Mapping) and sub.get("x-cielo-device"):
                device_kind = sub["x-cielo-device"]
                schema = sub
    if device_kind and isinstance(error.instance, str):
        fitting = schema.get("enum") or []
        hint = did_you_mean(error.instance, fitting, after=" ")
        return (
            f"plan {name!r}: parameter {where}: unknown {device_kind} device "
            f"{error.instance!r}; {hint}{device_kind} devices: {', '.join(fitting) or 'none'}"
        )
    kind = schema.get("x-cielo-offered")
    if kind and isinstance(error.instance, str):
        offered = schema.get("enum") or []
        hint = did_you_mean(error.instance, offered, after=" ")
        return (
            f"plan {name!r}: parameter {where}: {error.instance!r} is not one of the {kind} "
            f"offered here ({', '.join(offered) or 'none'}); {hint}{schema.get('x-cielo-fix', '')}"
        )
    return f"plan {name!r}: parameter {where or '(arguments)'}: {_short(error.instance)} {_reason(error)}"


def _reason(error: Any) -> str:
    message = str(error.message)
    text = _short(error.instance)
    if message.startswith(text):
        message = message[len(text) :].strip()
    return message


if __name__ == "__main__":  # python -m cielo.server._plans PROFILE: the catalog as JSON
    import sys

    _catalog = load_catalog(sys.argv[1])
    json.dump(
        {"plans": _catalog.plans, "devices": _catalog.devices, "functions": _catalog.functions},
        sys.stdout,
        default=str,
    )
