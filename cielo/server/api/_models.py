"""Request and response models shared by the routers (bluesky-httpserver's payloads)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, StrictInt

__all__ = ["Destination", "Empty", "Item", "Position", "Reply", "UserInfo"]

#: A queue index (negative from the back), or its front or back.
Position = StrictInt | Literal["front", "back"]
#: An item as JSON (checked by the plan catalog, not by the model).
Item = dict[str, Any]


class Reply(BaseModel):
    """Every answer: ``success`` and a message (why, when it was refused)."""

    model_config = ConfigDict(extra="allow")
    success: bool = True
    msg: str = ""


class Empty(BaseModel):
    """A request without parameters (clients send ``{}``; a lock key is accepted).

    The base of every request body: unknown fields are refused, and so are values of
    the wrong JSON type (``{"enable": 0}`` or ``{"nlines": false}`` are not quietly
    converted: a client sending them has a bug to hear about)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    lock_key: str | None = None


class UserInfo(Empty):
    """Clients of bluesky-queueserver send a user and group; the server uses its own
    account of who is asking instead."""

    user: str | None = None
    user_group: str | None = None


class Destination(BaseModel):
    """Where items go: at most one of ``pos``, ``before_uid``, ``after_uid``."""

    model_config = ConfigDict(strict=True)

    pos: Position | None = None
    before_uid: str | None = None
    after_uid: str | None = None
