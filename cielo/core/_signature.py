"""A callable's typed signature as a JSON schema, and validated, converted arguments.

Plans, device factories and anything else run from text (the CLI, a profile, the queue
server, the web form) describe their parameters with ordinary type annotations.
:func:`signature_schema` turns those annotations into a JSON schema (devices appear as
their *names*, marked ``"x-cielo-device": "<protocol>"``); :func:`bind_parameters`
checks values against the same annotations and replaces device names by device objects,
so a bad parameter is refused before anything moves, with a message naming it.

The runtime needs no JSON-schema library: both functions walk the annotations directly.
"""

from __future__ import annotations

import collections.abc as cabc
import difflib
import enum
import functools
import inspect
import numbers
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from ._errors import PlanParameterError, PluginError
from ._protocols import Movable
from ._range import in_range, range_metadata, range_schema, range_text

__all__ = ["signature_schema", "bind_parameters", "is_device_annotation"]

#: Methods whose presence marks a (non-protocol) class as a device class.
_DEVICE_METHODS = ("read", "set", "trigger", "kickoff", "describe", "stage", "locate")
_SCALARS: dict[type, dict[str, Any]] = {
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
    type(None): {"type": "null"},
}
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


class ParameterRangeError(PlanParameterError):
    """A number of the right type outside the range its annotation declares."""


class _Undescribable(Exception):
    """Internal: an annotation that has no JSON description."""


# -- schema ------------------------------------------------------------------


