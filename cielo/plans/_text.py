"""Plans given as text (``'scan([det], motor, -1, 1, 10)'``): parsed, never ``eval``-ed,
and checked before anything moves.

Only one call of a known plan is accepted, with arguments that are literals (numbers,
strings, ``True``/``False``/``None``, negative numbers), lists, tuples and dicts of
those, and bare names of known devices, which become the device's name (a string) for
:func:`cielo.core.bind_parameters` to turn into the device. Everything else is refused
with a :class:`~cielo.core.PlanParameterError` that names the offending piece and says
what is allowed.

:func:`prepare_plan_text` is what everything that runs plans from text (``cielo run``,
the queue server) calls first: parse, bind the parameters, connect the devices the call
names, and drive the plan without hardware to check its validity and every move against
the limits. Whatever it refuses was refused before a run was opened or a scan id spent.
"""

from __future__ import annotations

import ast
import functools
import inspect
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ParamSpec, TypeVar

from cielo.core import CieloError, PlanParameterError, bind_parameters
from cielo.core.suggest import did_you_mean

__all__ = [
    "ALLOWED",
    "PlanCall",
    "PreparedPlan",
    "check_plan",
    "checked",
    "parse_plan_call",
    "prepare_plan",
    "prepare_plan_text",
    "validated",
]

P = ParamSpec("P")
R = TypeVar("R")

#: The dry run of :func:`check_plan` stops after this many messages (a plan may run
#: forever); what it left unchecked is said (``PlanSummary.partial``), never silent.
DRY_RUN_MESSAGES = 1_000_000

#: Plan text longer than this is refused (a plan call is a line, not a document).
MAX_TEXT = 100_000

_ARGUMENTS = (
    "whose arguments are numbers, strings, True/False/None, lists/tuples/dicts of those, "
    "and names of devices"
)
#: What call text may contain, for error messages: of a plan, or (``parse_plan_call``'s
#: ``kind="function"``) of a function a profile allows.
_ALLOWED_BY_KIND = {
    "plan": f"a single call of a known plan, e.g. scan([det], motor, -1, 1, 10), {_ARGUMENTS}",
    "function": (
        "a single call of an allowed function, e.g. set_comment('aligned', level=2), " + _ARGUMENTS
    ),
}
#: What plan text may contain, for error messages.
ALLOWED = _ALLOWED_BY_KIND["plan"]


@dataclass(frozen=True)
class PlanCall:
    """A parsed plan call: the plan's name and its arguments (devices as names)."""

    plan: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


def _suggest(word: str, choices: Iterable[str]) -> str:
    return did_you_mean(word, choices, before="; ", cutoff=0.5)


def _refuse(text: str, node: ast.AST | None, what: str, kind: str) -> PlanParameterError:
    piece = ast.get_source_segment(text, node) if node is not None else None
    shown = f" {_short_text(piece)}" if piece else ""
    return PlanParameterError(f"refused{shown}: {what}; allowed: {_ALLOWED_BY_KIND[kind]}")


def parse_plan_call(
    text: str, plans: Iterable[str], devices: Iterable[str], *, kind: str = "plan"
) -> PlanCall:
    """Parse ``text`` into a :class:`PlanCall`, refusing anything but the allowed forms.

    :param text: the plan call, e.g. ``"count([det], num=3)"``.
    :param plans: names of the known plans.
    :param devices: names of the known devices.
    :param kind: ``"function"``: ``text`` calls one of ``plans``, the functions a profile
        allows (as queue items), and refusals say so.
    :raises PlanParameterError: naming the offending piece and what is allowed.
    """
    if kind not in _ALLOWED_BY_KIND:
        raise ValueError(f"kind {kind!r}: use one of {', '.join(_ALLOWED_BY_KIND)}")
    allowed = _ALLOWED_BY_KIND[kind]
    plans, devices = set(plans), set(devices)
    source = text.strip()
    try:
        source.encode("utf-8")
    except UnicodeEncodeError as exc:  # argv bytes that were not UTF-8 arrive as surrogates
        raise PlanParameterError(
            f"the plan text holds bytes that are not UTF-8 at character {exc.start} "
            f"({source[max(0, exc.start - 10) : exc.start]!r} precedes it); "
            "write it in UTF-8 (check the terminal's or script's encoding)"
        ) from None
    if len(source) > MAX_TEXT:
        raise PlanParameterError(
            f"the plan text is {len(source)} characters long, more than {MAX_TEXT}; "
            f"allowed: {allowed}"
        )
    try:
        tree = ast.parse(source, mode="eval")
        return _call(source, tree, plans, devices, kind)
    except SyntaxError as exc:
        raise PlanParameterError(
            f"cannot parse {_short_text(source)}: {exc.msg}; allowed: {allowed}"
        ) from None
    except (RecursionError, MemoryError):
        raise PlanParameterError(
            f"cannot parse {_short_text(source)}: nested too deeply; allowed: {allowed}"
        ) from None


