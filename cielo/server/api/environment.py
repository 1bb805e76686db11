"""``/api/environment/...``: open, close and destroy the worker's environment."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from .._reload import reload_environment
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


async def _reload(
    body: Empty = Body(default_factory=Empty), call: Call = allow("write:manager:control")
) -> dict[str, Any]:
    """Reload the environment: close the worker, read the profile and its plugins again
    (new plans, devices, parameter schemas), check the permissions file against them and
    reopen it. The queue is kept; ``stale`` lists queued items that no longer fit. A
    profile that does not load is refused and the old plans stay."""
    stale = await reload_environment(call.manager)
    return ok(stale=stale)


router.post("/reload", response_model=Reply, name="environment_reload")(_reload)
router.post("/update", response_model=Reply, name="environment_update")(_reload)
