"""The app factory: ``build_app(settings)`` makes one queue server (no globals).

The lifespan opens the store, learns the profile's plans and devices, settles what a
previous manager left (an item recorded as running whose worker is gone) and, at the
end, closes the environment and the store. Refusals are HTTP 200 with
``{"success": false, "msg": ...}`` (as bluesky-httpserver answers, so its client raises
them); malformed requests are 422 with a message naming the field; a missing or wrong
key is 401; a queue store (Redis) that does not answer is 503 naming it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ._access import ROLES, Authenticator, Gate, StaticKeys
from ._keys import open_keyring
from ._limit import BodyLimit
from ._manager import Manager
from ._plans import PlanCatalog, load_catalog
from ._problems import document_problems
from ._settings import Settings, is_loopback
from ._store import QueueError, StoreUnavailableError, open_store
from .api import ROUTERS, FastAPIWithFastRoutes, FastRoutes

__all__ = ["build_app", "load_catalog", "plugin_authenticators"]

logger = logging.getLogger("cielo.server")


def build_app(
    settings: Settings,
    *,
    catalog: PlanCatalog | None = None,
    authenticators: Sequence[Authenticator] = (),
) -> FastAPI:
    """A queue server for ``settings`` (see :class:`~cielo.server.Settings`).

    :param catalog: the allowed plans and devices (default: learned from the profile).
    :param authenticators: asked after the server's API keys and the authenticators of
        ``settings.auth`` (PAM, LDAP, OIDC...).
    """
    assert settings.store is not None
    keyring = open_keyring(settings.store)
    keyring.import_file(settings.keys_path)
    authenticators = [*plugin_authenticators(settings.auth), *authenticators]
    settings.check(other_keys=bool(keyring) or bool(authenticators))
    gate = Gate(
        [StaticKeys(settings.api_keys), keyring, *authenticators],
        loopback=is_loopback(settings.host),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        assert settings.store is not None
        store = open_store(settings.store)
        try:
            known = (
                catalog
                if catalog is not None
                else await asyncio.to_thread(load_catalog, settings.profile)
            )
            manager = Manager(settings, store, known)
            try:
                manager.load_permissions()
            except QueueError as exc:
                logger.error("cielo serve: %s", exc)
                raise
            await manager.start()
            app.state.manager = manager
            if settings.open_environment and manager.env_state == "closed":
                await manager.environment_open()
            try:
                yield
            finally:
                await manager.aclose()
        finally:
            store.close()
            await keyring.aclose()

    app = FastAPIWithFastRoutes(
        title="cielo queue server",
        summary="The RunEngine as a service: an editable, persistent queue of plans.",
        version=_version(),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.gate = gate
    app.state.keyring = keyring
    for router in ROUTERS:
        app.include_router(router)
    app.body_limit = BodyLimit(settings.max_body)  # chunked bodies too, ahead of all
    # the plain routes, answered ahead of FastAPI's middleware (FastAPI's own call after)
    app.fast_routes = FastRoutes(functools.partial(FastAPI.__call__, app), app, ROUTERS)
    app.add_exception_handler(QueueError, _refused)
    app.add_exception_handler(StoreUnavailableError, _unavailable)
    app.add_exception_handler(RequestValidationError, _invalid)
    document_problems(app)  # 4xx answers in the OpenAPI schema; FastAPI's 400 reworded
    return app


def plugin_authenticators(specs: Sequence[tuple[str, dict[str, str]]]) -> list[Authenticator]:
    """The authenticators ``specs`` (``(name, options)``) name, built by the factories
    plugins offer through ``cielo_authenticators``; an unknown name or a bad option is
    refused naming it."""
    if not specs:
        return []
    from cielo.core import make_plugin_manager
    from cielo.core.plugins import Registry
    from cielo.core.suggest import did_you_mean
    from cielo.hookspecs import AuthenticationError

    offered = Registry(make_plugin_manager()).get("authenticators")
    built: list[Authenticator] = []
    for name, options in specs:
        if name not in offered:
            hint = did_you_mean(name, offered, before=" (", after=")")
            raise QueueError(
                f"no authenticator {name!r}{hint}; plugins offer: "
                f"{', '.join(sorted(offered)) or 'none'}"
            )
        try:
            authenticator = offered[name](**options)
        except (TypeError, ValueError, ImportError, AuthenticationError) as exc:
            raise QueueError(f"--auth {name}: {exc}") from None
        granted = list(getattr(authenticator, "grants", ()))  # roles it may give
        unknown = [r for r in granted if r not in ROLES]
        if unknown:
            hint = did_you_mean(unknown[0], ROLES, before=" (", after=")")
            raise QueueError(
                f"--auth {name}: unknown role(s) {unknown}{hint}; roles: {', '.join(ROLES)}"
            )
        built.append(authenticator)
    return built


def _version() -> str:
    from cielo import __version__

    return str(__version__)


async def _refused(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"success": False, "msg": str(exc)})


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503: the queue store did not answer (the message names it and what to check)."""
    logger.error("%s %s: %s", request.method, request.url.path, exc)
    msg = str(exc)
    return JSONResponse({"success": False, "msg": msg, "detail": msg}, status_code=503)


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ()) if p != "body"]
        where = ".".join(loc) or "the request body"
        if error.get("type") == "json_invalid":
            ctx = error.get("ctx") or {}
            problems.append(f"the body is not valid JSON ({ctx.get('error', 'parse error')})")
        else:
            got = json.dumps(error.get("input"), default=repr)
            got = got if len(got) <= 60 else got[:57] + "..."
            problems.append(f"{where}: {error.get('msg')} (got {got})")
    msg = "; ".join(dict.fromkeys(problems))
    return JSONResponse(
        {"success": False, "msg": msg, "detail": msg},
        status_code=422,
    )
