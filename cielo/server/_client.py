"""Python clients of the queue server's HTTP API: :class:`QueueClient` (what
``cielo queue`` uses) and :class:`AsyncQueueClient` (the same methods, awaited)::

    with QueueClient("http://127.0.0.1:60610", api_key=KEY) as client:
        client.add_text("count([det], num=3)")
        client.start()
        client.wait_idle()

    async with AsyncQueueClient("http://127.0.0.1:60610", api_key=KEY) as client:
        await client.add({"item_type": "plan", "name": "count", "args": [["det"]]})
        await client.start()
        await client.wait_idle()

A refusal raises :class:`~cielo.server.QueueError` with the server's message.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from ._store import Item, QueueError

__all__ = ["AsyncQueueClient", "CLIENT_KEY_ENV", "DEFAULT_SERVER", "QueueClient"]

#: The environment variable a client reads its API key from.
CLIENT_KEY_ENV = "CIELO_API_KEY"
#: Where ``cielo serve`` listens by default.
DEFAULT_SERVER = "http://127.0.0.1:60610"

Condition = Callable[[dict[str, Any]], bool]


class _Api:
    """The API's requests, written once: each method returns ``self._call(...)``, which
    a sync client answers and an async client returns as an awaitable."""

    server: str

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        pick: str | None = None,
        files: dict[str, Any] | None = None,
    ) -> Any:
        raise NotImplementedError

    def status(self) -> Any:
        return self._call("GET", "/api/status")

    def whoami(self) -> Any:
        """``{"user": ..., "roles": [...], "scopes": [...]}``."""
        return self._call("GET", "/api/auth/whoami")

    def queue(self) -> Any:
        """``{"items": [...], "running_item": {...}}``."""
        return self._call("GET", "/api/queue/get")

    def history(self) -> Any:
        return self._call("GET", "/api/history/get", pick="items")

    def add(self, item: Item, **where: Any) -> Any:
        """Add an item (a plan: ``{"item_type": "plan", "name", "args", "kwargs"}``; a
        function the profile allows: ``"item_type": "function"``; an instruction:
        ``{"item_type": "instruction", "name": "queue_stop"}``); ``where``: ``pos``,
        ``before_uid`` or ``after_uid``."""
        return self._call("POST", "/api/queue/item/add", {"item": item, **where}, "item")

    def add_batch(self, items: list[Item], **where: Any) -> Any:
        """Add items together: all, or none (:class:`QueueError` naming the refused ones)."""
        return self._call("POST", "/api/queue/item/add/batch", {"items": items, **where}, "items")

    def remove(self, uid: str) -> Any:
        return self._call("POST", "/api/queue/item/remove", {"uid": uid}, "item")

    def move(self, uid: str, **where: Any) -> Any:
        """Move item ``uid`` to ``pos_dest``, or ``before_uid`` / ``after_uid`` another."""
        return self._call("POST", "/api/queue/item/move", {"uid": uid, **where}, "item")

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST ``/api/<path>`` (``queue/start``, ``environment/open``, ``re/pause``...)."""
        return self._call("POST", f"/api/{path}", body)

    def start(self) -> Any:
        return self.control("queue/start")

    # -- functions ----------------------------------------------------------------------

    def functions(self) -> Any:
        """The functions the caller's group may run, by name (description, parameters)."""
        return self._call("GET", "/api/functions/allowed", pick="functions_allowed")

    def execute_function(self, item: Item) -> Any:
        """Run a function item now, outside the queue (refused while an item runs); the
        reply's ``task_uid`` names it for :meth:`task_result`."""
        return self._call("POST", "/api/function/execute", {"item": item})

    def task_result(self, task_uid: str) -> Any:
        """``{"status": "running" | "completed" | "not_found", "result": ...}``."""
        return self._call("GET", "/api/task/result", {"task_uid": task_uid})

    def upload(self, path: str | os.PathLike[str]) -> Any:
        """Add a spreadsheet's plans (``.csv`` or ``.xlsx``, one row per plan): all rows,
        or none (:class:`QueueError` naming the wrong rows)."""
        path = Path(path)
        files = {"spreadsheet": (path.name, path.read_bytes())}
        return self._call("POST", "/api/queue/upload/spreadsheet", None, "items", files=files)

    # -- review mode ------------------------------------------------------------------

    def proposals(self) -> Any:
        return self._call("GET", "/api/proposals/get", pick="items")

    def propose(self, item: Item) -> Any:
        return self._call("POST", "/api/proposals/add", {"item": item}, "item")

    def approve(self, uid: str, note: str = "", **where: Any) -> Any:
        body = {"uid": uid, "note": note, **where}
        return self._call("POST", "/api/proposals/approve", body, "item")

    def reject(self, uid: str, note: str = "") -> Any:
        return self._call("POST", "/api/proposals/reject", {"uid": uid, "note": note}, "item")

    # -- keys ---------------------------------------------------------------------------

    def create_key(self, roles: list[str], **options: Any) -> Any:
        """A new API key: ``{"secret": ..., "key": {...}}`` (``user``, ``group``,
        ``scopes``, ``expires_in`` seconds, ``note``)."""
        return self._call("POST", "/api/auth/apikey", {"roles": roles, **options})

    def keys(self) -> Any:
        return self._call("GET", "/api/auth/apikeys", pick="keys")

    def revoke_key(self, key_id: str) -> Any:
        return self._call("DELETE", f"/api/auth/apikey?first_eight={key_id}", pick="key")

    # -- shared ---------------------------------------------------------------------------

    def _headers(self, api_key: str | None) -> dict[str, str]:
        key = api_key if api_key is not None else os.environ.get(CLIENT_KEY_ENV, "")
        return {"Authorization": f"ApiKey {key}"} if key else {}

    def _unreachable(self, exc: Exception) -> QueueError:
        return QueueError(
            f"cannot reach the queue server at {self.server} ({type(exc).__name__}: {exc}); "
            "is `cielo serve` running there? (--server URL)"
        )