def _short_text(text: str) -> str:
    return repr(text) if len(text) <= 80 else repr(text[:60]) + f"... ({len(text)} characters)"


def _call(
    source: str, tree: ast.Expression, plans: set[str], devices: set[str], kind: str
) -> PlanCall:
    call = tree.body
    if not isinstance(call, ast.Call):
        raise _refuse(source, call, f"not a {kind} call", kind)
    if not isinstance(call.func, ast.Name):
        raise _refuse(
            source, call.func, f"the {kind} must be named directly (no attribute access)", kind
        )
    if call.func.id not in plans:
        known = "known" if kind == "plan" else "allowed here"
        raise PlanParameterError(
            f"unknown {kind} {call.func.id!r}{_suggest(call.func.id, plans)} "
            f"({known}: {', '.join(sorted(plans)) or 'none'}); allowed: {_ALLOWED_BY_KIND[kind]}"
        )
    converter = _Literal(source, devices, kind)
    args = []
    for arg in call.args:
        if isinstance(arg, ast.Starred):
            raise _refuse(source, arg, "starred arguments are not allowed", kind)
        args.append(converter.value(arg))
    kwargs = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise _refuse(source, kw.value, "**keyword unpacking is not allowed", kind)
        kwargs[kw.arg] = converter.value(kw.value)
    return PlanCall(call.func.id, tuple(args), kwargs)


class _Literal:
    def __init__(self, source: str, devices: set[str], kind: str) -> None:
        self.source, self.devices, self.kind = source, devices, kind

    def value(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(
            node.value, int | float | str | bool | type(None)
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
                    raise _refuse(self.source, elt, "starred items are not allowed", self.kind)
                items.append(self.value(elt))
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.Dict):
            out = {}
            for key, val in zip(node.keys, node.values, strict=True):
                if key is None:
                    raise _refuse(
                        self.source, val, "**unpacking in a dict is not allowed", self.kind
                    )
                if not (isinstance(key, ast.Constant) and isinstance(key.value, str | int | float)):
                    raise _refuse(
                        self.source, key, "dict keys must be strings or numbers", self.kind
                    )
                out[key.value] = self.value(val)
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
                self.kind,
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
            ast.Constant: "only numbers, strings, True, False and None are allowed",
        }
        for kind, why in kinds.items():
            if isinstance(node, kind):
                raise _refuse(self.source, node, why, self.kind)
        raise _refuse(
            self.source, node, f"{type(node).__name__} expressions are not allowed", self.kind
        )


@dataclass(frozen=True)
class PreparedPlan:
    """A plan call of a profile whose parameters have been checked.

    Calling it returns a fresh generator of the plan's messages (through
    :func:`~cielo.plans.profile_plan`: the profile's ``[supplemental]`` included), so it can
    be checked without hardware and then run.
    """

    env: Any = field(repr=False)
    name: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    #: the devices the call names, and the profile's supplemental ones: what must connect
    devices: Mapping[str, Any] = field(default_factory=dict)
    #: how the plan was given (the text, or a rendering of the call)
    text: str = ""
    resolve: Mapping[str, Any] | None = field(default=None, repr=False)
    #: the :class:`~cielo.plans.PlanSummary` of its dry run (``None`` if not checked);
    #: ``summary.partial`` says what a dry run stopped early left unchecked
    summary: Any = field(default=None, repr=False, compare=False)

    def __call__(self) -> Any:
        from ._from_profile import profile_plan

        return profile_plan(self.env, self.name, self.args, self.kwargs, devices=self.resolve)


def prepare_plan(
    env: Any,
    name: str,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    devices: Mapping[str, Any] | None = None,
    check: bool = True,
    connect: bool = True,
    text: str = "",
) -> PreparedPlan:
    """Everything a plan given by name and plain arguments (device names as strings) must
    pass before a run opens: the parameters bound, the devices it names connected, and
    the plan driven without hardware (:func:`check_plan`). Returns it, ready to call and run.

    :param devices: the devices names resolve against (default ``env.devices``).
    :param check: run :func:`check_plan` (``False``: only bind the parameters).
    :param connect: connect the devices first (``False``: no hardware is touched).
    :raises cielo.core.CieloError: naming the bad value and the fix; nothing has moved and
        no scan id was spent.
    """
    plan = env.plans.get(name)
    if plan is None:
        raise PlanParameterError(
            f"unknown plan {name!r}{_suggest(name, env.plans)}; plans of this profile: "
            f"{', '.join(sorted(env.plans))}"
        )
    resolve = env.devices if devices is None else devices
    bound = bind_parameters(plan, tuple(args), dict(kwargs or {}), resolve, what=f"plan {name!r}")
    ids = {id(dev) for dev in _devices_in((bound.args, bound.kwargs), resolve)}
    supplemental = getattr(env.profile, "supplemental", None) or {}
    names = {n for values in supplemental.values() for n in values}
    used = {n: d for n, d in env.devices.items() if id(d) in ids or n in names}
    prepared = PreparedPlan(env, name, tuple(args), dict(kwargs or {}), used, text or name, devices)
    if check:
        prepared = replace(prepared, summary=check_plan(prepared, connect=connect))
    return prepared


