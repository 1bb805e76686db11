"""Handlers for runs and streams: open_run, close_run, declare_stream, create, read, save, drop,
monitor, unmonitor."""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

from .._errors import IllegalMessageSequence
from .._msg import Msg
from ._commands import (
    CommandContext,
    CoroutineType,
    call_soon_threadsafe,
    device_name,
    maybe_await,
)
from ._composer import RunComposer, new_uid
from ._handlers_fly import collect_the_rest
from ._offload import reads_block
from ._runmd import json_metadata

__all__ = ["DOC_HANDLERS"]


# -- runs ---------------------------------------------------------------------
def open_run(ctx: CommandContext, msg: Msg) -> Any:
    if msg.run in ctx.runs:
        raise IllegalMessageSequence(
            f"a run with run key {msg.run!r} is already open; close it first, or give nested "
            "runs distinct run keys (Msg(..., run=key))"
        )
    engine = ctx.engine
    md: dict[str, Any] = engine.md.copy()
    if ctx.plan_type is not None:  # as Bluesky: above RE.md, below the plan's and caller's
        md["plan_type"] = ctx.plan_type
    md.update(msg.kwargs)
    md.update(ctx.call_md)
    plan_name = md.get("plan_name") or ctx.plan_name
    hooks = engine.hooks
    if hooks is not None:
        extra = hooks.run_metadata(plan_name, dict(md))
        if extra:
            md = {**extra, **md}
        hooks.check_run_metadata(md)
    versions = dict(md.get("versions") or {})
    versions.update(engine.versions())
    md["versions"] = versions
    md.pop("uid", None)
    md.pop("time", None)
    if engine.md_validator is not None:
        engine.md_validator(dict(md))
    if engine.md_normalizer is not None:
        md = dict(engine.md_normalizer(copy.deepcopy(md)))
    md = json_metadata(md)  # refused before a scan_id is spent
    source = engine.scan_id_source
    if source is None:
        return _start(ctx, msg, md, engine.md.next_scan_id())
    scan_id = source(engine.md)
    if type(scan_id) is CoroutineType or hasattr(scan_id, "__await__"):
        return _start_later(ctx, msg, md, scan_id)
    return _start(ctx, msg, md, scan_id, store=True)


async def _start_later(ctx: CommandContext, msg: Msg, md: dict[str, Any], pending: Any) -> str:
    return _start(ctx, msg, md, await pending, store=True)


def _start(
    ctx: CommandContext, msg: Msg, md: dict[str, Any], scan_id: Any, store: bool = False
) -> str:
    if store:  # from RE.scan_id_source: kept in RE.md as Bluesky does
        ctx.engine.md["scan_id"] = scan_id
    md["scan_id"] = scan_id
    start = {"uid": new_uid(), "time": time.time(), **md}
    composer = RunComposer(start, ctx.emit)
    ctx.runs[msg.run] = composer
    ctx.run_uids.append(composer.uid)
    return composer.uid


def close_run(ctx: CommandContext, msg: Msg) -> Any:
    if ctx.uncollected:
        flyers = ctx.uncollected.pop(ctx.run(msg).uid, None)
        if flyers:
            return _collect_then_close(ctx, msg, flyers)
    if ctx.engine._errors_fail_runs:
        return _close_run_after_subscribers(ctx, msg)
    return _close_run(ctx, msg)


async def _collect_then_close(ctx: CommandContext, msg: Msg, flyers: list[Any]) -> str:
    await collect_the_rest(ctx, ctx.run(msg), flyers)
    result: str = await maybe_await(close_run(ctx, msg))
    return result


async def _close_run_after_subscribers(ctx: CommandContext, msg: Msg) -> str:
    """With fatal callback errors, wait for buffered subscribers before the stop document:
    an error they report on this run's documents fails the run instead of coming too late."""
    await ctx.loop.run_in_executor(None, ctx.engine.flush)
    runner = ctx.runner
    if runner.request == "fail" and runner.request_error is not None and not runner.request_thrown:
        runner.request_thrown = True
        raise runner.request_error
    return _close_run(ctx, msg)