def _answer(response: Any, pick: str | None) -> Any:
    """The reply (or its ``pick`` field), or :class:`QueueError` naming why it failed."""
    try:
        reply = response.json()
    except ValueError:
        reply = {"success": False, "msg": response.text[:200]}
    if response.status_code == 401:
        raise QueueError(
            f"{reply.get('detail', 'not authenticated')}: set {CLIENT_KEY_ENV} to the server's key"
        )
    if response.status_code >= 400 or not reply.get("success", True):
        raise QueueError(str(reply.get("msg") or reply.get("detail") or response.status_code))
    return reply if pick is None else reply[pick]


def _payload(body: dict[str, Any] | None, files: dict[str, Any] | None) -> dict[str, Any]:
    """A request's content: a file upload, or a JSON body (``{}`` for none, GETs too)."""
    return {"files": files} if files is not None else {"json": body or {}}


def _idle(status: dict[str, Any]) -> bool:
    return bool(status["manager_state"] == "idle")


class QueueClient(_Api):
    """Requests to one server; ``api_key`` defaults to ``$CIELO_API_KEY``."""

    def __init__(
        self, server: str = DEFAULT_SERVER, *, api_key: str | None = None, timeout: float = 30.0
    ) -> None:
        import httpx

        self.server = server.rstrip("/")
        self._http = httpx.Client(
            base_url=self.server, headers=self._headers(api_key), timeout=timeout
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> QueueClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One request; the reply, or :class:`QueueError` naming why it failed."""
        return dict(self._call(method, path, body))

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        pick: str | None = None,
        files: dict[str, Any] | None = None,
    ) -> Any:
        import httpx

        try:
            response = self._http.request(method, path, **_payload(body, files))
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        return _answer(response, pick)

    def add_text(self, text: str, **where: Any) -> Item:
        """Add a plan call given as text (``"count([det], num=3)"``), parsed as ``cielo run``
        parses it (against the server's plans and devices), never evaluated."""
        return dict(self.add(self.item_from_text(text), **where))

    def item_from_text(self, text: str) -> Item:
        """A plan item from a call written as for ``cielo run`` (checked against the
        server's plans and devices, never evaluated)."""
        plans = self._call("GET", "/api/plans/allowed", pick="plans_allowed")
        return text_item(text, plans, self.devices())

    def function_from_text(self, text: str) -> Item:
        """A function item from a call written as a plan call is (``"set_comment('x')"``),
        of a function the server allows this user (never evaluated)."""
        return text_item(text, self.functions(), self.devices(), "function")

    def devices(self) -> dict[str, Any]:
        return dict(self._call("GET", "/api/devices/allowed", pick="devices_allowed"))

    def call_function(self, item: Item, *, timeout: float | None = None) -> dict[str, Any]:
        """Run a function item now and wait for it: its result (``success``,
        ``exit_status``, ``return_value``, ``msg``, ``traceback``)."""
        uid = self.execute_function(item)["task_uid"]
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            reply = self.task_result(uid)
            if reply["status"] == "completed":
                return dict(reply["result"])
            if reply["status"] == "not_found":  # the server lost it (its store cleared?)
                raise QueueError(f"task {uid} is gone from the server: {reply.get('msg')}")
            if deadline is not None and time.monotonic() > deadline:
                raise QueueError(f"timed out after {timeout} s; function task {uid} still runs")
            time.sleep(0.05)

    def wait(self, condition: Condition, *, timeout: float | None = None) -> dict[str, Any]:
        """Poll the status until ``condition(status)``; returns that status."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            status: dict[str, Any] = self.status()
            if condition(status):
                return status
            if deadline is not None and time.monotonic() > deadline:
                raise QueueError(
                    f"timed out after {timeout} s; the server is {status['manager_state']}"
                )
            time.sleep(0.05)

    def wait_idle(self, *, timeout: float | None = None) -> dict[str, Any]:
        return self.wait(_idle, timeout=timeout)


class AsyncQueueClient(_Api):
    """:class:`QueueClient` for asyncio: every request method is awaited; :meth:`watch`
    yields the status (or documents, or console lines) as the server pushes them."""

    def __init__(
        self, server: str = DEFAULT_SERVER, *, api_key: str | None = None, timeout: float = 30.0
    ) -> None:
        import httpx

        self.server = server.rstrip("/")
        self._auth = self._headers(api_key)
        self._http = httpx.AsyncClient(base_url=self.server, headers=self._auth, timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncQueueClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        pick: str | None = None,
        files: dict[str, Any] | None = None,
    ) -> Any:
        import httpx

        try:
            response = await self._http.request(method, path, **_payload(body, files))
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        return _answer(response, pick)

    async def watch(self, feed: str = "status") -> AsyncIterator[dict[str, Any]]:
        """Messages of a live feed as the server pushes them: ``status`` (the status at
        once, then after every change), ``documents`` or ``console_output``."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed

        url = self.server.replace("http", "ws", 1) + f"/api/{feed}/ws"
        async with connect(url, additional_headers=self._auth) as socket:
            try:
                async for message in socket:
                    yield json.loads(message)
            except ConnectionClosed as exc:
                if exc.rcvd is not None and exc.rcvd.code >= 4000:
                    raise QueueError(exc.rcvd.reason or f"refused ({exc.rcvd.code})") from None

    async def wait(self, condition: Condition, *, timeout: float | None = None) -> dict[str, Any]:
        """The first pushed status that satisfies ``condition`` (no polling)."""

        async def first() -> dict[str, Any]:
            async for status in self.watch("status"):
                if condition(status):
                    return status
            raise QueueError("the server closed the status feed")

        try:
            return await asyncio.wait_for(first(), timeout)
        except TimeoutError:
            raise QueueError(f"timed out after {timeout} s waiting for the status") from None

    async def wait_idle(self, *, timeout: float | None = None) -> dict[str, Any]:
        return await self.wait(_idle, timeout=timeout)


def text_item(
    text: str, names: dict[str, Any], devices: dict[str, Any], kind: str = "plan"
) -> Item:
    """An item from a call written as for ``cielo run``: of a plan, or (``kind``
    ``"function"``) of a function the profile allows; ``names`` the plans or functions
    known (parsed, never evaluated; device names stay strings, resolved by the server
    for a plan, by the function itself for a function)."""
    from cielo.plans import parse_plan_call

    call = parse_plan_call(text, names, devices, kind=kind)
    return {
        "item_type": kind,
        "name": call.plan,
        "args": _plain(call.args),
        "kwargs": _plain(call.kwargs),
    }


def _plain(value: Any) -> Any:
    """Tuples as lists (JSON has arrays only)."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
