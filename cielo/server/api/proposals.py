"""``/api/proposals/...``: review mode. A caller with the ``write:propose`` scope (an
agent, a student) proposes items; a reviewer (``write:review``), never the proposer,
approves them into the queue or rejects them, with a note.

A proposal is checked against the plan's parameters and the proposer's group when it is
proposed, and again when it is approved (plans and permissions may have changed). The
decision stays with the item: an approved item carries ``review`` into the queue and its
history record; a rejected one goes to history with ``exit_status`` ``"rejected"`` and
the note as its message.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter, Body

from .._access import AccessError
from .._records import history_record
from .._store import Item, Where
from ._deps import Call, allow, ok
from ._models import Destination, Empty, Reply, UserInfo
from ._models import Item as ItemJSON

router = APIRouter(prefix="/api/proposals", tags=["review"])


@router.get("/get", response_model=Reply)
async def proposals_get(
    body: Empty = Body(default_factory=Empty), call: Call = allow("read:queue")
) -> dict[str, Any]:
    """The proposed items, oldest first."""
    revision, items = await call.io(lambda store: (store.revisions().proposed, store.proposed()))
    return ok(items=items, proposed_uid=f"p{revision}")


class Propose(UserInfo):
    item: ItemJSON


@router.post("/add", response_model=Reply)
async def proposals_add(body: Propose, call: Call = allow("write:propose")) -> dict[str, Any]:
    """Propose an item for review (checked now, as if added to the queue)."""
    checked = call.check_item(body.item)
    item = await call.io(lambda store: store.propose(checked))
    call.manager.changed()
    return ok(item=item)


class Decision(Empty, Destination):
    uid: str
    note: str = ""


def _review(call: Call, decision: Literal["approved", "rejected"], note: str) -> dict[str, Any]:
    return {"decision": decision, "by": call.who.name, "note": note, "time": time.time()}


async def _not_own(call: Call, uid: str) -> Item:
    proposals = await call.io(lambda store: store.proposed())
    proposal = next((p for p in proposals if p["item_uid"] == uid), None)
    if proposal is not None and proposal.get("user") == call.who.name:
        raise AccessError(
            f"{call.who.name!r} proposed item {uid!r} and cannot review it: another "
            "reviewer must approve or reject it"
        )
    return proposal or {}


@router.post("/approve", response_model=Reply)
async def proposals_approve(body: Decision, call: Call = allow("write:review")) -> dict[str, Any]:
    """Move proposal ``uid`` into the queue (at ``pos``, ``before_uid`` or ``after_uid``;
    default the back)."""
    manager = call.manager
    proposal = await _not_own(call, body.uid)
    if proposal:  # still fits today's plans and the proposer's group
        manager.check_item(
            proposal, str(proposal.get("user")), str(proposal.get("user_group")), keep_uid=True
        )
    review = _review(call, "approved", body.note)
    where = Where(pos=body.pos, before_uid=body.before_uid, after_uid=body.after_uid)
    item, size = await call.io(
        lambda store: (
            store.approve(body.uid, where, amend=lambda it: {**it, "review": review}),
            store.queue_size(),
        )
    )
    manager.changed(edited=True)
    return ok(item=item, qsize=size)


@router.post("/reject", response_model=Reply)
async def proposals_reject(body: Decision, call: Call = allow("write:review")) -> dict[str, Any]:
    """Reject proposal ``uid``: it goes to history as ``rejected``, with the note."""
    await _not_own(call, body.uid)
    review = _review(call, "rejected", body.note)

    def record(item: Item) -> Item:
        why = f"rejected by {call.who.name}" + (f": {body.note}" if body.note else "")
        return history_record({**item, "review": review}, "rejected", why, "", [], [], None)

    item = await call.io(lambda store: store.proposed_remove(body.uid, record=record))
    call.manager.changed()
    return ok(item=item)


class Withdraw(Empty):
    uid: str


@router.post("/remove", response_model=Reply)
async def proposals_remove(body: Withdraw, call: Call = allow("write:propose")) -> dict[str, Any]:
    """Withdraw one's own proposal (an admin may withdraw any)."""
    await call.own(lambda store: [p for p in store.proposed() if p["item_uid"] == body.uid])
    item = await call.io(lambda store: store.proposed_remove(body.uid))
    call.manager.changed()
    return ok(item=item)
