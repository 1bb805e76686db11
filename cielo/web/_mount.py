"""Serve the built web application from an ASGI app (Starlette or FastAPI)."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cielo.web._build import REBUILD, STATIC_DIR

if TYPE_CHECKING:
    from starlette.applications import Starlette

#: Paths under this prefix are the API's: never answered with the application.
API_PREFIX = "/api"
#: The compressed copies the build writes beside an asset, by preference (suffix, coding).
ENCODINGS = ((".br", "br"), (".gz", "gzip"))


def accepted_codings(header: str) -> set[str]:
    """The content codings an ``Accept-Encoding`` header accepts (``q=0`` refuses one)."""
    accepted = set()
    for part in header.lower().split(","):
        coding, *params = (p.strip() for p in part.split(";"))
        q = next((p[2:] for p in params if p.startswith("q=")), "1")
        try:
            if float(q) > 0:
                accepted.add(coding)
        except ValueError:
            continue
    if "*" in accepted:
        accepted.update(coding for _, coding in ENCODINGS)
    return accepted


def mount_web(app: Starlette, static_dir: Path | str = STATIC_DIR) -> None:
    """Serve the web application at ``/`` of ``app``, beside its API.

    Only requests that no route of ``app`` answers reach the application, so the API
    keeps its own answers (404 and 405 included), whenever this is called. A ``GET`` or
    ``HEAD`` outside ``/api`` gets the file of the build it names (``/assets/...`` are
    content-hashed, so they are cached for a year; other files are revalidated), else the
    application's ``index.html``, whose client-side router draws the page (``/history``,
    ``/environment``...). A file the build also wrote compressed (``.br``, ``.gz``) goes
    compressed to a browser that accepts it (``Content-Encoding``, ``Vary``), as it was
    compressed once at build time.

    :raises FileNotFoundError: ``static_dir`` holds no built application; the message
        names the command that builds it.
    """
    from starlette.responses import FileResponse

    root = Path(static_dir).resolve()
    index = root / "index.html"
    if not index.is_file():
        raise FileNotFoundError(
            f"no built web application in {root} (index.html is missing); build it with "
            f"{REBUILD} (needs Node.js), or install a cielo wheel, which ships it"
        )
    not_found = app.router.default

    def response(path: str, accept: str) -> FileResponse:
        target = (root / path.lstrip("/")).resolve()
        if not (target.is_file() and target.is_relative_to(root)):
            return FileResponse(index, headers={"Cache-Control": "no-cache"})
        immutable = target.parent == root / "assets"
        headers = {
            "Cache-Control": "public, max-age=31536000, immutable" if immutable else "no-cache"
        }
        codings = accepted_codings(accept)
        for suffix, coding in ENCODINGS:
            packed = target.with_name(target.name + suffix)
            if packed.is_file():
                headers["Vary"] = "Accept-Encoding"
                if coding in codings:
                    headers["Content-Encoding"] = coding
                    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
                    return FileResponse(packed, media_type=kind, headers=headers)
        return FileResponse(target, headers=headers)

    async def web_or_not_found(scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        is_api = path == API_PREFIX or path.startswith(API_PREFIX + "/")
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and not is_api:
            accept = dict(scope.get("headers") or []).get(b"accept-encoding", b"")
            await response(path, accept.decode("latin-1"))(scope, receive, send)
        else:
            await not_found(scope, receive, send)

    app.router.default = web_or_not_found
