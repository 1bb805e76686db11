"""uvicorn's HTTP protocol with a response's writes joined: one ``send()`` per response.

uvicorn writes a response's status line and headers, then its body, as two writes of the
connection's transport, so every answer costs two system calls and two TCP segments, and
the client may be woken twice. Here the writes made in one step of the event loop are
joined and sent when the response is complete (a route sends its start and its body in
one step), so a small answer is one segment, sent in the step that made it; writes of a
response still in progress (a stream) go out at the end of the loop step. Once 64 KiB are pending they are written at once, so a
large or streamed body meets the transport's flow control as before; closing the
connection sends what is pending first.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["JoinedWritesProtocol"]

#: pending bytes written at once (the transport then applies its flow control)
_AT_ONCE = 64 * 1024


class _JoinedWrites:
    """A transport whose ``write``\\ s in one loop step go out as one."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))
        self._size += len(data)
        if self._size >= _AT_ONCE:  # a large body: written now, so flow control acts
            self.flush()

    def flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            self._size = 0
            if not self._transport.is_closing():
                self._transport.write(data)

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._size = 0
        self._transport.abort()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, pause_reading...
        return getattr(self._transport, name)


class JoinedWritesProtocol(HttpToolsProtocol):
    """``uvicorn.Config(http=JoinedWritesProtocol)``: httptools, one write per response."""

    #: what wraps the connection's transport
    transport_class = _JoinedWrites

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = self.transport_class(transport, self.loop)  # type: ignore[assignment]

    def on_response_complete(self) -> None:
        # the answer goes out now, not one loop step later (a step costs ~15 us)
        self.transport.flush()  # type: ignore[attr-defined]
        super().on_response_complete()
