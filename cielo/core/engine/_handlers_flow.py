"""Handlers for flow control and engine services: checkpoint, clear_checkpoint, rewindable,
pause, input, null, subscribe, unsubscribe, install_suspender, remove_suspender."""

from __future__ import annotations

from typing import Any

from .._errors import IllegalMessageSequence
from .._msg import Msg
from ._commands import CommandContext
from ._offload import reads_block

__all__ = ["FLOW_HANDLERS"]


def null(ctx: CommandContext, msg: Msg) -> None:
    return None


def checkpoint(ctx: CommandContext, msg: Msg) -> None:
    for composer in ctx.runs.values():
        if composer.bundle_name is not None:
            raise IllegalMessageSequence(
                f"'checkpoint' between 'create' and 'save' of stream {composer.bundle_name!r}; "
                "a checkpoint must come before 'create' or after 'save'"
            )
    ctx.runner.checkpoint()


def clear_checkpoint(ctx: CommandContext, msg: Msg) -> None:
    ctx.runner.msg_cache = None


def rewindable(ctx: CommandContext, msg: Msg) -> bool:
    value = msg.args[0] if msg.args else msg.kwargs.get("rewindable")
    if value is not None:
        ctx.rewindable = bool(value)
        if not value:
            ctx.runner.msg_cache = None
    return ctx.rewindable


def pause(ctx: CommandContext, msg: Msg) -> None:
    defer = msg.kwargs.get("defer", msg.args[0] if msg.args else False)
    ctx.runner.plan_pause(defer=bool(defer))


def input_(ctx: CommandContext, msg: Msg) -> Any:
    prompt = msg.kwargs.get("prompt", msg.args[0] if msg.args else "")
    return _input(ctx, str(prompt))


async def _input(ctx: CommandContext, prompt: str) -> str:
    return await ctx.loop.run_in_executor(None, input, prompt)


def subscribe(ctx: CommandContext, msg: Msg) -> int:
    # Bluesky's form: Msg('subscribe', None, callback, name) (name first is accepted too)
    args = list(msg.args)
    name = msg.kwargs.get("name", "all")
    func = msg.kwargs.get("func")
    for arg in args:
        if callable(arg):
            func = arg
        elif isinstance(arg, str):
            name = arg
    if func is None:
        raise TypeError(f"'subscribe' needs a callable callback(name, doc), got args {msg.args!r}")
    # in lock-step with the plan: a plan that subscribes (e.g. a fit through subs_wrapper)
    # reads what its callback computed right after the documents were emitted
    token = ctx.engine.subscribe(func, name, buffered=bool(msg.kwargs.get("buffered", False)))
    ctx.plan_subscriptions.append(token)
    return token


def unsubscribe(ctx: CommandContext, msg: Msg) -> None:
    token = msg.kwargs.get("token", msg.args[0] if msg.args else None)
    ctx.engine.unsubscribe(token)
    if token in ctx.plan_subscriptions:
        ctx.plan_subscriptions.remove(token)


def install_suspender(ctx: CommandContext, msg: Msg) -> Any:
    suspender = msg.args[0] if msg.args else msg.obj
    signal = getattr(suspender, "signal", None)
    if signal is not None and reads_block(signal):  # subscribing reads it (EPICS): a thread
        install = ctx.engine.install_suspender
        return ctx.offloader.call_in_order(signal, install, (suspender,), {})
    ctx.engine.install_suspender(suspender)  # stays installed after the plan, as in Bluesky
    return None


def remove_suspender(ctx: CommandContext, msg: Msg) -> None:
    suspender = msg.args[0] if msg.args else msg.obj
    ctx.engine.remove_suspender(suspender)
    if suspender in ctx.plan_suspenders:
        ctx.plan_suspenders.remove(suspender)


FLOW_HANDLERS = {
    "null": null,
    "checkpoint": checkpoint,
    "clear_checkpoint": clear_checkpoint,
    "rewindable": rewindable,
    "pause": pause,
    "input": input_,
    "subscribe": subscribe,
    "unsubscribe": unsubscribe,
    "install_suspender": install_suspender,
    "remove_suspender": remove_suspender,
}
