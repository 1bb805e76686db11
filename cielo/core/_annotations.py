"""Type annotations compiled into nodes that own both their JSON schema and their check.

:func:`compile_annotation` decides an annotation's kind once. The :class:`Node` it returns
gives the JSON schema of that kind (``schema(devices)``) and converts a value of it
(``convert(value, ctx, path)``), refusing a bad one with a :class:`PlanParameterError`
that names the parameter, the value and the fix. Schema and check of a kind sit in one
class, so they cannot drift apart. :mod:`._signature` applies nodes to a callable's
parameters.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import enum
import functools
import inspect
import numbers
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from ._errors import PlanParameterError
from ._protocols import Movable
from ._range import in_range, range_metadata, range_schema, range_text
from ._units import units_metadata
from .suggest import did_you_mean

__all__ = [
    "Context",
    "Node",
    "NoneDefault",
    "Offered",
    "ParameterRangeError",
    "Undescribable",
    "compile_annotation",
]

#: Methods whose presence marks a (non-protocol) class as a device class.
_DEVICE_METHODS = ("read", "set", "trigger", "kickoff", "describe", "stage", "locate")
_SEQUENCE_ORIGINS = (
    list,
    tuple,
    set,
    frozenset,
    cabc.Sequence,
    cabc.MutableSequence,
    cabc.Iterable,
    cabc.Collection,
    cabc.Set,
)
_MAPPING_ORIGINS = (dict, cabc.Mapping, cabc.MutableMapping)
#: Generators and iterators (a plan given to a plan, e.g. ``ramp_plan``'s ``go_plan``).
_ITERATOR_ORIGINS = (cabc.Generator, cabc.Iterator)
_CALLABLES = (cabc.Callable, typing.Callable)


@dataclasses.dataclass(frozen=True)
class Offered:
    """``Annotated[str, Offered("agents")]``: the name of something the plugins offer (a
    kind of :data:`cielo.core.plugins.CONTRIBUTION_HOOKS`).

    The JSON schema marks it ``"x-cielo-offered": kind``; whoever knows the environment
    (the queue server) lists the names offered there as its ``enum``. The value is
    checked as a string here; the code that looks the name up refuses an unknown one.
    """

    kind: str


class ParameterRangeError(PlanParameterError):
    """A number of the right type outside the range its annotation declares."""


class Undescribable(Exception):
    """Internal: an annotation that has no JSON description."""


class Context:
    """One binding: where device names resolve, and how to name the callable."""

    def __init__(self, devices: Mapping[str, Any] | None, what: str) -> None:
        self.python = devices is None  # devices come as objects, not names
        self.devices: Mapping[str, Any] = devices or {}
        self.what = what

    def fail(self, path: str, value: Any, expected: str, fix: str = "") -> PlanParameterError:
        shown = getattr(value, "name", None) if not isinstance(value, str) else None
        shown = repr(shown) if isinstance(shown, str) else _short_repr(value)
        msg = f"{self.what}: parameter {path!r} got {shown}, expected {expected}"
        return PlanParameterError(msg + (f"; {fix}" if fix else ""))

    def expected(self, node: Node) -> str:
        """What ``node`` accepts, in words (devices as names from text, as objects from Python)."""
        words = node.words()
        return words.replace(" device name", " device") if self.python else words

    def items(self, value: Any, path: str, expected: str) -> list[Any]:
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, cabc.Iterable):
            name = getattr(value, "name", None)
            shown = value if isinstance(value, str) else name if isinstance(name, str) else None
            fix = f"put it in a list, e.g. [{shown or _short_repr(value)}]"
            raise self.fail(path, value, expected, fix)
        return list(value)


# -- the compiled annotation: one node per kind, schema and check together ----------


class Node:
    """A compiled annotation: its JSON schema, its check, and its name in messages."""

    is_device = False

    def __init__(self, tp: Any) -> None:
        self.tp = tp

    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        return {}

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        return value

    def words(self) -> str:
        return _type_name(self.tp)


class _Anything(Node):
    def words(self) -> str:
        return "anything"


class _Null(Node):
    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"type": "null"}

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        if value is None:
            return None
        raise ctx.fail(path, value, "None")

    def words(self) -> str:
        return "None"


class _Bool(Node):
    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"type": "boolean"}

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        if isinstance(value, bool) or type(value).__name__ == "bool_":
            return bool(value)
        raise ctx.fail(path, value, "true or false")

    def words(self) -> str:
        return "true/false" if self.tp is bool else super().words()


class _Integer(Node):
    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"type": "integer"}

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ctx.fail(path, value, "an integer")

    def words(self) -> str:
        return "an integer" if self.tp is int else super().words()


class _Number(Node):
    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"type": "number"}

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return value if isinstance(value, int | float) else float(value)
        raise ctx.fail(path, value, "a number")

    def words(self) -> str:
        return "a number" if self.tp is float else super().words()


class _String(Node):
    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"type": "string"}

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        if isinstance(value, str):
            return value
        raise ctx.fail(path, value, "a string")

    def words(self) -> str:
        return "a string"


class _Enum(Node):
    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"enum": [m.value for m in self.tp], "title": self.tp.__name__}

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        if isinstance(value, self.tp):
            return value
        for member in self.tp:
            if value == member.value or value == member.name:
                return member
        choices = [m.value for m in self.tp]
        raise ctx.fail(path, value, f"one of {choices}", did_you_mean(value, choices))


class _Literal(Node):
    def __init__(self, tp: Any) -> None:
        super().__init__(tp)
        self.choices = list(typing.get_args(tp))

    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"enum": list(self.choices)}

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        if any(value == a and type(value) is type(a) for a in self.choices):
            return value
        raise ctx.fail(path, value, self.words(), did_you_mean(value, self.choices))

    def words(self) -> str:
        return f"one of {self.choices}"


class _Bounded(Node):
    """``Annotated[number, Range(...)]``: the inner kind, within declared bounds."""

    def __init__(self, tp: Any, inner: Node, bounds: dict[str, float]) -> None:
        super().__init__(tp)
        self.inner, self.bounds = inner, bounds
        self.is_device = inner.is_device

    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        return _with_bounds(self.inner.schema(devices), self.bounds)

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        result = self.inner.convert(value, ctx, path)
        if not in_range(result, self.bounds):
            expected = f"a number {range_text(self.bounds)}"
            raise ParameterRangeError(str(ctx.fail(path, value, expected)))
        return result

    def words(self) -> str:
        return f"{self.inner.words()} {range_text(self.bounds)}"


class _WithUnits(Node):
    """``Annotated[..., Units("s")]``: the inner kind, its schema saying its units."""

    def __init__(self, tp: Any, inner: Node, units: str) -> None:
        super().__init__(tp)
        self.inner, self.units = inner, units
        self.is_device = inner.is_device

    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        return {**self.inner.schema(devices), "units": self.units}

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        return self.inner.convert(value, ctx, path)

    def words(self) -> str:
        return self.inner.words()


class _OfferedName(Node):
    """``Annotated[str, Offered(kind)]``: the inner kind, marked with what it names."""

    def __init__(self, tp: Any, inner: Node, kind: str) -> None:
        super().__init__(tp)
        self.inner, self.kind = inner, kind

    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        return {**self.inner.schema(devices), "x-cielo-offered": self.kind}

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        return self.inner.convert(value, ctx, path)

    def words(self) -> str:
        return f"the name of one of the {self.kind} offered"


class _Union(Node):
    def __init__(self, tp: Any, members: list[Node]) -> None:
        super().__init__(tp)
        self.members = members
        self.others = [m for m in members if not isinstance(m, _Null)]
        self.none_ok = len(self.others) < len(members)

    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        out: list[dict[str, Any]] = []
        for member in (m.schema(devices) for m in self.members):
            if list(member) == ["anyOf"]:
                out.extend(member["anyOf"])
            elif member not in out:
                out.append(member)
        return {"anyOf": out}

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        if value is None and self.none_ok:
            return None
        if len(self.others) == 1:
            return self.others[0].convert(value, ctx, path)
        # A string given where a device may go is a device name: try devices first
        # and keep their (more helpful) error; anything else tries them last.
        ordered = sorted(self.members, key=lambda m: m.is_device != isinstance(value, str))
        errors: list[PlanParameterError] = []
        for member in ordered:
            try:
                return member.convert(value, ctx, path)
            except PlanParameterError as exc:
                errors.append(exc)
        if isinstance(value, str):
            for member, err in zip(ordered, errors, strict=True):
                if member.is_device:
                    raise err
        for err in errors:  # the value had the alternative's shape; a part of it was wrong
            if f"parameter '{path}[" in str(err) or isinstance(err, ParameterRangeError):
                raise err
        raise ctx.fail(path, value, " or ".join(ctx.expected(m) for m in self.members))


class NoneDefault(Node):
    """A parameter whose default is ``None``: ``None`` is accepted whatever its annotation."""

    def __init__(self, inner: Node) -> None:
        super().__init__(inner.tp)
        self.inner = inner
        self.is_device = inner.is_device

    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        schema = self.inner.schema(devices)
        return schema if _schema_allows_none(schema) else {"anyOf": [schema, {"type": "null"}]}

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        return None if value is None else self.inner.convert(value, ctx, path)

    def words(self) -> str:
        return self.inner.words()


class _FixedTuple(Node):
    def __init__(self, tp: Any, items: list[Node]) -> None:
        super().__init__(tp)
        self.items = items

    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        n = len(self.items)
        prefix = [i.schema(devices) for i in self.items]
        return {"type": "array", "prefixItems": prefix, "minItems": n, "maxItems": n}

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        n = len(self.items)
        values = ctx.items(value, path, f"a list of {n} items")
        if len(values) != n:
            raise ctx.fail(path, value, f"a list of exactly {n} items")
        return tuple(
            t.convert(v, ctx, f"{path}[{i}]")
            for i, (v, t) in enumerate(zip(values, self.items, strict=True))
        )


class _Sequence(Node):
    def __init__(self, tp: Any, item: Node, make: Callable[[list[Any]], Any]) -> None:
        super().__init__(tp)
        self.item, self.make = item, make
        #: a set: each value once (``uniqueItems`` in the schema, refused twice when bound)
        self.unique = (typing.get_origin(tp) or tp) in (set, frozenset, cabc.Set)

    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": self.item.schema(devices)}
        if self.unique:
            schema["uniqueItems"] = True
        return schema

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        values = ctx.items(value, path, f"a list of {ctx.expected(self.item)}")
        items = [self.item.convert(v, ctx, f"{path}[{i}]") for i, v in enumerate(values)]
        if self.unique and not isinstance(value, cabc.Set):
            seen: list[Any] = []
            for i, (given, item) in enumerate(zip(values, items, strict=True)):
                if any(item == other for other in seen):
                    raise ctx.fail(
                        f"{path}[{i}]",
                        given,
                        f"a value not given before (a set of {ctx.expected(self.item)})",
                        f"give each value once, e.g. drop this {_short_repr(given)}",
                    )
                seen.append(item)
        return self.make(items)


class _Mapping(Node):
    def __init__(self, tp: Any, key: Any, value: Node) -> None:
        super().__init__(tp)
        self.key, self.value = key, value

    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        if self.key not in (str, Any):
            raise Undescribable(f"mapping keys must be strings, not {_type_name(self.key)}")
        return {"type": "object", "additionalProperties": self.value.schema(devices)}

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        if not isinstance(value, Mapping):
            raise ctx.fail(path, value, "a mapping (dict)")
        return {k: self.value.convert(v, ctx, f"{path}[{k!r}]") for k, v in value.items()}


class _PythonOnly(Node):
    """A callable or a plan (generator): given from Python, never from text."""

    def __init__(self, tp: Any, kind: str) -> None:
        super().__init__(tp)
        self.kind = kind

    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"x-cielo-python": self.kind}

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        if callable(value) if self.kind == "callable" else isinstance(value, cabc.Iterator):
            return value
        expected = "a Python callable" if self.kind == "callable" else "a plan (generator)"
        raise ctx.fail(path, value, expected, "pass it from Python, not text")

    def words(self) -> str:
        return "a Python callable" if self.kind == "callable" else super().words()


class _Device(Node):
    """A device protocol or class: a device *name* from text, the object from Python."""

    is_device = True

    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "x-cielo-device": self.tp.__name__}
        if devices is not None:
            schema["enum"] = sorted(n for n, d in devices.items() if _satisfies(d, self.tp))
        return schema

    def words(self) -> str:
        return f"a {self.tp.__name__} device name"

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        return _resolve_device(value, self.tp, ctx, path)


class _Cycler(Node):
    """A ``cycler.Cycler`` (Bluesky's ``scan_nd``): ``{"motor": [positions], ...}`` as text."""

    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "number"}},
            "x-cielo-keys": "device",
            "description": "motor name -> positions, all of equal length, moved together",
        }

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        if isinstance(value, self.tp):
            return value
        if not isinstance(value, Mapping) or not value:
            raise ctx.fail(path, value, "a trajectory {'motor': [positions], ...}")
        from cycler import cycler  # only reached when a plan is annotated with Cycler

        combined = None
        for name, positions in value.items():
            where = f"{path}[{name!r}]"
            key = _resolve_device(name, Movable, ctx, where) if isinstance(name, str) else name
            part = cycler(key, ctx.items(positions, where, "a list of positions"))
            combined = part if combined is None else combined + part
        return combined


