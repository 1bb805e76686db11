"""``/api/environment/...``: open, close and destroy the worker's environment."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from ._deps import Call, allow, ok
from ._models import Empty, Reply

router = APIRouter(prefix="/api/environment", tags=["environment"])


@router.post("/open", response_model=Reply)
async def environment_open(
    body: Empty = Body(default_factory=Empty),
    call: Call = allow("write:manager:control"),
) -> dict[str, Any]:
    """Start the worker: it loads the profile and takes the instrument's lock. Returns at
    once; the status's ``manager_state`` is ``creating_environment`` until it is open."""
    await call.manager.environment_open()
    return ok()


@router.post("/close", response_model=Reply)
async def environment_close(
    body: Empty = Body(default_factory=Empty),
    call: Call = allow("write:manager:control"),
) -> dict[str, Any]:
    """Close the environment when nothing runs (the worker releases the lock and exits)."""
    await call.manager.environment_close()
    return ok()


@router.post("/destroy", response_model=Reply)
async def environment_destroy(
    body: Empty = Body(default_factory=Empty),
    call: Call = allow("write:manager:control"),
) -> dict[str, Any]:
    """Kill the worker (a stuck environment); a running item is recorded as failed."""
    await call.manager.environment_destroy()
    return ok()
