"""Parse a plan call given as text (``'scan([det], motor, -1, 1, 10)'``), never ``eval`` it.

Only one call of a known plan is accepted, with arguments that are literals (numbers,
strings, ``True``/``False``/``None``, negative numbers), lists, tuples and dicts of
those, and bare names of known devices, which become the device's name (a string) for
:func:`cielo.core.bind_parameters` to turn into the device. Everything else is refused
with a :class:`~cielo.core.PlanParameterError` that names the offending piece and says
what is allowed.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cielo.core import PlanParameterError

__all__ = ["ALLOWED", "PlanCall", "parse_plan_call"]

#: What plan text may contain, for error messages.
ALLOWED = (
    "a single call of a known plan, e.g. scan([det], motor, -1, 1, 10), whose arguments are "
    "numbers, strings, True/False/None, lists/tuples/dicts of those, and names of devices"
)


@dataclass(frozen=True)
class PlanCall:
    """A parsed plan call: the plan's name and its arguments (devices as names)."""

    plan: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else ""


def _refuse(text: str, node: ast.AST | None, what: str) -> PlanParameterError:
    piece = ast.get_source_segment(text, node) if node is not None else None
    shown = f" {piece!r}" if piece else ""
    return PlanParameterError(f"refused{shown}: {what}; allowed: {ALLOWED}")


def parse_plan_call(text: str, plans: Iterable[str], devices: Iterable[str]) -> PlanCall:
    """Parse ``text`` into a :class:`PlanCall`, refusing anything but the allowed forms.

    :param text: the plan call, e.g. ``"count([det], num=3)"``.
    :param plans: names of the known plans.
    :param devices: names of the known devices.
    :raises PlanParameterError: naming the offending piece and what is allowed.
    """
    plans, devices = set(plans), set(devices)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise PlanParameterError(f"cannot parse {text!r}: {exc.msg}; allowed: {ALLOWED}") from None
    source = text.strip()
    call = tree.body
    if not isinstance(call, ast.Call):
        raise _refuse(source, call, "not a plan call")
    if not isinstance(call.func, ast.Name):
        raise _refuse(source, call.func, "the plan must be named directly (no attribute access)")
    if call.func.id not in plans:
        raise PlanParameterError(
            f"unknown plan {call.func.id!r}{_suggest(call.func.id, plans)} "
            f"(known: {', '.join(sorted(plans)) or 'none'}); allowed: {ALLOWED}"
        )
    converter = _Literal(source, devices)
    args = []
    for arg in call.args:
        if isinstance(arg, ast.Starred):
            raise _refuse(source, arg, "starred arguments are not allowed")
        args.append(converter.value(arg))
    kwargs = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise _refuse(source, kw.value, "**keyword unpacking is not allowed")
        kwargs[kw.arg] = converter.value(kw.value)
    return PlanCall(call.func.id, tuple(args), kwargs)


class _Literal:
    def __init__(self, source: str, devices: set[str]) -> None:
        self.source, self.devices = source, devices

    def value(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(
            node.value, int | float | complex | str | bool | type(None)
        ):
            return node.value
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub | ast.UAdd)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, int | float)
            and not isinstance(node.operand.value, bool)
        ):
            return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
        if isinstance(node, ast.List | ast.Tuple):
            items = []
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    raise _refuse(self.source, elt, "starred items are not allowed")
                items.append(self.value(elt))
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.Dict):
            out = {}
            for key, val in zip(node.keys, node.values, strict=True):
                if key is None:
                    raise _refuse(self.source, val, "**unpacking in a dict is not allowed")
                out[self.value(key)] = self.value(val)
            return out
        if isinstance(node, ast.Name):
            if node.id in self.devices:
                return node.id
            raise _refuse(
                self.source,
                node,
                f"unknown name {node.id!r}{_suggest(node.id, self.devices)} "
                f"(known devices: {', '.join(sorted(self.devices)) or 'none'}; "
                "quote it to pass a string)",
            )
        return self._refuse_kind(node)

    def _refuse_kind(self, node: ast.AST) -> Any:
        kinds = {
            ast.Attribute: "attribute access is not allowed",
            ast.Call: "calls inside the arguments are not allowed",
            ast.Lambda: "lambdas are not allowed",
            ast.JoinedStr: "f-strings are not allowed",
            ast.ListComp: "comprehensions are not allowed",
            ast.SetComp: "comprehensions are not allowed",
            ast.DictComp: "comprehensions are not allowed",
            ast.GeneratorExp: "comprehensions are not allowed",
            ast.Subscript: "subscripts are not allowed",
            ast.BinOp: "arithmetic is not allowed (write the number)",
            ast.Set: "sets are not allowed (use a list)",
        }
        for kind, why in kinds.items():
            if isinstance(node, kind):
                raise _refuse(self.source, node, why)
        raise _refuse(self.source, node, f"{type(node).__name__} expressions are not allowed")
