"""One ``send()`` per response: uvicorn's writes of a response (status line and headers,
then the body) made in one loop step leave as one write of the real transport, in order;
a close sends what is pending first. Over a real socket pair and a real event loop; the
whole HTTP and websocket suites run ``cielo serve`` with this protocol."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from cielo.server import JoinedWritesProtocol


class _Counted(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport


def _writes_of(transport: Any) -> list[bytes]:
    """Record what reaches the real transport's ``write`` (and pass it on)."""
    seen: list[bytes] = []
    real_write = transport.write

    def write(data: bytes) -> None:
        seen.append(bytes(data))
        real_write(data)

    transport.write = write
    return seen


def test_writes_of_one_step_leave_as_one_in_order_and_close_flushes() -> None:
    async def main() -> tuple[list[bytes], bytes]:
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        theirs.setblocking(False)
        transport, proto = await loop.create_connection(_Counted, sock=ours)
        seen = _writes_of(transport)
        joined = JoinedWritesProtocol.transport_class(transport, loop)  # type: ignore[arg-type]
        joined.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        joined.write(b"{}")
        assert seen == [] and joined.get_write_buffer_size() > 0  # nothing sent yet
        await asyncio.sleep(0)  # the end of the step
        await asyncio.sleep(0)
        assert seen == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
        big = b"x" * (64 * 1024)
        joined.write(big)  # a large body is written at once (flow control acts on it)
        assert seen[-1] == big
        joined.write(b"last")
        joined.close()  # sends the pending bytes before closing
        await asyncio.sleep(0.05)
        received = b""
        while True:
            try:
                chunk = await loop.sock_recv(theirs, 4096)
            except BlockingIOError:
                break
            if not chunk:
                break
            received += chunk
        theirs.close()
        return seen, received

    seen, received = asyncio.run(main())
    assert seen[-1] == b"last"
    assert received == b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}" + b"x" * 65536 + b"last"
