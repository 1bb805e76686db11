"""Handler for fly scanning's ``collect``: events, event pages and stream assets from flyers."""

from __future__ import annotations

import logging
from typing import Any

from .._errors import IllegalMessageSequence
from .._msg import Msg
from ._commands import CommandContext, maybe_await
from ._composer import RunComposer

__all__ = ["FLY_HANDLERS", "collect_the_rest"]

logger = logging.getLogger("cielo.engine")


def _is_data_key(value: Any) -> bool:
    return isinstance(value, dict) and "dtype" in value and "shape" in value


def collect(ctx: CommandContext, msg: Msg) -> Any:
    composer = ctx.run(msg)
    objs = ctx.objects(msg)
    if not objs:
        raise ValueError("'collect' needs at least one object: Msg('collect', flyer)")
    if msg.kwargs.get("stream") is True:
        raise ValueError("collect(stream=True) is not supported; cielo emits event pages")
    pending = ctx.uncollected.get(composer.uid)
    if pending:
        pending[:] = [o for o in pending if not any(o is c for c in objs)]
    return _collect(
        ctx, composer, objs, msg.kwargs.get("name"), msg.kwargs.get("return_payload", True)
    )


async def _collect(
    ctx: CommandContext,
    composer: RunComposer,
    objs: list[Any],
    name: str | None,
    return_payload: bool,
) -> Any:
    if name is None:
        declared = [
            n for n, o in composer.declared.items() if set(map(id, o)) == set(map(id, objs))
        ]
        if len(declared) == 1:
            name = declared[0]
    if name is not None:
        if name not in composer.streams:
            raise IllegalMessageSequence(
                f"collect into stream {name!r}, which was not declared; send "
                f"Msg('declare_stream', None, *flyers, name={name!r}, collect=True) first"
            )
        return await _collect_declared(ctx, composer, objs, composer.streams[name], return_payload)
    if len(objs) > 1:
        raise IllegalMessageSequence(
            "collecting several objects at once needs a declared stream: send "
            "Msg('declare_stream', None, *flyers, name=..., collect=True) and collect(name=...)"
        )
    return await _collect_nested(ctx, composer, objs[0], return_payload)


async def _collect_declared(
    ctx: CommandContext, composer: RunComposer, objs: list[Any], stream: Any, return_payload: bool
) -> Any:
    index = None
    if len(objs) > 1:
        indices = [await maybe_await(ctx.call(o, "get_index", Msg("collect", o))) for o in objs]
        index = min(indices)
    assets = await _asset_docs(objs, index)
    events = await _partial_events(ctx, objs[0]) if len(objs) == 1 else []
    if assets:
        # stream_datum rows and the events of the same collect share sequence numbers
        composer.emit_assets(assets, stream, len(events) if events else None)
    if events:
        composer.emit_event_page(stream, events)
    return (events or []) if return_payload else None


async def _asset_docs(objs: list[Any], index: Any = None) -> list[tuple[str, dict[str, Any]]]:
    """What the objects' ``collect_asset_docs()`` yield (sync or async), in order."""
    assets: list[tuple[str, dict[str, Any]]] = []
    for obj in objs:
        cad = getattr(obj, "collect_asset_docs", None)
        if cad is None:
            continue
        docs = cad(index) if index is not None else cad()
        if hasattr(docs, "__aiter__"):
            assets.extend([d async for d in docs])
        else:
            assets.extend(await maybe_await(docs))
    return assets


async def _partial_events(ctx: CommandContext, obj: Any) -> list[dict[str, Any]]:
    if hasattr(obj, "collect_pages"):
        pages = await maybe_await(obj.collect_pages())
        events = []
        async for page in _aiter(pages):
            n = len(page["time"])
            for i in range(n):
                events.append(
                    {
                        "data": {k: v[i] for k, v in page["data"].items()},
                        "timestamps": {k: v[i] for k, v in page["timestamps"].items()},
                        "time": page["time"][i],
                    }
                )
        return events
    if hasattr(obj, "collect"):
        result = await maybe_await(ctx.call(obj, "collect", Msg("collect", obj)))
        return [ev async for ev in _aiter(result)]
    return []


async def _aiter(items: Any) -> Any:
    if items is None:
        return
    if hasattr(items, "__aiter__"):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


async def _collect_nested(
    ctx: CommandContext, composer: RunComposer, obj: Any, return_payload: bool
) -> Any:
    """Old-style flyers: ``describe_collect()`` gives ``{stream: data_keys}``; events name their keys."""
    described = await maybe_await(ctx.call(obj, "describe_collect", Msg("collect", obj)))
    if described and all(_is_data_key(v) for v in described.values()):
        raise IllegalMessageSequence(
            f"{getattr(obj, 'name', obj)!r}.describe_collect() returned flat data keys; declare "
            "the stream first: Msg('declare_stream', None, flyer, name=..., collect=True)"
        )
    _refuse_shared_keys(obj, described)
    from ._composer import ObjectInfo

    by_keys: dict[frozenset[str], Any] = {}
    config = await ctx.configuration(obj)  # as Bluesky: collected descriptors carry it too
    for stream_name, data_keys in described.items():
        stream = composer.streams.get(stream_name)
        if stream is None:
            info = ObjectInfo(obj, dict(data_keys), config)
            stream = composer.make_descriptor(stream_name, [info])
        by_keys[frozenset(data_keys)] = stream
    assets = await _asset_docs([obj])  # old-style flyers: resource/datum, before the events
    if assets:
        composer.emit_assets(assets, None, None)
    events = await _partial_events(ctx, obj)
    grouped: dict[Any, list[dict[str, Any]]] = {}
    for ev in events:
        stream = by_keys.get(frozenset(ev["data"]))
        if stream is None:
            raise ValueError(
                f"{getattr(obj, 'name', obj)!r}.collect() gave an event with keys "
                f"{sorted(ev['data'])}, which match no stream of describe_collect() "
                f"({ {n: sorted(k) for n, k in described.items()} })"
            )
        grouped.setdefault(stream, []).append(ev)
    for stream, evs in grouped.items():
        composer.emit_event_page(stream, evs)
    return events if return_payload else None


def _refuse_shared_keys(obj: Any, described: dict[str, Any]) -> None:
    """A data key belongs to one stream: Bluesky refuses the same key in two streams of one
    ``describe_collect()`` with this message, and so does cielo."""
    streams: dict[str, list[str]] = {}
    for stream_name, data_keys in described.items():
        for key in data_keys:
            streams.setdefault(key, []).append(stream_name)
    shared = {key: names for key, names in streams.items() if len(names) > 1}
    if shared:
        listed = "; ".join(f"{key!r} in {names}" for key, names in shared.items())
        raise RuntimeError(
            f"Can't use identical data keys in multiple streams: "
            f"{getattr(obj, 'name', obj)!r}.describe_collect() puts {listed}; give each "
            "stream its own data keys"
        )


async def collect_the_rest(ctx: CommandContext, composer: RunComposer, flyers: list[Any]) -> None:
    """Collect flyers kicked off in a run and never collected, as the run closes (as
    Bluesky); a failure is logged and the run still closes."""
    for flyer in flyers:
        try:
            await _collect(ctx, composer, [flyer], None, False)
        except Exception:
            logger.exception("collecting %r at the end of run %s failed", flyer, composer.uid)


FLY_HANDLERS = {"collect": collect}
