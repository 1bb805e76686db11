"""What every route depends on: the manager, and who is asking (with which scopes)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader, SecurityScopes

from .._manager import Manager

__all__ = [
    "ALL_SCOPES",
    "Principal",
    "authenticated",
    "check_scopes",
    "get_manager",
    "principal_for",
]

#: Every scope a route may ask for; the single-user key has them all.
ALL_SCOPES = frozenset(
    {
        "read:status",
        "read:queue",
        "read:history",
        "read:resources",
        "read:console",
        "write:queue:edit",
        "write:queue:control",
        "write:history:edit",
        "write:execute",
        "write:manager:control",
        "write:plan:control",
        "write:propose",
        "write:review",
    }
)

_header = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    description="'ApiKey <key>' (the key of $CIELO_SERVER_API_KEY, or a key of the server)",
)


@dataclass(frozen=True)
class Principal:
    """Who sent a request: a user name, a group and the scopes granted."""

    name: str
    group: str = "primary"
    scopes: frozenset[str] = field(default_factory=lambda: ALL_SCOPES)


async def get_manager(request: Request) -> Manager:
    manager: Manager = request.app.state.manager
    return manager


def principal_for(settings: Any, header: str | None) -> Principal:
    """Who sends ``header`` (``"ApiKey <key>"``), or 401 (:class:`HTTPException`)."""
    if header:
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "apikey" or not key.strip():
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="send the key as 'Authorization: ApiKey <key>'",
            )
        key = key.strip()
        for known, user in settings.api_keys.items():
            if hmac.compare_digest(known.encode(), key.encode()):
                return Principal(user)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="invalid API key")
    if settings.anonymous:
        return Principal("anonymous")
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail="not authenticated: send 'Authorization: ApiKey <key>'",
    )


def check_scopes(principal: Principal, scopes: Any) -> None:
    missing = sorted(set(scopes) - principal.scopes)
    if missing:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail=f"{principal.name!r} lacks scope(s) {missing}"
        )


async def authenticated(
    security_scopes: SecurityScopes, request: Request, header: str | None = Security(_header)
) -> Principal:
    """The request's principal, or 401 (no or unknown key) / 403 (a scope is missing)."""
    principal = principal_for(request.app.state.settings, header)
    check_scopes(principal, security_scopes.scopes)
    return principal