def _close_run(ctx: CommandContext, msg: Msg) -> str:
    composer = ctx.run(msg)
    for obj in [o for o, (run_key, *_rest) in ctx.monitors.items() if run_key == msg.run]:
        _stop_monitor(ctx, obj)
    exit_status = msg.kwargs.get("exit_status") or "success"
    reason = msg.kwargs.get("reason") or ""
    runner = ctx.runner
    if not reason and exit_status != "success" and runner is not None and runner.request:
        reason = runner.request_reason  # e.g. run_decorator closing after RE.abort(reason)
    if exit_status not in ("success", "abort", "fail"):
        raise ValueError(
            f"close_run exit_status must be 'success', 'abort' or 'fail', got {exit_status!r}"
        )
    if composer.bundle_name is not None:
        composer.drop()
    del ctx.runs[msg.run if msg.run in ctx.runs else next(iter(ctx.runs))]
    composer.close(exit_status, reason)
    return composer.uid


# -- streams ------------------------------------------------------------------
def declare_stream(ctx: CommandContext, msg: Msg) -> Any:
    composer = ctx.run(msg)
    name = msg.kwargs.get("name")
    if not name:
        raise ValueError(
            "declare_stream needs name=STREAM_NAME, e.g. Msg('declare_stream', None, det, name='primary')"
        )
    objs = list(msg.args) if msg.obj is None else [msg.obj, *msg.args]
    collect = bool(msg.kwargs.get("collect", False))
    return _declare(ctx, composer, name, objs, collect)


async def _declare(
    ctx: CommandContext, composer: RunComposer, name: str, objs: list[Any], collect: bool
) -> str:
    infos = await ctx.describe(objs, collect=collect)
    if collect:
        for info in infos:
            if info.data_keys and all(
                isinstance(v, dict) and "dtype" not in v for v in info.data_keys.values()
            ):
                raise ValueError(
                    f"{info.name!r}.describe_collect() returned streams {list(info.data_keys)}; "
                    "declare_stream(collect=True) needs the flat form {data_key: DataKey}"
                )
    stream = composer.make_descriptor(name, infos)
    composer.declared[name] = tuple(objs)
    return stream.uid


def create(ctx: CommandContext, msg: Msg) -> None:
    name = msg.kwargs.get("name")
    if name is None:
        name = msg.args[0] if msg.args else "primary"
    ctx.run(msg).create(name)


def read(ctx: CommandContext, msg: Msg) -> Any:
    obj = msg.obj
    reading = ctx.call(obj, "read", msg)
    if type(reading) is not dict:
        if type(reading) is CoroutineType or hasattr(reading, "__await__"):
            return _read_async(ctx, msg, reading)
        _check_reading(obj, reading)
    composer = ctx.runs.get(msg.run)
    if composer is None:
        if not ctx.runs:
            return reading
        composer = ctx.run(msg)
    if composer.bundle_name is not None:
        composer.add_reading(obj, reading)
        assets = getattr(obj, "collect_asset_docs", None)
        if assets is not None:
            docs = assets()
            if hasattr(docs, "__aiter__"):
                return _assets_async(composer, docs, reading)
            composer.add_assets(docs)
    return reading


def _check_reading(obj: Any, reading: Any) -> None:
    """``read()`` returned nothing: a bug in the device, refused as Bluesky refuses it."""
    if reading is None:
        raise RuntimeError(
            f"{device_name(obj)}.read() returned None; read() must return a dict "
            "{data key: {'value': ..., 'timestamp': ...}} (an empty dict for nothing to read)"
        )


async def _read_async(ctx: CommandContext, msg: Msg, pending: Any) -> Any:
    try:
        reading = await pending
    except Exception as exc:
        ctx.note_failure(exc, msg.obj, "read")
        raise
    _check_reading(msg.obj, reading)
    composer = ctx.runs.get(msg.run) if ctx.runs else None
    if composer is None and ctx.runs:
        composer = ctx.run(msg)
    if composer is not None and composer.bundle_name is not None:
        composer.add_reading(msg.obj, reading)
        assets = getattr(msg.obj, "collect_asset_docs", None)
        if assets is not None:
            docs = assets()
            if hasattr(docs, "__aiter__"):
                composer.add_assets([d async for d in docs])
            else:
                composer.add_assets(await maybe_await(docs))
    return reading


async def _assets_async(composer: RunComposer, docs: Any, reading: Any) -> Any:
    composer.add_assets([d async for d in docs])
    return reading


def save(ctx: CommandContext, msg: Msg) -> Any:
    composer = ctx.run(msg)
    needs = composer.save_needs()
    if needs is None:
        composer.save()
        return None
    return _save_async(ctx, composer, needs)


