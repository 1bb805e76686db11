"""``/api/re/...``: pause, resume, stop, abort or halt the running plan; its runs."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body

from ._deps import Call, allow, ok
from ._models import Empty, Reply

router = APIRouter(prefix="/api/re", tags=["run control"])


class PauseRequest(Empty):
    option: Literal["deferred", "immediate"] = "deferred"


@router.post("/pause", response_model=Reply)
async def re_pause(
    body: PauseRequest = Body(default_factory=PauseRequest),
    call: Call = allow("write:plan:control"),
) -> dict[str, Any]:
    """Pause the plan at its next checkpoint (``deferred``) or now (``immediate``)."""
    call.manager.re_control("pause", defer=body.option == "deferred")
    return ok()


def _control(cmd: str, doc: str) -> None:
    async def route(
        body: Empty = Body(default_factory=Empty),
        call: Call = allow("write:plan:control"),
    ) -> dict[str, Any]:
        call.manager.re_control(cmd)
        return ok()

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
    call: Call = allow("read:status"),
) -> dict[str, Any]:
    """The runs of the running item (``open``, ``closed`` or all ``active``)."""
    runs = call.manager.runs.runs
    if body.option == "open":
        runs = [r for r in runs if r["is_open"]]
    elif body.option == "closed":
        runs = [r for r in runs if not r["is_open"]]
    return ok(run_list=runs, run_list_uid=call.manager.runs.uid)
