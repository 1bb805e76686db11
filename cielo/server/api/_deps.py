"""What every route depends on: the manager, and who is asking (with which scopes)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from fastapi import HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader, SecurityScopes

from .._manager import Manager

__all__ = ["ALL_SCOPES", "Principal", "authenticated", "get_manager"]

#: Every scope a route may ask for; the single-user key has them all.
ALL_SCOPES = frozenset(
    {
        "read:status",
        "read:queue",
        "read:history",
        "read:resources",
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


def get_manager(request: Request) -> Manager:
    manager: Manager = request.app.state.manager
    return manager


def authenticated(
    security_scopes: SecurityScopes, request: Request, header: str | None = Security(_header)
) -> Principal:
    """The request's principal, or 401 (no or unknown key) / 403 (a scope is missing)."""
    settings = request.app.state.settings
    principal: Principal | None = None
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
                principal = Principal(user)
                break
        if principal is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="invalid API key")
    elif settings.anonymous:
        principal = Principal("anonymous")
    else:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="not authenticated: send 'Authorization: ApiKey <key>'",
        )
    missing = sorted(set(security_scopes.scopes) - principal.scopes)
    if missing:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail=f"{principal.name!r} lacks scope(s) {missing}"
        )
    return principal