class _Class(Node):
    """Any other class: an instance of it from Python; no JSON description."""

    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        raise Undescribable(f"{_type_name(self.tp)} has no JSON description")

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        if isinstance(value, self.tp):
            return value
        raise ctx.fail(path, value, f"a {self.tp.__name__}")


class _Custom(_Class):
    """A class that describes and converts itself (``__cielo_schema__``/``__cielo_convert__``)."""

    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        if hasattr(self.tp, "__cielo_schema__"):
            return dict(self.tp.__cielo_schema__())
        return super().schema(devices)

    def convert(self, value: Any, ctx: Context, path: str) -> Any:
        if not hasattr(self.tp, "__cielo_convert__"):
            return super().convert(value, ctx, path)
        try:
            return self.tp.__cielo_convert__(value, ctx.devices)
        except PlanParameterError as exc:
            raise PlanParameterError(f"{ctx.what}: parameter {path!r}: {exc}") from None


class _Unresolved(Node):
    """An annotation that is not a type (a string or forward reference left unresolved)."""

    def schema(self, devices: Mapping[str, Any] | None) -> dict[str, Any]:
        if isinstance(self.tp, str | typing.ForwardRef):
            raise Undescribable(f"the annotation {self.tp!r} could not be resolved")
        raise Undescribable(f"{_type_name(self.tp)} has no JSON description")


