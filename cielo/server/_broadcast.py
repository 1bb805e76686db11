"""Fan-out of live messages (status, console lines, documents) to websocket clients.

Each subscriber has its own bounded queue; a subscriber that falls behind by more than
its queue holds is dropped (its connection is closed with the reason) rather than
slowing the manager or the others. A message is encoded as JSON once, however many
clients it goes to (20 status watchers cost one encoding per change, not 20).

A document subscriber first gets the latest run so far (its start, descriptors, the last
:data:`REPLAY_EVENTS` of its other documents and its stop once it has ended), so a page
opened mid-scan draws the scan, not only the next one.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from typing import Any

__all__ = ["REPLAY_EVENTS", "Broadcast", "Subscription"]

#: The most documents (events, pages, data) of the latest run kept for late subscribers.
REPLAY_EVENTS = 10_000
_HEAD = ("start", "descriptor")


class Subscription:
    """One client's feed: ``await get()`` the next message; ``dropped`` says why it ended."""

    def __init__(self, kind: str, size: int) -> None:
        self.kind = kind
        self.queue: asyncio.Queue[tuple[dict[str, Any], str]] = asyncio.Queue(maxsize=size)
        self.dropped: str | None = None
        #: what was published before it subscribed, to send first (JSON texts, in order)
        self.backlog: list[str] = []

    async def get(self) -> dict[str, Any]:
        return (await self.queue.get())[0]

    async def next(self) -> tuple[dict[str, Any], str]:
        """The next message and its JSON text (encoded once for every subscriber)."""
        return await self.queue.get()


class Broadcast:
    """Subscriptions by kind (``"status"``, ``"console"``, ``"document"``), and the last
    console lines for clients that arrive later."""

    def __init__(
        self, *, size: int = 10_000, console_lines: int = 1_000, replay: int = REPLAY_EVENTS
    ) -> None:
        self.size = size
        self._subs: dict[str, set[Subscription]] = {}
        self.console: deque[dict[str, Any]] = deque(maxlen=console_lines)
        # The latest run's documents, as JSON texts: start and descriptors, the rest
        # (bounded), the stop.
        self._head: list[str] = []
        self._rest: deque[str] = deque(maxlen=replay)
        self._stop: list[str] = []

    def wants(self, kind: str) -> bool:
        return bool(self._subs.get(kind))

    def subscribe(self, kind: str) -> Subscription:
        sub = Subscription(kind, self.size)
        if kind == "document":  # taken here, so nothing is sent twice or missed
            sub.backlog = [*self._head, *self._rest, *self._stop]
        self._subs.setdefault(kind, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.get(sub.kind, set()).discard(sub)

    def publish(self, kind: str, message: dict[str, Any]) -> None:
        if kind == "console":
            self.console.append(message)
        subs = self._subs.get(kind)
        if kind == "document":  # kept for clients that come later, watched or not
            text = encode(message)
            self._remember(str(message.get("name")), text)
        if not subs:
            return
        item = (message, text if kind == "document" else encode(message))
        for sub in list(subs):
            try:
                sub.queue.put_nowait(item)
            except asyncio.QueueFull:
                sub.dropped = f"the client fell more than {self.size} messages behind"
                self.unsubscribe(sub)
                sub.queue.get_nowait()  # make room for the end marker
                end = {"type": "dropped", "msg": sub.dropped}
                sub.queue.put_nowait((end, encode(end)))

    def _remember(self, name: str, text: str) -> None:
        if name == "start":  # a new run: the one before is no longer replayed
            self._head, self._stop = [text], []
            self._rest.clear()
        elif name in _HEAD:
            self._head.append(text)
        elif name == "stop":
            self._stop = [text]
        else:
            self._rest.append(text)


def encode(message: dict[str, Any]) -> str:
    """``message`` as a websocket's JSON text (as Starlette's ``send_json`` writes it)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)
