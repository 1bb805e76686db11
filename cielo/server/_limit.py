"""The limit on request bodies, for bodies that say their length and for chunked ones.

A body whose ``Content-Length`` is over the limit is refused (413) before any of it is
read (the HTTP server then reads no more than that length). A body without one
(``Transfer-Encoding: chunked``) is read up to the limit before the app sees it, and
refused (413) as soon as it passes the limit; under it, the app receives it as sent.
The 413 names the limit and how to change it (``cielo serve --max-body BYTES``).
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

__all__ = ["BodyLimit", "replay"]


class BodyLimit:
    """Refuses HTTP request bodies over ``limit`` bytes (see the module)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    async def admit(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """The ``receive`` the app gets, or ``None`` once a 413 was sent."""
        length = _content_length(scope)
        if length is not None:
            if length > self.limit:
                await self._refuse(f"the body has {length} bytes", scope, receive, send)
                return None
            return receive
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":  # the client left
                return replay(messages, receive)
            size += len(message.get("body", b""))
            if size > self.limit:
                await self._refuse(f"the chunked body passed {size} bytes", scope, receive, send)
                return None
            if not message.get("more_body", False):
                return replay(messages, receive)

    async def _refuse(self, what: str, scope: Scope, receive: Receive, send: Send) -> None:
        msg = (
            f"{what}; the limit is {self.limit} bytes ({_size(self.limit)}); the server "
            "takes larger ones when started with cielo serve --max-body BYTES"
        )
        response = JSONResponse({"success": False, "msg": msg, "detail": msg}, status_code=413)
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    """The request's ``Content-Length``, or ``None`` (chunked, or no body)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP server refuses such a request first
    return None


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:g} {unit}"
    return f"{count} B"


def replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` giving ``messages`` first, then what ``receive`` gives."""
    pending = list(messages)

    async def again() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return again
