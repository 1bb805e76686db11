"""Fan-out of live messages (status, console lines, documents) to websocket clients.

Each subscriber has its own bounded queue; a subscriber that falls behind by more than
its queue holds is dropped (its connection is closed with the reason) rather than
slowing the manager or the others. A message is encoded as JSON once, however many
clients it goes to (20 status watchers cost one encoding per change, not 20).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from typing import Any

__all__ = ["Broadcast", "Subscription"]


class Subscription:
    """One client's feed: ``await get()`` the next message; ``dropped`` says why it ended."""

    def __init__(self, kind: str, size: int) -> None:
        self.kind = kind
        self.queue: asyncio.Queue[tuple[dict[str, Any], str]] = asyncio.Queue(maxsize=size)
        self.dropped: str | None = None

    async def get(self) -> dict[str, Any]:
        return (await self.queue.get())[0]

    async def next(self) -> tuple[dict[str, Any], str]:
        """The next message and its JSON text (encoded once for every subscriber)."""
        return await self.queue.get()


class Broadcast:
    """Subscriptions by kind (``"status"``, ``"console"``, ``"document"``), and the last
    console lines for clients that arrive later."""

    def __init__(self, *, size: int = 10_000, console_lines: int = 1_000) -> None:
        self.size = size
        self._subs: dict[str, set[Subscription]] = {}
        self.console: deque[dict[str, Any]] = deque(maxlen=console_lines)

    def wants(self, kind: str) -> bool:
        return bool(self._subs.get(kind))

    def subscribe(self, kind: str) -> Subscription:
        sub = Subscription(kind, self.size)
        self._subs.setdefault(kind, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.get(sub.kind, set()).discard(sub)

    def publish(self, kind: str, message: dict[str, Any]) -> None:
        if kind == "console":
            self.console.append(message)
        subs = self._subs.get(kind)
        if not subs:
            return
        item = (message, encode(message))
        for sub in list(subs):
            try:
                sub.queue.put_nowait(item)
            except asyncio.QueueFull:
                sub.dropped = f"the client fell more than {self.size} messages behind"
                self.unsubscribe(sub)
                sub.queue.get_nowait()  # make room for the end marker
                end = {"type": "dropped", "msg": sub.dropped}
                sub.queue.put_nowait((end, encode(end)))


def encode(message: dict[str, Any]) -> str:
    """``message`` as a websocket's JSON text (as Starlette's ``send_json`` writes it)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)