async def _save_async(ctx: CommandContext, composer: RunComposer, objs: list[Any]) -> None:
    try:
        infos = await ctx.describe(objs)
    except Exception:
        if composer.bundle_name is not None:
            composer.drop()  # as Bluesky: the bundle is closed, the plan's cleanup may bundle
        raise
    composer.save(infos)


def drop(ctx: CommandContext, msg: Msg) -> None:
    ctx.run(msg).drop()


# -- monitors -----------------------------------------------------------------
def monitor(ctx: CommandContext, msg: Msg) -> Any:
    obj = msg.obj
    composer = ctx.run(msg)
    if obj in ctx.monitors:
        raise IllegalMessageSequence(f"{device_name(obj)} is already monitored; unmonitor it first")
    if not hasattr(obj, "subscribe"):
        raise TypeError(
            f"'monitor' needs an object with subscribe(), got {device_name(obj)} "
            f"(in {ctx.plan_label})"
        )
    name = msg.kwargs.get("name") or f"{getattr(obj, 'name', 'obj')}_monitor"
    return _start_monitor(ctx, msg, composer, obj, name)


async def _start_monitor(
    ctx: CommandContext, msg: Msg, composer: RunComposer, obj: Any, name: str
) -> None:
    infos = await ctx.describe([obj])
    stream = composer.make_descriptor(name, infos)
    loop = ctx.loop

    def _emit(reading: dict[str, Any]) -> None:
        if composer.closed or stream.name not in composer.streams:
            return
        seq = composer.seq[stream.name]
        composer.seq[stream.name] = seq + 1
        ctx.emit(
            "event",
            {
                "uid": new_uid(),
                "time": time.time(),
                "descriptor": stream.uid,
                "seq_num": seq,
                "data": {k: v["value"] for k, v in reading.items()},
                "timestamps": {k: v["timestamp"] for k, v in reading.items()},
                "filled": {},
            },
        )

    engine_thread = ctx.engine._thread
    blocking = reads_block(obj)

    def _on_update(*args: Any, **kwargs: Any) -> None:
        # ophyd-async passes the readings; ophyd passes value=..., so read the object,
        # unless a read waits on I/O (EPICS) and the update is the object's own value
        if args and isinstance(args[0], dict):
            reading = args[0]
        elif blocking and kwargs.get("obj") is obj and "timestamp" in kwargs:
            reading = {
                kwargs["obj"].name: {"value": kwargs["value"], "timestamp": kwargs["timestamp"]}
            }
        else:
            reading = obj.read()
        if not isinstance(reading, dict):
            return
        if threading.current_thread() is engine_thread:
            _emit(reading)
        else:
            call_soon_threadsafe(loop, _emit, reading)

    # events come only from the object's callbacks, as in Bluesky (a signal that sends its
    # current value on subscribing, as ophyd's and cielo's do, gives the first one); an
    # object whose reads wait on I/O subscribes in a worker thread (it reads that value)
    if blocking:
        try:
            token = await ctx.offloader.call_in_order(obj, obj.subscribe, (_on_update,), {})
        except Exception as exc:
            ctx.note_failure(exc, obj, "subscribe")
            raise
    else:
        token = obj.subscribe(_on_update)
    ctx.monitors[obj] = (msg.run, _on_update, token)


def unmonitor(ctx: CommandContext, msg: Msg) -> None:
    if msg.obj not in ctx.monitors:
        raise IllegalMessageSequence(f"{device_name(msg.obj)} is not monitored")
    _stop_monitor(ctx, msg.obj)


def _stop_monitor(ctx: CommandContext, obj: Any) -> None:
    _run_key, callback, token = ctx.monitors.pop(obj)
    clear = getattr(obj, "clear_sub", None)
    if clear is not None:
        clear(callback)
    elif hasattr(obj, "unsubscribe"):
        obj.unsubscribe(token)


def stop_all_monitors(ctx: CommandContext) -> None:
    for obj in list(ctx.monitors):
        try:
            _stop_monitor(ctx, obj)
        except Exception:  # cleanup must go on; the failure is logged by the caller
            ctx.monitors.pop(obj, None)
            raise


DOC_HANDLERS = {
    "open_run": open_run,
    "close_run": close_run,
    "declare_stream": declare_stream,
    "create": create,
    "read": read,
    "save": save,
    "drop": drop,
    "monitor": monitor,
    "unmonitor": unmonitor,
}
