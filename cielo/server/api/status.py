"""``/api/status`` and ``/api/ping``: the manager's state with its change counters."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ._deps import Call, allow, ok
from ._models import Reply

router = APIRouter(prefix="/api", tags=["status"])


class Status(Reply):
    """The status: states, queue and history sizes and the counters (``plan_queue_uid``,
    ``plan_history_uid``, ``plans_allowed_uid``, ...) that change with every
    modification, so a client re-fetches only what changed."""

    manager_state: str
    worker_environment_exists: bool
    worker_environment_state: str
    re_state: str | None
    items_in_queue: int
    items_in_history: int
    running_item_uid: str | None
    plan_queue_uid: str
    plan_history_uid: str


async def _status(call: Call) -> dict[str, Any]:
    return ok(**await call.manager.fresh_status())


@router.get("/status", response_model=Status)
async def status(
    call: Call = allow("read:status"),
) -> dict[str, Any]:
    return await _status(call)


@router.get("/ping", response_model=Status)
async def ping(
    call: Call = allow("read:status"),
) -> dict[str, Any]:
    return await _status(call)


@router.get("/config/get", response_model=Reply)
async def config_get(
    call: Call = allow("read:status"),
) -> dict[str, Any]:
    settings = call.manager.settings
    return ok(config={"profile": settings.profile})
