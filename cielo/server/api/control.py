"""``/api/re/...``: pause, resume, stop, abort or halt the running plan; its runs."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Security

from .._manager import Manager
from ._deps import Principal, authenticated, get_manager
from ._models import Empty, Reply

router = APIRouter(prefix="/api/re", tags=["run control"])
_SCOPE = ["write:plan:control"]


class PauseRequest(Empty):
    option: Literal["deferred", "immediate"] = "deferred"


@router.post("/pause", response_model=Reply)
async def re_pause(
    body: PauseRequest = Body(default_factory=PauseRequest),
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=_SCOPE),
) -> dict[str, Any]:
    """Pause the plan at its next checkpoint (``deferred``) or now (``immediate``)."""
    manager.re_control("pause", defer=body.option == "deferred")
    return {"success": True, "msg": ""}


def _control(cmd: str, doc: str) -> None:
    async def route(
        body: Empty = Body(default_factory=Empty),
        manager: Manager = Depends(get_manager),
        _: Principal = Security(authenticated, scopes=_SCOPE),
    ) -> dict[str, Any]:
        manager.re_control(cmd)
        return {"success": True, "msg": ""}

    route.__doc__ = doc
    route.__name__ = f"re_{cmd}"
    router.post(f"/{cmd}", response_model=Reply, name=f"re_{cmd}")(route)


_control("resume", "Resume the paused plan.")
_control("stop", "End the plan; its runs end as successful, and the queue stops.")
_control("abort", "End the plan; its runs end as aborted, the item goes back to the queue.")
_control("halt", "End the plan without cleanup; the item goes back to the queue.")


class RunsRequest(Empty):
    option: Literal["active", "open", "closed"] = "active"


@router.post("/runs", response_model=Reply)
async def re_runs(
    body: RunsRequest = Body(default_factory=RunsRequest),
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=["read:status"]),
) -> dict[str, Any]:
    """The runs of the running item (``open``, ``closed`` or all ``active``)."""
    runs = manager.runs.runs
    if body.option == "open":
        runs = [r for r in runs if r["is_open"]]
    elif body.option == "closed":
        runs = [r for r in runs if not r["is_open"]]
    return {"success": True, "msg": "", "run_list": runs, "run_list_uid": manager.runs.uid}
