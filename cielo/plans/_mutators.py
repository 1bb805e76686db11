"""Rewriting plans on the fly: the machinery every preprocessor is built on.

A preprocessor has one shape in cielo: a plain function ``x_wrapper(plan, ...)`` that
takes a plan and returns a new one. :func:`make_decorator` turns any of them into a
decorator for functions that return plans, so there is no second spelling of each.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator
from typing import Any, TypeAlias

from cielo.core import Msg

from ._composites import ensure_generator
from ._stubs import MsgGenerator

__all__ = ["plan_mutator", "msg_mutator", "make_decorator", "pchain", "single_gen", "MsgProc"]

#: ``msg_proc(msg) -> (head, tail)``: see :func:`plan_mutator`.
MsgProc: TypeAlias = Callable[[Msg], "tuple[Any, Any] | None"]


class _State:
    __slots__ = ("active", "last")

    def __init__(self) -> None:
        self.active: set[int] = set()
        self.last: Any = None


def plan_mutator(plan: Any, msg_proc: MsgProc) -> MsgGenerator:
    """Replace messages of ``plan`` by plans, or insert plans after them.

    Parameters
    ----------
    plan
        A generator (or list) of messages.
    msg_proc
        Called with each message; returns ``(head, tail)``:

        - ``(None, None)``: the message passes unchanged;
        - ``(head, None)``: the plan ``head`` runs *instead of* the message; the
          answer to the last message of ``head`` is sent back to ``plan``;
        - ``(None, tail)``: the message passes, then ``tail`` runs;
        - ``(head, tail)``: both.

        Messages of ``head`` and ``tail`` are processed by ``msg_proc`` too, except
        the very message being replaced (so ``head`` may yield it again).

    Returns
    -------
    Any
        The return value of ``plan``.

    Examples
    --------
    >>> def double_sleep(msg):
    ...     if msg.command == "sleep":
    ...         return (single_gen(msg), single_gen(msg))
    ...     return None, None
    >>> [m.command for m in plan_mutator([Msg("sleep", None, 1)], double_sleep)]
    ['sleep', 'sleep']
    """
    return (yield from _mutate(ensure_generator(plan), msg_proc, _State()))


def _mutate(gen: MsgGenerator, msg_proc: MsgProc, state: _State) -> MsgGenerator:
    def step(msg: Msg) -> MsgGenerator:
        owned = id(msg) not in state.active
        head, tail = (msg_proc(msg) or (None, None)) if owned else (None, None)
        if owned:
            state.active.add(id(msg))
        return replace(msg, head, tail, owned)

    def replace(msg: Msg, head: Any, tail: Any, owned: bool) -> MsgGenerator:
        try:
            if head is None:
                reply = yield msg
                state.last = reply
            else:
                state.last = None
                yield from _mutate(ensure_generator(head), msg_proc, state)
                reply = state.last
            if tail is not None:
                yield from _mutate(ensure_generator(tail), msg_proc, state)
            return reply
        finally:
            if owned:
                state.active.discard(id(msg))

    return (yield from _drive(gen, step))


def msg_mutator(plan: Any, msg_proc: Callable[[Msg], Msg | None]) -> MsgGenerator:
    """Apply ``msg_proc`` to each message of ``plan``: return a message, or ``None`` to drop it.

    Examples
    --------
    >>> slow = msg_mutator([Msg("sleep", None, 1)], lambda m: m._replace(args=(2,)))
    >>> next(slow).args
    (2,)
    """

    def passed(new: Msg | None) -> MsgGenerator:
        return None if new is None else (yield new)

    return (yield from _drive(ensure_generator(plan), lambda msg: passed(msg_proc(msg))))


def _drive(gen: MsgGenerator, step: Callable[[Msg], MsgGenerator]) -> MsgGenerator:
    """Run ``gen``, each message through ``step(msg)``: a plan whose return value is the
    reply ``gen`` gets. What is thrown into ``step`` is thrown into ``gen``; closing
    closes ``gen``. Returns ``gen``'s return value. ``step`` itself is called outside
    this (an error of the message processor propagates, as from the plan)."""
    reply: Any = None
    error: BaseException | None = None
    while True:
        try:
            msg = gen.throw(error) if error is not None else gen.send(reply)
        except StopIteration as stop:
            return stop.value
        error = None
        stepping = step(msg)
        try:
            reply = yield from stepping
        except GeneratorExit:
            gen.close()
            raise
        except BaseException as exc:
            error = exc


def make_decorator(
    wrapper: Callable[..., MsgGenerator],
) -> Callable[..., Callable[[Callable[..., Any]], Callable[..., MsgGenerator]]]:
    """Turn ``wrapper(plan, *args, **kwargs)`` into a decorator factory.

    Examples
    --------
    >>> from cielo.plans import run_wrapper
    >>> run = make_decorator(run_wrapper)
    >>> @run(md={"sample": "Fe"})
    ... def my_plan():
    ...     yield Msg("null")
    >>> [m.command for m in my_plan()]
    ['open_run', 'null', 'close_run']
    """

    def decorator_factory(
        *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., MsgGenerator]]:
        def decorator(plan_function: Callable[..., Any]) -> Callable[..., MsgGenerator]:
            @functools.wraps(plan_function)
            def wrapped(*a: Any, **k: Any) -> MsgGenerator:
                return wrapper(plan_function(*a, **k), *args, **kwargs)

            return wrapped

        return decorator

    return decorator_factory


def pchain(*plans: Any) -> MsgGenerator:
    """Run plans one after another; return their return values as a list."""
    results = []
    for plan in plans:
        results.append((yield from ensure_generator(plan)))
    return results


def single_gen(msg: Msg) -> Generator[Msg, Any, Any]:
    """A plan of one message, returning the answer to it."""
    return (yield msg)