def prepare_plan_text(
    env: Any, text: str, *, check: bool = True, connect: bool = True
) -> PreparedPlan:
    """:func:`prepare_plan` for a plan call given as text (parsed by :func:`parse_plan_call`)."""
    call = parse_plan_call(text, env.plans, env.devices)
    return prepare_plan(
        env, call.plan, call.args, call.kwargs, check=check, connect=connect, text=text
    )


def _devices_in(value: Any, devices: Mapping[str, Any]) -> Iterator[Any]:
    known = {id(d) for d in devices.values()}
    stack = [value]
    while stack:
        item = stack.pop()
        if id(item) in known:
            yield item
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif hasattr(item, "by_key") and hasattr(item, "keys"):  # a Trajectory's motors
            stack.extend(item.keys)


def check_plan(plan: PreparedPlan, *, connect: bool = True, timeout: float | None = None) -> Any:
    """Check ``plan`` before it runs: its devices connect, and driven without hardware it
    is valid and every move is within the limits (as ``cielo plan check``).

    :param connect: connect the devices the call names first (``False``: no hardware).
    :param timeout: seconds to wait for them to connect (default: the devices' default).
    :returns: the :class:`~cielo.plans.PlanSummary` of the dry run.
    :raises cielo.core.ConnectionTimeoutError: listing every signal (PV) that did not connect.
    :raises cielo.core.LimitError: listing every move outside its limits.
    :raises PlanParameterError: when the plan fails in the dry run (naming why).
    """
    if connect and plan.devices:
        from cielo.devices import DEFAULT_TIMEOUT, connect_all

        connect_all(plan.devices, timeout=DEFAULT_TIMEOUT if timeout is None else timeout)
    return _dry_run(plan, plan.name, getattr(plan.env, "pm", None))


def _dry_run(factory: Callable[[], Any], name: str, plugin_manager: Any = None) -> Any:
    """Drive ``factory()`` without hardware through :func:`check_limits` (the commands of
    ``plugin_manager``'s plugins simulated too), turning any failure but a
    :class:`~cielo.core.CieloError` into a :class:`PlanParameterError`."""
    from ._tools import check_limits

    try:
        return check_limits(factory(), max_messages=DRY_RUN_MESSAGES, plugin_manager=plugin_manager)
    except CieloError:
        raise
    except (RecursionError, MemoryError) as exc:
        raise PlanParameterError(
            f"plan {name!r} is too large to check ({type(exc).__name__}); use fewer points"
        ) from None
    except Exception as exc:
        raise PlanParameterError(
            f"plan {name!r} cannot run with these parameters: {type(exc).__name__}: {exc}"
        ) from exc


def validated(plan: Callable[P, R]) -> Callable[P, R]:
    """Decorate a plan function so that a call from Python checks its arguments against
    its annotations at once (:func:`~cielo.core.bind_parameters`), before the plan is
    given to a RunEngine: ``scan(['det'], 'motor', -1, 1, 5)`` raises one
    :class:`PlanParameterError` naming the parameter and the fix, not a failure in the
    middle of an opened run. The plan gets the arguments as given.
    """
    what = f"plan {getattr(plan, '__name__', repr(plan))!r}"

    @functools.wraps(plan)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            bind_parameters(plan, args, kwargs, None, what=what)
        except PlanParameterError as exc:
            raise PlanParameterError(str(exc)) from None  # one line, no converter frames
        return plan(*args, **kwargs)

    return call


def checked(plan: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """``plan(*args, **kwargs)``, checked first as ``cielo plan check`` checks it.

    A generator can be driven only once, so this takes the plan *function* and its
    arguments: one copy of the plan is driven without hardware (every move against the
    motors' limits, the plan's validity), and a fresh copy is returned to run::

        RE(checked(scan, [det], motor, -1, 1, num=11))

    Devices are not connected here (they are, when the plan runs). A dry run stopped
    early (a plan longer than :data:`DRY_RUN_MESSAGES`) warns, saying what it left unchecked.

    :raises cielo.core.LimitError: listing every move outside its limits, with the
        message ``cielo plan check`` gives; nothing has moved and no run was opened.
    :raises PlanParameterError: when the plan fails in the dry run (naming why).
    """
    if not callable(plan) or inspect.isgenerator(plan):
        raise PlanParameterError(
            f"checked() takes a plan function and its arguments, got {_short_text(repr(plan))}; "
            "write checked(scan, [det], motor, -1, 1, num=11), not checked(scan(...))"
        )
    name = getattr(plan, "__name__", repr(plan))
    summary = _dry_run(lambda: plan(*args, **kwargs), name)
    if summary.truncated:
        warnings.warn(f"checked({name}): {summary.partial}", UserWarning, stacklevel=2)
    return plan(*args, **kwargs)