_SCALAR_NODES: dict[Any, type[Node]] = {
    bool: _Bool,
    int: _Integer,
    float: _Number,
    str: _String,
    type(None): _Null,
    None: _Null,
}


def compile_annotation(tp: Any) -> Node:
    """The node of annotation ``tp`` (its kind decided once, here)."""
    if typing.get_origin(tp) is typing.Annotated:
        inner = compile_annotation(typing.get_args(tp)[0])
        offered = next((m for m in tp.__metadata__ if isinstance(m, Offered)), None)
        if offered is not None:
            return _OfferedName(tp, inner, offered.kind)
        bounds = range_metadata(tp.__metadata__)
        bounded = _Bounded(tp, inner, bounds) if bounds else inner
        units = units_metadata(tp.__metadata__)
        return _WithUnits(tp, bounded, units) if units else bounded
    if tp is inspect.Parameter.empty or tp is Any or tp is object:
        return _Anything(tp)
    if isinstance(tp, typing.TypeVar):
        if tp.__bound__ is not None:
            return compile_annotation(tp.__bound__)
        if tp.__constraints__:
            return _Union(tp, [compile_annotation(c) for c in tp.__constraints__])
        return _Anything(tp)
    if tp is None or (isinstance(tp, type) and tp in _SCALAR_NODES):
        return _SCALAR_NODES[tp](tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        return _Literal(tp)
    if origin in (typing.Union, types.UnionType):
        return _Union(tp, [compile_annotation(a) for a in args])
    if isinstance(tp, type):
        node = _compile_class(tp)
        if node is not None:
            return node
    if origin is tuple and args and args[-1] is not Ellipsis:
        return _FixedTuple(tp, [compile_annotation(a) for a in args])
    if origin in _SEQUENCE_ORIGINS or tp in _SEQUENCE_ORIGINS:
        kind = origin or tp
        make: Callable[[list[Any]], Any] = (
            tuple if kind is tuple else set if kind in (set, frozenset) else list
        )
        return _Sequence(tp, compile_annotation(args[0] if args else Any), make)
    if origin in _MAPPING_ORIGINS or tp in _MAPPING_ORIGINS:
        key, value = (args + (Any, Any))[:2] if args else (Any, Any)
        return _Mapping(tp, key, compile_annotation(value))
    if origin is cabc.Callable or tp in _CALLABLES:
        return _PythonOnly(tp, "callable")
    if origin in _ITERATOR_ORIGINS or tp in _ITERATOR_ORIGINS:
        return _PythonOnly(tp, "plan")
    if isinstance(tp, type):
        return _Class(tp)
    return _Unresolved(tp)


def _compile_class(tp: type) -> Node | None:
    if issubclass(tp, enum.Enum):
        return _Enum(tp)
    if _is_cycler(tp):
        return _Cycler(tp)
    if hasattr(tp, "__cielo_schema__") or hasattr(tp, "__cielo_convert__"):
        return _Custom(tp)
    if _is_device_class(tp):
        return _Device(tp)
    if _is_subclass(tp, numbers.Integral):
        return _Integer(tp)
    if _is_subclass(tp, numbers.Real):
        return _Number(tp)
    return None


def _with_bounds(schema: dict[str, Any], bounds: dict[str, float]) -> dict[str, Any]:
    if schema.get("type") in ("number", "integer"):
        return {**schema, **range_schema(bounds)}
    if "anyOf" in schema:
        return {**schema, "anyOf": [_with_bounds(m, bounds) for m in schema["anyOf"]]}
    return schema


def _schema_allows_none(schema: dict[str, Any]) -> bool:
    if not schema or schema.get("type") == "null":
        return True
    if "enum" in schema and None in schema["enum"]:
        return True
    return any(_schema_allows_none(s) for s in schema.get("anyOf", ()))


def _resolve_device(value: Any, tp: type, ctx: Context, path: str) -> Any:
    """The device ``value`` names (or is), checked against protocol or class ``tp``."""
    proto = tp.__name__
    if isinstance(value, str) and ctx.python:
        raise ctx.fail(
            path,
            value,
            f"a {proto} device",
            f"pass the device itself ({value}), not the string {value!r}",
        )
    if isinstance(value, str):
        if value not in ctx.devices:
            fitting = sorted(n for n, d in ctx.devices.items() if _satisfies(d, tp))
            hint = did_you_mean(value, ctx.devices)
            raise ctx.fail(
                path,
                value,
                f"the name of a {proto} device",
                f"unknown device {value!r}; {hint + ' ' if hint else ''}{proto} devices: "
                + (", ".join(fitting) or "none"),
            )
        device = ctx.devices[value]
    else:
        device = value
    if not _satisfies(device, tp):
        fitting = sorted(n for n, d in ctx.devices.items() if _satisfies(d, tp))
        missing = [m for m in _protocol_members(tp) if not hasattr(device, m)]
        lacks = f" (it has no {', '.join(missing)})" if missing else ""
        raise ctx.fail(
            path,
            value,
            f"a {proto} device",
            f"{getattr(device, 'name', value)!r} is not {proto}{lacks}; "
            + (f"{proto} devices: {', '.join(fitting)}" if fitting else "use another device"),
        )
    return device


# -- helpers ---------------------------------------------------------------------------


def _is_subclass(tp: Any, base: type) -> bool:
    try:
        return isinstance(tp, type) and issubclass(tp, base)
    except TypeError:
        return False


def _is_cycler(tp: Any) -> bool:
    return isinstance(tp, type) and tp.__name__ == "Cycler" and tp.__module__.startswith("cycler")


def _is_protocol(tp: type) -> bool:
    return bool(getattr(tp, "_is_protocol", False))


def _is_device_class(tp: type) -> bool:
    if tp in _SCALAR_NODES or issubclass(tp, enum.Enum | numbers.Number | str | bytes):
        return False
    if _is_protocol(tp):
        return True
    return any(callable(getattr(tp, m, None)) for m in _DEVICE_METHODS)


@functools.lru_cache(maxsize=512)
def _class_satisfies(cls: type, tp: type) -> bool:
    """Whether class ``cls`` itself has every member of protocol ``tp``."""
    members = _protocol_members(tp)
    return bool(members) and all(getattr(cls, m, None) is not None for m in members)


@functools.lru_cache(maxsize=256)
def _protocol_members(tp: type) -> list[str]:
    if not _is_protocol(tp):
        return []
    attrs = getattr(tp, "__protocol_attrs__", None)
    if attrs is None:
        attrs = set()
        for base in tp.__mro__:
            if base is object or not _is_protocol(base) or base is typing.Protocol:
                continue
            attrs.update(k for k in vars(base) if not k.startswith("_") and k not in ("register",))
    return sorted(attrs)


def _satisfies(device: Any, tp: type) -> bool:
    if _is_protocol(tp) and _class_satisfies(device.__class__, tp):
        return True  # every member on the class: the protocol's own check is slow in 3.11
    try:
        return isinstance(device, tp)
    except TypeError:  # a protocol that is not runtime-checkable
        return all(hasattr(device, m) for m in _protocol_members(tp))


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