def signature_schema(
    func: Callable[..., Any], *, devices: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Describe ``func``'s parameters as a JSON schema (draft 2020-12).

    Parameters
    ----------
    func
        A plan, a device factory, or any callable with type-annotated parameters.
    devices
        If given (e.g. a profile's ``env.devices``), each device parameter also lists
        the names of the devices that satisfy its protocol as an ``enum``, so a form
        offers only fitting devices.

    Returns
    -------
    dict
        ``{"title", "description", "type": "object", "properties", "required",
        "additionalProperties"}``. A device parameter is ``{"type": "string",
        "x-cielo-device": "Readable"}`` (a device *name*); ``*args`` is a property of
        type array marked ``"x-cielo-kind": "var_positional"``; ``**kwargs`` opens
        ``additionalProperties``.

    Raises
    ------
    PluginError
        If an annotation cannot be resolved or described; the message names the
        function and the parameter.

    Examples
    --------
    >>> def count(detectors: list[str], num: int = 1): ...
    >>> signature_schema(count)["properties"]["num"]
    {'type': 'integer', 'default': 1}
    """
    fname = _func_name(func)
    sig = _signature(func, fname)
    docs = _param_docs(inspect.getdoc(func) or "")
    properties: dict[str, Any] = {}
    required: list[str] = []
    additional: Any = False
    for param in sig.parameters.values():
        try:
            schema = _describe(param.annotation, devices)
        except _Undescribable as exc:
            raise PluginError(
                f"cannot describe parameter {param.name!r} of {fname}: {exc}; annotate it "
                "with numbers, strings, bools, Literal, an Enum, lists/dicts of those, or a "
                "device protocol from cielo.core.protocols"
            ) from None
        if param.default is None and not _allows_none(schema):
            schema = {"anyOf": [schema, {"type": "null"}]}
        if param.kind is param.VAR_POSITIONAL:
            schema = {"type": "array", "items": schema, "x-cielo-kind": "var_positional"}
        if param.name in docs:  # on the parameter itself (for *args: the array, not its items)
            schema = {**schema, "description": docs[param.name]}
        if param.kind is param.VAR_KEYWORD:
            additional = schema
            continue
        if param.kind is param.VAR_POSITIONAL:
            pass  # never required, no default
        elif param.default is param.empty:
            required.append(param.name)
        else:
            default = _json_default(param.default)
            if default is not _NO_DEFAULT:
                schema = {**schema, "default": default}
        if param.kind is param.POSITIONAL_ONLY:
            schema = {**schema, "x-cielo-kind": "positional_only"}
        elif param.kind is param.KEYWORD_ONLY:
            schema = {**schema, "x-cielo-kind": "keyword_only"}
        properties[param.name] = schema
    doc = inspect.getdoc(func) or ""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": fname,
        "description": doc.strip().split("\n\n", 1)[0].replace("\n", " "),
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": additional,
    }


def is_device_annotation(annotation: Any) -> bool:
    """Whether ``annotation`` names a device (a protocol or device class)."""
    annotation = _strip_annotated(annotation)
    return isinstance(annotation, type) and _is_device_class(annotation)


def _describe(tp: Any, devices: Mapping[str, Any] | None = None) -> dict[str, Any]:
    if typing.get_origin(tp) is typing.Annotated:
        inner = _describe(typing.get_args(tp)[0], devices)
        bounds = range_metadata(tp.__metadata__)
        return _with_bounds(inner, bounds) if bounds else inner
    if tp is inspect.Parameter.empty or tp is Any or tp is object:
        return {}
    if isinstance(tp, typing.TypeVar):
        if tp.__bound__ is not None:
            return _describe(tp.__bound__, devices)
        if tp.__constraints__:
            return {"anyOf": [_describe(c, devices) for c in tp.__constraints__]}
        return {}
    if tp is None:
        return {"type": "null"}
    if isinstance(tp, type) and tp in _SCALARS:
        return dict(_SCALARS[tp])
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"enum": [m.value for m in tp], "title": tp.__name__}
    if isinstance(tp, type) and hasattr(tp, "__cielo_schema__"):
        return dict(tp.__cielo_schema__())
    if _is_cycler(tp):
        return dict(_CYCLER_SCHEMA)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (typing.Union, types.UnionType):
        members = [_describe(a, devices) for a in args]
        return {"anyOf": _flatten_any_of(members)}
    if origin is tuple and args and args[-1] is not Ellipsis:
        items = [_describe(a, devices) for a in args]
        return {
            "type": "array",
            "prefixItems": items,
            "minItems": len(items),
            "maxItems": len(items),
        }
    if origin in _SEQUENCE_ORIGINS or tp in _SEQUENCE_ORIGINS:
        item = args[0] if args else Any
        schema: dict[str, Any] = {"type": "array", "items": _describe(item, devices)}
        if origin in (set, frozenset, cabc.Set):
            schema["uniqueItems"] = True
        return schema
    if origin in _MAPPING_ORIGINS or tp in _MAPPING_ORIGINS:
        key, value = (args + (Any, Any))[:2] if args else (Any, Any)
        if key not in (str, Any):
            raise _Undescribable(f"mapping keys must be strings, not {_type_name(key)}")
        return {"type": "object", "additionalProperties": _describe(value, devices)}
    if origin is cabc.Callable or tp is cabc.Callable or tp is typing.Callable:
        return {"x-cielo-python": "callable"}
    if origin in _ITERATOR_ORIGINS or tp in _ITERATOR_ORIGINS:
        return {"x-cielo-python": "plan"}
    if isinstance(tp, type):
        if _is_device_class(tp):
            schema = {"type": "string", "x-cielo-device": tp.__name__}
            if devices is not None:
                schema["enum"] = sorted(n for n, d in devices.items() if _satisfies(d, tp))
            return schema
        if issubclass(tp, numbers.Integral):
            return {"type": "integer"}
        if issubclass(tp, numbers.Real):
            return {"type": "number"}
    if isinstance(tp, str | typing.ForwardRef):
        raise _Undescribable(f"the annotation {tp!r} could not be resolved")
    raise _Undescribable(f"{_type_name(tp)} has no JSON description")


def _with_bounds(schema: dict[str, Any], bounds: dict[str, float]) -> dict[str, Any]:
    if schema.get("type") in ("number", "integer"):
        return {**schema, **range_schema(bounds)}
    if "anyOf" in schema:
        return {**schema, "anyOf": [_with_bounds(m, bounds) for m in schema["anyOf"]]}
    return schema


def _flatten_any_of(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in members:
        if list(m) == ["anyOf"]:
            out.extend(m["anyOf"])
        elif m not in out:
            out.append(m)
    return out


def _allows_none(schema: dict[str, Any]) -> bool:
    if not schema or schema.get("type") == "null":
        return True
    if "enum" in schema and None in schema["enum"]:
        return True
    return any(_allows_none(s) for s in schema.get("anyOf", ()))


_NO_DEFAULT = object()


def _json_default(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple) and all(
        v is None or isinstance(v, bool | int | float | str) for v in value
    ):
        return list(value)
    return _NO_DEFAULT


_PARAM_HEADER = re.compile(r"^\*{0,2}[A-Za-z_]\w*(\s*,\s*\*{0,2}[A-Za-z_]\w*)*(\s*:.*)?$")


def _param_docs(doc: str) -> dict[str, str]:
    """Per-parameter descriptions from a numpydoc ``Parameters`` section."""
    lines = doc.splitlines()
    out: dict[str, str] = {}
    try:
        start = next(
            i
            for i, line in enumerate(lines[:-1])
            if line.strip() == "Parameters" and set(lines[i + 1].strip()) == {"-"}
        )
    except StopIteration:
        return out
    current: list[str] | None = None
    for line in lines[start + 2 :]:
        if line.strip() and not line.startswith(" "):
            match = _PARAM_HEADER.match(line.strip())
            if match is None:
                break
            names = [n.strip().lstrip("*") for n in line.split(":")[0].split(",")]
            current = names
            for n in names:
                out[n] = ""
        elif current is not None and line.strip():
            for n in current:
                out[n] = (out[n] + " " + line.strip()).strip()
    return {k: v for k, v in out.items() if v}


# -- binding -------------------------------------------------------------------


def bind_parameters(
    func: Callable[..., Any],
    args: tuple[Any, ...] | list[Any],
    kwargs: Mapping[str, Any],
    devices: Mapping[str, Any] | None,
    *,
    what: str,
) -> inspect.BoundArguments:
    """Validate ``args``/``kwargs`` against ``func``'s annotations and convert them.

    Device names (strings) given where the annotation asks for a device are replaced
    by the object of that name from ``devices``, which must satisfy the annotated
    protocol or class; numbers, strings, enums and containers are checked.

    Parameters
    ----------
    func
        The callable whose signature is used (a plan, a device factory, ...).
    args, kwargs
        The arguments as given, possibly parsed from text.
    devices
        Devices by name (e.g. ``env.devices``); ``None`` for a call from Python, where
        devices are given as objects and a string is never a device.
    what
        How to name ``func`` in messages, e.g. ``"plan 'count'"``.

    Returns
    -------
    inspect.BoundArguments
        With converted values; call ``func(*bound.args, **bound.kwargs)``.

    Raises
    ------
    PlanParameterError
        Naming ``what``, the parameter, the bad value and the fix.
    """
    sig = _signature(func, what)
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as exc:
        params = ", ".join(_format_param(p) for p in sig.parameters.values())
        raise PlanParameterError(f"{what}: {exc}; its parameters are ({params})") from None
    conv = _Converter(devices, what)
    for name, value in list(bound.arguments.items()):
        param = sig.parameters[name]
        ann = param.annotation
        if param.kind is param.VAR_POSITIONAL:
            bound.arguments[name] = tuple(
                conv.convert(v, ann, f"{name}[{i}]", none_ok=False) for i, v in enumerate(value)
            )
        elif param.kind is param.VAR_KEYWORD:
            bound.arguments[name] = {
                k: conv.convert(v, ann, k, none_ok=False) for k, v in value.items()
            }
        else:
            bound.arguments[name] = conv.convert(value, ann, name, none_ok=param.default is None)
    return bound


class _Converter:
    def __init__(self, devices: Mapping[str, Any] | None, what: str) -> None:
        self.python = devices is None  # devices come as objects, not names
        self.devices: Mapping[str, Any] = devices or {}
        self.what = what

    def fail(self, path: str, value: Any, expected: str, fix: str = "") -> PlanParameterError:
        shown = getattr(value, "name", None) if not isinstance(value, str) else None
        shown = repr(shown) if isinstance(shown, str) else _short_repr(value)
        msg = f"{self.what}: parameter {path!r} got {shown}, expected {expected}"
        return PlanParameterError(msg + (f"; {fix}" if fix else ""))

    def convert(self, value: Any, tp: Any, path: str, *, none_ok: bool = False) -> Any:
        if typing.get_origin(tp) is typing.Annotated:
            result = self.convert(value, typing.get_args(tp)[0], path, none_ok=none_ok)
            bounds = range_metadata(tp.__metadata__)
            if bounds and not in_range(result, bounds):
                raise ParameterRangeError(
                    str(self.fail(path, value, f"a number {range_text(bounds)}"))
                )
            return result
        if value is None and none_ok:
            return None
        if tp is inspect.Parameter.empty or tp is Any or tp is object:
            return value
        if isinstance(tp, typing.TypeVar):
            return self.convert(value, tp.__bound__ or Any, path)
        if tp is None or tp is type(None):
            if value is None:
                return None
            raise self.fail(path, value, "None")
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            return self._union(value, args, path)
        if origin is typing.Literal:
            if any(value == a and type(value) is type(a) for a in args):
                return value
            raise self.fail(path, value, f"one of {list(args)}", _suggest(value, args))
        if isinstance(tp, type):
            if tp is bool:
                if isinstance(value, bool) or type(value).__name__ == "bool_":
                    return bool(value)
                raise self.fail(path, value, "true or false")
            if tp is int or (tp is not float and _is_subclass(tp, numbers.Integral)):
                if isinstance(value, numbers.Integral) and not isinstance(value, bool):
                    return int(value)
                if isinstance(value, float) and value.is_integer():
                    return int(value)
                raise self.fail(path, value, "an integer")
            if tp is float or _is_subclass(tp, numbers.Real) and tp not in (str, bool):
                if isinstance(value, numbers.Real) and not isinstance(value, bool):
                    return value if isinstance(value, int | float) else float(value)
                raise self.fail(path, value, "a number")
            if tp is str:
                if isinstance(value, str):
                    return value
                raise self.fail(path, value, "a string")
            if issubclass(tp, enum.Enum):
                return self._enum(value, tp, path)
            if _is_cycler(tp):
                return self._cycler(value, tp, path)
            if hasattr(tp, "__cielo_convert__"):
                try:
                    return tp.__cielo_convert__(value, self.devices)
                except PlanParameterError as exc:
                    raise PlanParameterError(f"{self.what}: parameter {path!r}: {exc}") from None
            if _is_device_class(tp):
                return self._device(value, tp, path)
        if origin is tuple and args and args[-1] is not Ellipsis:
            items = self._items(value, path, f"a list of {len(args)} items")
            if len(items) != len(args):
                raise self.fail(path, value, f"a list of exactly {len(args)} items")
            return tuple(
                self.convert(v, a, f"{path}[{i}]")
                for i, (v, a) in enumerate(zip(items, args, strict=True))
            )
        if origin in _SEQUENCE_ORIGINS or tp in _SEQUENCE_ORIGINS:
            item = args[0] if args else Any
            items = self._items(value, path, f"a list of {self.expected(item)}")
            out = [self.convert(v, item, f"{path}[{i}]") for i, v in enumerate(items)]
            if origin is tuple or tp is tuple:
                return tuple(out)
            if origin in (set, frozenset) or tp in (set, frozenset):
                return set(out)
            return out
        if origin in _MAPPING_ORIGINS or tp in _MAPPING_ORIGINS:
            if not isinstance(value, Mapping):
                raise self.fail(path, value, "a mapping (dict)")
            vt = args[1] if len(args) == 2 else Any
            return {k: self.convert(v, vt, f"{path}[{k!r}]") for k, v in value.items()}
        if origin is cabc.Callable or tp is cabc.Callable or tp is typing.Callable:
            if callable(value):
                return value
            raise self.fail(path, value, "a Python callable", "pass it from Python, not text")
        if origin in _ITERATOR_ORIGINS or tp in _ITERATOR_ORIGINS:
            if isinstance(value, cabc.Iterator):
                return value
            raise self.fail(path, value, "a plan (generator)", "pass it from Python, not text")
        if isinstance(tp, type):
            if isinstance(value, tp):
                return value
            raise self.fail(path, value, f"a {tp.__name__}")
        return value

    def expected(self, tp: Any) -> str:
        """What ``tp`` accepts, in words (devices as names from text, as objects from Python)."""
        words = _expected(tp)
        return words.replace(" device name", " device") if self.python else words

    def _items(self, value: Any, path: str, expected: str) -> list[Any]:
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, cabc.Iterable):
            name = getattr(value, "name", None)
            shown = value if isinstance(value, str) else name if isinstance(name, str) else None
            fix = f"put it in a list, e.g. [{shown or _short_repr(value)}]"
            raise self.fail(path, value, expected, fix)
        return list(value)

    def _union(self, value: Any, args: tuple[Any, ...], path: str) -> Any:
        if value is None and type(None) in args:
            return None
        others = [a for a in args if a is not type(None)]
        if len(others) == 1:
            return self.convert(value, others[0], path)
        errors: list[PlanParameterError] = []
        # A string given where a device may go is a device name: try devices first
        # and keep their (more helpful) error; anything else tries them last.
        ordered = sorted(args, key=lambda a: is_device_annotation(a) != isinstance(value, str))
        for alt in ordered:
            try:
                return self.convert(value, alt, path)
            except PlanParameterError as exc:
                errors.append(exc)
        if isinstance(value, str):
            for alt, err in zip(ordered, errors, strict=True):
                if is_device_annotation(alt):
                    raise err
        for err in errors:  # the value had the alternative's shape; a part of it was wrong
            if f"parameter '{path}[" in str(err) or isinstance(err, ParameterRangeError):
                raise err
        expected = " or ".join(self.expected(a) for a in args)
        raise self.fail(path, value, expected)

    def _cycler(self, value: Any, tp: type, path: str) -> Any:
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping) or not value:
            raise self.fail(path, value, "a trajectory {'motor': [positions], ...}")
        from cycler import cycler  # only reached when a plan is annotated with Cycler

        combined = None
        for name, positions in value.items():
            key = (
                self._device(name, Movable, f"{path}[{name!r}]") if isinstance(name, str) else name
            )
            items = self._items(positions, f"{path}[{name!r}]", "a list of positions")
            part = cycler(key, items)
            combined = part if combined is None else combined + part
        return combined

    def _enum(self, value: Any, tp: type[enum.Enum], path: str) -> Any:
        if isinstance(value, tp):
            return value
        for member in tp:
            if value == member.value or value == member.name:
                return member
        choices = [m.value for m in tp]
        raise self.fail(path, value, f"one of {choices}", _suggest(value, choices))

    def _device(self, value: Any, tp: type, path: str) -> Any:
        proto = tp.__name__
        if isinstance(value, str) and self.python:
            raise self.fail(
                path,
                value,
                f"a {proto} device",
                f"pass the device itself ({value}), not the string {value!r}",
            )
        if isinstance(value, str):
            if value not in self.devices:
                fitting = sorted(n for n, d in self.devices.items() if _satisfies(d, tp))
                close = difflib.get_close_matches(value, list(self.devices), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise self.fail(
                    path,
                    value,
                    f"the name of a {proto} device",
                    f"unknown device {value!r}; {hint}{proto} devices: "
                    + (", ".join(fitting) or "none"),
                )
            device = self.devices[value]
        else:
            device = value
        if not _satisfies(device, tp):
            fitting = sorted(n for n, d in self.devices.items() if _satisfies(d, tp))
            missing = [m for m in _protocol_members(tp) if not hasattr(device, m)]
            lacks = f" (it has no {', '.join(missing)})" if missing else ""
            raise self.fail(
                path,
                value,
                f"a {proto} device",
                f"{getattr(device, 'name', value)!r} is not {proto}{lacks}; "
                + (f"{proto} devices: {', '.join(fitting)}" if fitting else "use another device"),
            )
        return device


# -- helpers ----------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _evaluated_signature(func: Callable[..., Any]) -> inspect.Signature:
    """``func``'s signature with its annotations evaluated, read once per function (a plan
    called from Python checks its arguments on every call)."""
    return inspect.signature(func, eval_str=True)


def _signature(func: Callable[..., Any], fname: str) -> inspect.Signature:
    try:
        try:
            return _evaluated_signature(func)
        except TypeError as exc:
            if "unhashable" not in str(exc):
                raise
            return inspect.signature(func, eval_str=True)
    except (NameError, SyntaxError, TypeError, AttributeError) as exc:
        raise PluginError(
            f"cannot read the signature of {fname}: {exc}; make its annotations importable "
            "at module level"
        ) from exc
    except ValueError as exc:
        raise PluginError(f"{fname} has no signature to describe: {exc}") from exc


def _func_name(func: Any) -> str:
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)


def _strip_annotated(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _is_subclass(tp: Any, base: type) -> bool:
    try:
        return isinstance(tp, type) and issubclass(tp, base)
    except TypeError:
        return False


#: How a ``cycler.Cycler`` parameter is given as text: motor names to positions.
_CYCLER_SCHEMA = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "number"}},
    "x-cielo-keys": "device",
    "description": "motor name -> positions, all of equal length, moved together",
}


def _is_cycler(tp: Any) -> bool:
    return isinstance(tp, type) and tp.__name__ == "Cycler" and tp.__module__.startswith("cycler")


def _is_protocol(tp: type) -> bool:
    return bool(getattr(tp, "_is_protocol", False))


def _is_device_class(tp: type) -> bool:
    if tp in _SCALARS or issubclass(tp, enum.Enum | numbers.Number | str | bytes):
        return False
    if _is_protocol(tp):
        return True
    return any(callable(getattr(tp, m, None)) for m in _DEVICE_METHODS)


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
    try:
        return isinstance(device, tp)
    except TypeError:  # a protocol that is not runtime-checkable
        return all(hasattr(device, m) for m in _protocol_members(tp))


def _expected(tp: Any) -> str:
    if typing.get_origin(tp) is typing.Annotated:
        bounds = range_metadata(tp.__metadata__)
        inner = _expected(typing.get_args(tp)[0])
        return f"{inner} {range_text(bounds)}" if bounds else inner
    if tp is Any:
        return "anything"
    if tp is type(None) or tp is None:
        return "None"
    if isinstance(tp, type) and tp in (int, float, str, bool):
        return {int: "an integer", float: "a number", str: "a string", bool: "true/false"}[tp]
    if isinstance(tp, type) and _is_device_class(tp):
        return f"a {tp.__name__} device name"
    if typing.get_origin(tp) is cabc.Callable or tp in (cabc.Callable, typing.Callable):
        return "a Python callable"
    if typing.get_origin(tp) is typing.Literal:
        return f"one of {list(typing.get_args(tp))}"
    return _type_name(tp)


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def _format_param(p: inspect.Parameter) -> str:
    prefix = "*" if p.kind is p.VAR_POSITIONAL else "**" if p.kind is p.VAR_KEYWORD else ""
    default = "" if p.default is p.empty else f"={p.default!r}"
    return f"{prefix}{p.name}{default}"


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _suggest(value: Any, choices: Any) -> str:
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, [str(c) for c in choices], n=1)
    return f"did you mean {close[0]!r}?" if close else ""
