"""What ``RE(plan)`` returns, and the temporary subscriptions it accepts.

Two shapes, as Bluesky's RunEngine: by default a tuple of the run uids (:class:`RunResult`,
which also carries the outcome), or with ``RunEngine(call_returns_result=True)`` a
:class:`RunEngineResult` record (Bluesky's ``RunEngineResult`` fields).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .._errors import UnknownDocumentName
from ..documents import DOCUMENT_NAMES

__all__ = ["NO_PLAN_RETURN", "RunEngineResult", "RunResult", "temporary_subscriptions"]


class _NoPlanReturn:
    """The ``plan_result`` of a plan that did not return (aborted, stopped, halted)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_PLAN_RETURN"

    def __reduce__(self) -> str:
        return "NO_PLAN_RETURN"


NO_PLAN_RETURN: Any = _NoPlanReturn()


class RunResult(tuple):
    """The uids of the runs a plan opened (iterates as a tuple), plus the outcome.

    Attributes
    ----------
    plan_result
        The plan's return value (:data:`NO_PLAN_RETURN` if it did not return).
    exit_status
        ``"success"``, ``"abort"`` or ``"fail"``.
    reason
        Why the plan ended early (empty on success).
    interrupted
        True if the plan was aborted, stopped or halted.
    exception
        The exception that ended the plan, if any.
    """

    plan_result: Any
    exit_status: str
    reason: str
    interrupted: bool
    exception: BaseException | None

    def __new__(
        cls,
        uids: Iterable[str],
        plan_result: Any = None,
        exit_status: str = "success",
        reason: str = "",
        interrupted: bool = False,
        exception: BaseException | None = None,
    ) -> RunResult:
        self = super().__new__(cls, tuple(uids))
        self.plan_result = plan_result
        self.exit_status = exit_status
        self.reason = reason
        self.interrupted = interrupted
        self.exception = exception
        return self

    @property
    def run_start_uids(self) -> tuple[str, ...]:
        return tuple(self)

    def as_record(self) -> RunEngineResult:
        """The same outcome as a :class:`RunEngineResult`."""
        return RunEngineResult(
            tuple(self),
            self.plan_result,
            self.exit_status,
            self.interrupted,
            self.reason,
            self.exception,
        )

    def __repr__(self) -> str:
        return f"RunResult({tuple(self)!r}, exit_status={self.exit_status!r})"


@dataclasses.dataclass(frozen=True)
class RunEngineResult:
    """What ``RE(plan)`` returns with ``call_returns_result=True`` (Bluesky's fields)."""

    run_start_uids: tuple[str, ...]
    plan_result: Any
    exit_status: str
    interrupted: bool
    reason: str
    exception: BaseException | None


def temporary_subscriptions(subs: Any) -> list[tuple[str, Callable[..., Any]]]:
    """``(document name, callback)`` pairs for the ``subs`` argument of ``RE(plan, subs)``.

    ``subs`` is a callable (all documents), a list of callables, or a mapping of document
    name (or ``"all"``) to a callable or a list of callables.
    """
    if subs is None:
        return []
    if isinstance(subs, Mapping):
        pairs = []
        for name, funcs in subs.items():
            if name != "all" and name not in DOCUMENT_NAMES:
                raise UnknownDocumentName(
                    f"RE(plan, subs): unknown document name {name!r}; use 'all' or one of "
                    f"{sorted(DOCUMENT_NAMES)}"
                )
            for func in _callables(funcs, f"subs[{name!r}]"):
                pairs.append((str(name), func))
        return pairs
    return [("all", func) for func in _callables(subs, "subs")]


def _callables(funcs: Any, where: str) -> list[Callable[..., Any]]:
    items = [funcs] if callable(funcs) else funcs
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise TypeError(
            f"RE(plan, subs): {where} must be a callable func(name, doc) or a list of them, "
            f"got {funcs!r}"
        )
    items = list(items)
    for func in items:
        if not callable(func):
            raise TypeError(
                f"RE(plan, subs): {where} holds {func!r}, which is not callable; give "
                "functions func(name, doc)"
            )
    return items
