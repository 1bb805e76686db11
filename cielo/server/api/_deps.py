"""What every route depends on: :func:`allow` gives a route the manager and the caller,
refusing callers without the route's scopes (401 without a valid key, 403 without a
scope); :func:`ok` is every successful reply."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import HTTPException, Request, Security, WebSocket
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader, SecurityScopes

from .._access import ALL_SCOPES, AccessError, Gate, Principal
from .._manager import Manager
from .._store import Item, QueueStore

__all__ = [
    "ALL_SCOPES",
    "KEY_SUBPROTOCOL",
    "Call",
    "Principal",
    "allow",
    "authenticated",
    "get_manager",
    "identify_websocket",
    "ok",
    "reply",
    "reply_with",
]

T = TypeVar("T")

_header = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    description="'ApiKey <key>' (the key of $CIELO_SERVER_API_KEY, or a key of the server)",
)


@dataclass(frozen=True)
class Call:
    """A request let in: the manager and who asked."""

    manager: Manager
    who: Principal

    def check_item(self, raw: Any, *, keep_uid: bool = False) -> Item:
        """``raw`` as a queue item of the caller, checked against the plan's parameters
        and the caller's group permissions (a refusal names the parameter or the rule)."""
        return self.manager.check_item(raw, self.who.name, self.who.group, keep_uid=keep_uid)

    async def io(self, work: Callable[[QueueStore], T]) -> T:
        """``work(store)`` (in a thread if the store waits on a network: see
        :meth:`Manager.io`)."""
        return await self.manager.io(work)

    async def own(self, items: Callable[[QueueStore], Iterable[Item]]) -> None:
        """Refuse (403) editing items (``items(store)``) another user submitted, unless an
        admin asks (then ``items`` is not called)."""
        if "write:queue:edit:any" in self.who.scopes:
            return
        for item in await self.manager.io(lambda store: list(items(store))):
            if item.get("user") not in (None, self.who.name):
                raise AccessError(
                    f"item {item.get('item_uid')!r} was submitted by {item.get('user')!r}; "
                    f"{self.who.name!r} may edit only their own items (an admin may edit any)"
                )


def _refuse(exc: AccessError) -> HTTPException:
    return HTTPException(exc.status, detail=str(exc))


async def _call(
    security_scopes: SecurityScopes, request: Request, header: str | None = Security(_header)
) -> Call:
    gate: Gate = request.app.state.gate
    try:
        who = await gate.identify_async(header)
        who.require(security_scopes.scopes)
    except AccessError as exc:
        raise _refuse(exc) from None
    return Call(request.app.state.manager, who)


def allow(*scopes: str) -> Any:
    """A route's parameter (``call: Call = allow("write:queue:edit")``): the manager and
    the caller, who must hold every one of ``scopes``."""
    return Security(_call, scopes=list(scopes))


async def authenticated(
    security_scopes: SecurityScopes, request: Request, header: str | None = Security(_header)
) -> Principal:
    """The caller only (``Security(authenticated, scopes=[...])``), for routes that do not
    need the manager."""
    return (await _call(security_scopes, request, header)).who


async def get_manager(request: Request) -> Manager:
    manager: Manager = request.app.state.manager
    return manager


#: The websocket subprotocol a browser offers, beside ``cielo.apikey.<key>`` (its key: a
#: browser cannot set a websocket's headers, and a URL's query ends up in logs).
KEY_SUBPROTOCOL = "cielo"


async def identify_websocket(websocket: WebSocket, scope: str) -> Principal:
    """The caller of a websocket (the ``Authorization`` header, else the subprotocol
    ``cielo.apikey.<key>``, else ``?api_key=``), who must hold ``scope``;
    :class:`AccessError` if not."""
    header = websocket.headers.get("authorization")
    offered = websocket.scope.get("subprotocols") or []
    prefix = KEY_SUBPROTOCOL + ".apikey."
    key = next((p[len(prefix) :] for p in offered if p.startswith(prefix)), None)
    key = key or websocket.query_params.get("api_key")
    gate: Gate = websocket.app.state.gate
    who = await gate.identify_async(header or (f"ApiKey {key}" if key else None))
    who.require([scope])
    return who


def ok(**fields: Any) -> Any:
    """A successful reply: ``{"success": true, "msg": "", **fields}``."""
    return reply(**{"success": True, "msg": "", **fields})


def reply(**fields: Any) -> Any:
    """``fields`` as the JSON response, written as is: the routes' replies are plain
    JSON already, so FastAPI's validation of them against the response model (kept for
    the OpenAPI document) would only copy them (it cost 0.4 s for a 10,000-item queue)."""
    return _Reply(fields)


def reply_with(raw: dict[str, str], **fields: Any) -> Any:
    """A successful reply whose ``raw`` fields are JSON texts already (stored items),
    spliced in without decoding and encoding them again."""
    text = json.dumps({"success": True, "msg": "", **fields}, separators=(",", ":"))
    spliced = "".join(f',"{name}":{value}' for name, value in raw.items())
    return Response(text[:-1] + spliced + "}", media_type="application/json")


class _Reply(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":"), allow_nan=False).encode()
