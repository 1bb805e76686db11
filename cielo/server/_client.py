"""A Python client of the queue server's HTTP API (what ``cielo queue`` uses).

    with QueueClient("http://127.0.0.1:60610", api_key=KEY) as client:
        client.add_text("count([det], num=3)")
        client.start()
        client.wait_idle()

A refusal raises :class:`~cielo.server.QueueError` with the server's message.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from ._store import Item, QueueError

__all__ = ["CLIENT_KEY_ENV", "DEFAULT_SERVER", "QueueClient"]

#: The environment variable a client reads its API key from.
CLIENT_KEY_ENV = "CIELO_API_KEY"
#: Where ``cielo serve`` listens by default.
DEFAULT_SERVER = "http://127.0.0.1:60610"


class QueueClient:
    """Requests to one server; ``api_key`` defaults to ``$CIELO_API_KEY``."""

    def __init__(
        self, server: str = DEFAULT_SERVER, *, api_key: str | None = None, timeout: float = 30.0
    ) -> None:
        import httpx

        key = api_key if api_key is not None else os.environ.get(CLIENT_KEY_ENV, "")
        headers = {"Authorization": f"ApiKey {key}"} if key else {}
        self.server = server.rstrip("/")
        self._http = httpx.Client(base_url=self.server, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> QueueClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests -----------------------------------------------------------------------

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One request; the reply, or :class:`QueueError` naming why it failed."""
        import httpx

        try:
            response = self._http.request(method, path, json=body or {})
        except httpx.HTTPError as exc:
            raise QueueError(
                f"cannot reach the queue server at {self.server} ({type(exc).__name__}: {exc}); "
                "is `cielo serve` running there? (--server URL)"
            ) from None
        try:
            reply = response.json()
        except ValueError:
            reply = {"success": False, "msg": response.text[:200]}
        if response.status_code == 401:
            raise QueueError(
                f"{reply.get('detail', 'not authenticated')}: set {CLIENT_KEY_ENV} to the "
                "server's key"
            )
        if response.status_code >= 400 or not reply.get("success", True):
            raise QueueError(str(reply.get("msg") or reply.get("detail") or response.status_code))
        return dict(reply)

    def status(self) -> dict[str, Any]:
        return self.request("GET", "/api/status")

    def queue(self) -> dict[str, Any]:
        """``{"items": [...], "running_item": {...}}``."""
        return self.request("GET", "/api/queue/get")

    def history(self) -> list[Item]:
        return list(self.request("GET", "/api/history/get")["items"])

    def add(self, item: Item, **where: Any) -> Item:
        """Add a plan item (``{"item_type": "plan", "name", "args", "kwargs"}``); ``where``:
        ``pos``, ``before_uid`` or ``after_uid``."""
        return dict(self.request("POST", "/api/queue/item/add", {"item": item, **where})["item"])

    def add_text(self, text: str, **where: Any) -> Item:
        """Add a plan call given as text (``"count([det], num=3)"``), parsed as ``cielo run``
        parses it (against the server's plans and devices), never evaluated."""
        from cielo.plans import parse_plan_call

        plans = self.request("GET", "/api/plans/allowed")["plans_allowed"]
        devices = self.request("GET", "/api/devices/allowed")["devices_allowed"]
        call = parse_plan_call(text, plans, devices)
        item = {
            "item_type": "plan",
            "name": call.plan,
            "args": _plain(call.args),
            "kwargs": _plain(call.kwargs),
        }
        return self.add(item, **where)

    def remove(self, uid: str) -> Item:
        return dict(self.request("POST", "/api/queue/item/remove", {"uid": uid})["item"])

    def move(self, uid: str, **where: Any) -> Item:
        return dict(self.request("POST", "/api/queue/item/move", {"uid": uid, **where})["item"])

    def control(self, path: str, body: dict[str, Any] | None = None) -> None:
        """POST ``/api/<path>`` (``queue/start``, ``environment/open``, ``re/pause``...)."""
        self.request("POST", f"/api/{path}", body)

    def start(self) -> None:
        self.control("queue/start")

    def wait(
        self, condition: Callable[[dict[str, Any]], bool], *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Poll the status until ``condition(status)``; returns that status."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            status = self.status()
            if condition(status):
                return status
            if deadline is not None and time.monotonic() > deadline:
                raise QueueError(
                    f"timed out after {timeout} s; the server is {status['manager_state']}"
                )
            time.sleep(0.05)

    def wait_idle(self, *, timeout: float | None = None) -> dict[str, Any]:
        return self.wait(lambda s: s["manager_state"] == "idle", timeout=timeout)


def _plain(value: Any) -> Any:
    """Tuples as lists (JSON has arrays only)."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
