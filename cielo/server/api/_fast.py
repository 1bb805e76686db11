"""A short way through the HTTP stack for the API's plain routes.

FastAPI spends about 0.2-0.4 ms of CPU per request before and after a route's own work
(matching ~60 routes through nested routers, solving the security dependencies,
validating the body through its field wrappers), two to five times what adding an item
costs; its middleware (errors, telemetry, body limits) about 30 us more.
:class:`FastRoutes` serves, ahead of all of it (:class:`FastAPIWithFastRoutes` calls it
first), every route whose endpoint is
``(body: Model, call: Call = allow(...))`` with a literal path (status, queue, items,
history...), found by reading the routes FastAPI has, so a new route of that shape is
served here too. A request is answered here only if everything FastAPI would check
passes: the key and its scopes (:meth:`Gate.identify_async`), the content type, the JSON
and the same pydantic model. Anything else goes to FastAPI untouched, which gives its
usual answer (401, 403, 422); nothing has run by then. A refusal raised by the
route (:class:`QueueError`) gets the app's own exception handler's answer. While
FastAPI's OpenTelemetry support is configured when the first request comes, every
request goes through FastAPI (so every request is traced). Ahead of both, the app's
:class:`~cielo.server._limit.BodyLimit` refuses bodies over the limit (413).
"""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.params import Body, Security
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette import types
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from .._access import AccessError
from .._limit import BodyLimit, replay
from ._deps import Call, allow

__all__ = ["FastAPIWithFastRoutes", "FastRoutes", "plain_routes"]

Scope = types.Scope
Receive = types.Receive
Send = types.Send


@dataclass(frozen=True)
class _Route:
    endpoint: Callable[..., Awaitable[Any]]
    scopes: tuple[str, ...]
    model: type[BaseModel] | None  # None: the endpoint takes no body
    default: Callable[[], BaseModel] | None  # None: the body is required


class FastAPIWithFastRoutes(FastAPI):
    """A FastAPI app whose :attr:`body_limit` (if set) judges every HTTP request's body
    first, then its :attr:`fast_routes` (if set) sees the request."""

    fast_routes: FastRoutes | None = None
    body_limit: BodyLimit | None = None
    _traced: bool | None = None  # known at the first request

    async def __call__(self, scope: types.Scope, receive: types.Receive, send: types.Send) -> None:
        if scope["type"] == "http" and self.body_limit is not None:
            admitted = await self.body_limit.admit(scope, receive, send)
            if admitted is None:  # refused: 413 sent
                return
            receive = admitted
        fast = self.fast_routes
        if fast is not None and scope["type"] == "http":
            if self._traced is None:
                self._traced = _traced(self)
            if not self._traced:
                await fast(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def _traced(app: FastAPI) -> bool:
    """Whether FastAPI's own OpenTelemetry support (FastAPI >= 0.165) is configured
    (asked once: it reads three environment variables, 5 us a request)."""
    telemetry = getattr(app, "_native_telemetry", None)
    return telemetry is not None and bool(telemetry.enabled())


class FastRoutes:
    """Serves the plain routes of ``api`` without FastAPI's per-request machinery (see
    the module); other requests go to ``app``."""

    def __init__(self, app: Any, api: FastAPI, routers: Sequence[APIRouter]) -> None:
        self.app = app
        self.api = api
        self.routers = routers  # included in ``api`` without a prefix
        self._routes: dict[tuple[str, str], _Route] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self._routes is None:
                self._routes = plain_routes(r for router in self.routers for r in router.routes)
            route = self._routes.get((scope["method"], scope["path"]))
            if route is not None:
                messages = await _read(receive)
                body = b"".join(m.get("body", b"") for m in messages)
                done = messages[-1]["type"] == "http.request"  # not a disconnect
                if done and await self._serve(route, scope, body, receive, send):
                    return
                receive = replay(messages, receive)
        await self.app(scope, receive, send)

    async def _serve(
        self, route: _Route, scope: Scope, body: bytes, receive: Receive, send: Send
    ) -> bool:
        """Answer the request; ``False`` (nothing done) when FastAPI should answer it."""
        headers = dict(scope["headers"])
        try:
            who = await self.api.state.gate.identify_async(
                headers.get(b"authorization", b"").decode("latin-1") or None
            )
            who.require(route.scopes)
            args = _arguments(route, body, headers.get(b"content-type"))
        except (AccessError, ValidationError, ValueError):
            return False
        if args is None:
            return False
        call = Call(self.api.state.manager, who)
        try:
            result = await route.endpoint(*args, call=call)
        except Exception as exc:
            handler = _handler(self.api, exc)
            if handler is None:
                raise
            result = await handler(Request(scope), exc)
        if not isinstance(result, Response):
            result = JSONResponse(jsonable_encoder(result))
        await result(scope, receive, send)
        return True


def _arguments(route: _Route, body: bytes, content_type: bytes | None) -> tuple[Any, ...] | None:
    """The endpoint's positional arguments from the body as FastAPI reads it (JSON only
    when it says so), or ``None`` when FastAPI should judge the body."""
    if route.model is None:
        return ()
    if not body:
        return None if route.default is None else (route.default(),)
    if content_type is None:
        return None  # FastAPI refuses it, naming why
    mime = content_type.split(b";")[0].strip().lower()
    if not (
        mime == b"application/json"
        or (mime.startswith(b"application/") and mime.endswith(b"+json"))
    ):
        return None
    return (route.model.model_validate(json.loads(body)),)


def plain_routes(routes: Iterable[BaseRoute]) -> dict[tuple[str, str], _Route]:
    """Those of ``routes`` with a literal path whose endpoint takes only ``call``
    (``allow(...)``) and at most a ``body`` model, by ``(method, path)``."""
    dependency = allow().dependency  # what a plain route's ``call`` depends on
    found: dict[tuple[str, str], _Route] = {}
    for route in routes:
        if not isinstance(route, APIRoute) or "{" in route.path:
            continue
        if not inspect.iscoroutinefunction(route.endpoint):  # FastAPI runs it in a thread
            continue
        params = inspect.signature(route.endpoint).parameters
        call = params.get("call")
        if call is None or set(params) - {"call", "body"}:
            continue
        if not isinstance(call.default, Security) or call.default.dependency is not dependency:
            continue
        model: type[BaseModel] | None = None
        default: Callable[[], BaseModel] | None = None
        if "body" in params:
            try:
                hint = typing.get_type_hints(route.endpoint).get("body")
            except (NameError, TypeError):  # an annotation it cannot resolve: FastAPI's
                continue
            if not (isinstance(hint, type) and issubclass(hint, BaseModel)):
                continue
            model = hint
            given = params["body"].default
            if isinstance(given, Body):
                factory = given.default_factory
                if factory is None:
                    continue
                default = factory  # type: ignore[assignment]
            elif given is not inspect.Parameter.empty:
                continue
        entry = _Route(route.endpoint, tuple(call.default.scopes or ()), model, default)
        for method in route.methods or ():
            found.setdefault((method, route.path), entry)
    return found


def _handler(api: FastAPI, exc: Exception) -> Any:
    for kind in type(exc).__mro__:
        handler = api.exception_handlers.get(kind)
        if handler is not None:
            return handler
    return None


async def _read(receive: Receive) -> list[types.Message]:
    """The request's messages up to its last body part (or the client's leaving)."""
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages
