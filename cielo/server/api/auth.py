"""``/api/auth/...``: who is asking, and API keys created and revoked; and
``/api/permissions/...``: the group rules, reloaded from their file without a restart."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from .._access import ROLES, AccessError, Gate, scopes_of
from .._keys import KeyRing
from .._store import QueueError
from ._deps import Call, allow, ok
from ._models import Empty, Reply

router = APIRouter(prefix="/api", tags=["access"])


class WhoAmI(BaseModel):
    user: str
    roles: list[str]
    scopes: list[str]


@router.get("/auth/whoami", response_model=WhoAmI)
async def whoami(call: Call = allow()) -> dict[str, Any]:
    """The caller's user name, roles and scopes (a client shows what the caller may do)."""
    who = call.who
    return {"user": who.name, "roles": list(who.roles), "scopes": sorted(who.scopes)}


@router.get("/auth/schemes", response_model=Reply)
async def schemes(request: Request) -> dict[str, Any]:
    """How a client may log in, asked before it has credentials (no key needed): the
    ``Authorization`` schemes the server takes, ``apikey`` first, then ``basic`` with a
    password authenticator (htpasswd, PAM, LDAP) and ``bearer`` with OIDC."""
    gate: Gate = request.app.state.gate
    return ok(schemes=gate.schemes())


@router.get("/auth/scopes", response_model=Reply)
async def roles(call: Call = allow()) -> dict[str, Any]:
    """Every role and the scopes it grants."""
    return ok(roles={role: sorted(scopes) for role, scopes in ROLES.items()})


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    #: default: the caller (keys of other users need the ``admin:keys`` scope)
    user: str | None = None
    roles: list[str] = Field(min_length=1)
    #: default: the caller's group
    group: str | None = None
    #: narrower than the roles grant (default: all they grant)
    scopes: list[str] | None = None
    #: seconds until the key expires (default: never)
    expires_in: float | None = Field(default=None, gt=0)
    note: str = ""


def _keyring(request: Request) -> KeyRing:
    keyring: KeyRing = request.app.state.keyring
    return keyring


@router.post("/auth/apikey", response_model=Reply)
async def apikey_create(request: Request, body: KeyCreate, call: Call = allow()) -> dict[str, Any]:
    """A new API key: ``secret`` is shown this once (the server keeps only its hash).
    A caller may make keys for themselves with at most their own scopes; keys of other
    users need ``admin:keys``."""
    who = call.who
    user = body.user or who.name
    group = body.group or who.group
    if user != who.name or group != who.group:
        who.require(["admin:keys"])  # keys of other users, or of another group
    beyond = sorted(scopes_of(body.roles, body.scopes) - who.scopes)
    if beyond:
        raise AccessError(
            f"{who.name!r} cannot give scope(s) {beyond} they do not hold; narrow the "
            "key's roles or scopes"
        )
    permissions = call.manager.permissions
    if permissions.path is not None:
        permissions.rules(group)  # an unknown group is refused now, not at each use
    secret, info = _keyring(request).create(
        user,
        body.roles,
        group=group,
        scopes=body.scopes,
        expires_in=body.expires_in,
        note=body.note,
    )
    return ok(secret=secret, key=info.as_json())


@router.get("/auth/apikeys", response_model=Reply)
async def apikey_list(
    request: Request, body: Empty = Body(default_factory=Empty), call: Call = allow()
) -> dict[str, Any]:
    """The keys (without secrets): all with ``admin:keys``, else the caller's own."""
    who = call.who
    user = None if "admin:keys" in who.scopes else who.name
    return ok(keys=[k.as_json() for k in _keyring(request).keys(user)])


@router.delete("/auth/apikey", response_model=Reply)
async def apikey_revoke(
    request: Request,
    first_eight: str = Query(min_length=8, max_length=8, description="the key's id"),
    call: Call = allow(),
) -> dict[str, Any]:
    """Revoke a key by its id (first eight characters): one's own, or any with
    ``admin:keys``. Requests with it are refused at once."""
    keyring = _keyring(request)
    mine = {k.id for k in keyring.keys(call.who.name)}
    if first_eight not in mine:
        if "admin:keys" not in call.who.scopes:
            raise QueueError(f"{call.who.name!r} has no API key with id {first_eight!r}")
    return ok(key=keyring.revoke(first_eight).as_json())


@router.get("/permissions/get", response_model=Reply)
async def permissions_get(
    body: Empty = Body(default_factory=Empty), call: Call = allow("read:resources")
) -> dict[str, Any]:
    """The group rules in force and the file they came from (``null``: no file, every
    group may use every plan and device)."""
    permissions = call.manager.permissions
    return ok(
        path=None if permissions.path is None else str(permissions.path),
        groups={name: asdict(rules) for name, rules in permissions.groups.items()},
    )


@router.post("/permissions/reload", response_model=Reply)
async def permissions_reload(
    body: Empty = Body(default_factory=Empty), call: Call = allow("admin:permissions")
) -> dict[str, Any]:
    """Read the permissions file again; a file with an error is refused (naming the group
    and key) and the rules in force stay."""
    call.manager.load_permissions()
    return ok(groups=sorted(call.manager.permissions.groups))
