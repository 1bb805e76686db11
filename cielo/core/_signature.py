"""A callable's typed signature as a JSON schema, and validated, converted arguments.

Plans, device factories and anything else run from text (the CLI, a profile, the queue
server, the web form) describe their parameters with ordinary type annotations. Each
parameter's annotation is compiled once (per function) into nodes of
:mod:`._annotations`; a node owns *both* the JSON schema of its kind and the check that
converts a value of that kind, so the schema a form or the queue server validates with and
the check a plan's call goes through cannot drift apart (``tests/core/test_signature.py``
holds them to each other with ``jsonschema`` as the oracle).

- :func:`signature_schema` emits the nodes as a JSON schema (devices appear as their
  *names*, marked ``"x-cielo-device": "<protocol>"``; ``Range`` bounds as
  ``minimum``/``maximum``);
- :func:`bind_parameters` checks values through the same nodes and replaces device names
  by device objects, so a bad parameter is refused before anything moves, with a message
  naming it and the fix.

Why not a schema library here: the core depends on pluggy, attrs and numpy only, and a
plan called from Python is checked with device objects, generators and callables that a
JSON validator cannot see; pydantic (a 10 MB compiled dependency) would need a custom
validator for each of those and a translation of its messages. JSON-only validators (the
queue server's ``fastjsonschema``) use the emitted schema.
"""

from __future__ import annotations

import enum
import functools
import inspect
import re
import typing
from collections.abc import Callable, Mapping
from typing import Any

from ._annotations import Context, Node, NoneDefault, Undescribable, compile_annotation
from ._errors import PlanParameterError, PluginError

__all__ = ["signature_schema", "bind_parameters", "is_device_annotation"]


# -- the signature, compiled once per callable ------------------------------------------


class _Compiled:
    """A callable's signature and the node of each parameter."""

    def __init__(self, sig: inspect.Signature) -> None:
        self.sig = sig
        self.nodes: dict[str, Node] = {}
        for param in sig.parameters.values():
            node = compile_annotation(param.annotation)
            if param.default is None and param.kind not in (
                param.VAR_POSITIONAL,
                param.VAR_KEYWORD,
            ):
                node = NoneDefault(node)
            self.nodes[param.name] = node


@functools.lru_cache(maxsize=1024)
def _compiled_cached(func: Callable[..., Any]) -> _Compiled:
    return _Compiled(_evaluated_signature(func))


def _evaluated_signature(func: Callable[..., Any]) -> inspect.Signature:
    """``func``'s signature with its annotations evaluated, also when it is given as a
    ``__signature__`` (which :func:`inspect.signature` returns as written)."""
    sig = inspect.signature(func, eval_str=True)
    if not any(isinstance(p.annotation, str) for p in sig.parameters.values()):
        return sig
    hints = typing.get_type_hints(func, include_extras=True)
    params = [
        p.replace(annotation=hints.get(p.name, p.annotation)) for p in sig.parameters.values()
    ]
    return sig.replace(parameters=params)


def _compiled(func: Callable[..., Any], fname: str) -> _Compiled:
    """``func``'s compiled signature, read once per function (a plan called from Python
    checks its arguments on every call)."""
    try:
        try:
            return _compiled_cached(func)
        except TypeError as exc:
            if "unhashable" not in str(exc):
                raise
            return _Compiled(_evaluated_signature(func))
    except (NameError, SyntaxError, TypeError, AttributeError) as exc:
        raise PluginError(
            f"cannot read the signature of {fname}: {exc}; make its annotations importable "
            "at module level"
        ) from exc
    except ValueError as exc:
        raise PluginError(f"{fname} has no signature to describe: {exc}") from exc


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
        ``additionalProperties``; a ``Range`` is ``minimum``/``maximum``.

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
    compiled = _compiled(func, fname)
    doc = inspect.getdoc(func) or ""
    docs = _param_docs(doc)
    properties: dict[str, Any] = {}
    required: list[str] = []
    additional: Any = False
    for param in compiled.sig.parameters.values():
        try:
            schema = compiled.nodes[param.name].schema(devices)
        except Undescribable as exc:
            raise PluginError(
                f"cannot describe parameter {param.name!r} of {fname}: {exc}; annotate it "
                "with numbers, strings, bools, Literal, an Enum, lists/dicts of those, or a "
                "device protocol from cielo.core.protocols"
            ) from None
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
    return compile_annotation(annotation).is_device


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
    protocol or class; numbers, strings, enums and containers are checked, through the
    same compiled annotations :func:`signature_schema` describes.

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
    compiled = _compiled(func, what)
    sig = compiled.sig
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as exc:
        params = ", ".join(_format_param(p) for p in sig.parameters.values())
        raise PlanParameterError(f"{what}: {exc}; its parameters are ({params})") from None
    ctx = Context(devices, what)
    for name, value in list(bound.arguments.items()):
        node = compiled.nodes[name]
        kind = sig.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            bound.arguments[name] = tuple(
                node.convert(v, ctx, f"{name}[{i}]") for i, v in enumerate(value)
            )
        elif kind is inspect.Parameter.VAR_KEYWORD:
            bound.arguments[name] = {k: node.convert(v, ctx, k) for k, v in value.items()}
        else:
            bound.arguments[name] = node.convert(value, ctx, name)
    return bound


# -- helpers ----------------------------------------------------------------------


def _func_name(func: Any) -> str:
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)


def _format_param(p: inspect.Parameter) -> str:
    prefix = "*" if p.kind is p.VAR_POSITIONAL else "**" if p.kind is p.VAR_KEYWORD else ""
    default = "" if p.default is p.empty else f"={p.default!r}"
    return f"{prefix}{p.name}{default}"
