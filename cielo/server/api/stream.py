"""Live feeds over websockets: ``/api/status/ws``, ``/api/console_output/ws``,
``/api/documents/ws``; and the last console lines by request.

A websocket sends the key as the ``Authorization: ApiKey <key>`` header; a browser,
which cannot set headers on a websocket, offers the subprotocols ``cielo`` and
``cielo.apikey.<key>`` (the server answers ``cielo``: the key stays out of URLs and
logs); ``?api_key=<key>`` is still read, for older clients. The status feed
sends the status at once and then on every change, so a client waits without polling.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, Body, WebSocket
from starlette.websockets import WebSocketDisconnect

from .._access import AccessError
from .._broadcast import Subscription
from .._manager import Manager
from ._deps import KEY_SUBPROTOCOL, Call, allow, identify_websocket, ok
from ._models import Empty, Reply

router = APIRouter(prefix="/api", tags=["live feeds"])


async def _feed(websocket: WebSocket, kind: str, scope: str) -> None:
    manager: Manager = websocket.app.state.manager
    # A browser that offered subprotocols fails the connection unless one is chosen.
    offered = websocket.scope.get("subprotocols") or []
    chosen = KEY_SUBPROTOCOL if KEY_SUBPROTOCOL in offered else None
    try:
        await identify_websocket(websocket, scope)
    except AccessError as exc:  # accepted, then closed with the reason the client can read
        await websocket.accept(subprotocol=chosen)
        await websocket.close(code=4401 if exc.status == 401 else 4403, reason=str(exc))
        return
    await websocket.accept(subprotocol=chosen)
    sub = manager.feeds.subscribe(kind)
    # Sending and listening race: a client that leaves (or a server shutting down, which
    # closes every connection) ends the feed at once, even when nothing is being sent.
    sending = asyncio.create_task(_send(websocket, manager, sub))
    listening = asyncio.create_task(_until_disconnect(websocket))
    try:
        await asyncio.wait((sending, listening), return_when=asyncio.FIRST_COMPLETED)
    finally:
        manager.feeds.unsubscribe(sub)
        for task in (sending, listening):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        with contextlib.suppress(Exception):
            await websocket.close()


async def _send(websocket: WebSocket, manager: Manager, sub: Subscription) -> None:
    try:
        if sub.kind == "status":  # read now: with no watcher, no push kept the summary current
            await websocket.send_json(await manager.fresh_status())
        elif sub.kind == "console":
            for line in list(manager.feeds.console):
                await websocket.send_json(line)
        for text in sub.backlog:  # the latest run's documents so far
            await websocket.send_text(text)
        while True:
            message, text = await sub.next()  # encoded once for every client
            await websocket.send_text(text)
            if message.get("type") == "dropped":
                await websocket.close(code=1013, reason=str(message.get("msg")))
                return
    except (WebSocketDisconnect, RuntimeError):  # RuntimeError: sending after the close
        return


async def _until_disconnect(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends until it disconnects."""
    while True:
        try:
            message = await websocket.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if message.get("type") == "websocket.disconnect":
            return


@router.websocket("/status/ws")
async def status_ws(websocket: WebSocket) -> None:
    """The status, at once and after every change."""
    await _feed(websocket, "status", "read:status")


@router.websocket("/console_output/ws")
async def console_ws(websocket: WebSocket) -> None:
    """What the worker prints: ``{"time": ..., "msg": line}``, the last lines first."""
    await _feed(websocket, "console", "read:console")


@router.websocket("/documents/ws")
async def documents_ws(websocket: WebSocket) -> None:
    """Every document of the running plan: ``{"name": ..., "doc": ...}``, the latest run's
    so far first (a client that arrives mid-scan draws it)."""
    await _feed(websocket, "document", "read:status")


class ConsoleRequest(Empty):
    nlines: int = 200


@router.get("/console_output", response_model=Reply)
async def console_output(
    body: ConsoleRequest = Body(default_factory=ConsoleRequest),
    call: Call = allow("read:console"),
) -> dict[str, Any]:
    """The last ``nlines`` lines the worker printed, as one text."""
    lines = list(call.manager.feeds.console)[-max(body.nlines, 0) :] if body.nlines else []
    return ok(text="\n".join(str(m.get("msg")) for m in lines))
