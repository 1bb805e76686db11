"""The server's 4xx answers, documented as they are sent, so that the OpenAPI schema is
truthful (a client generated from it, and schemathesis, find what the server says).

Every refusal that is not HTTP 200 ``{"success": false}`` carries a ``detail`` string
(and, where cielo words it, ``success: false`` and ``msg``): 400 a body that cannot be
read, 401 no or a wrong credential, 403 a missing scope, 413 a body over the limit, 422 a
request that does not fit the operation's parameters. FastAPI documents 422 as its own
list of errors and none of the others; :func:`document_problems` mends its schema.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import JSONResponse

__all__ = ["PROBLEM_SCHEMA", "document_problems", "unreadable_body"]

#: What a refusal other than HTTP 200 carries.
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "what is wrong and what to do"},
        "success": {"type": "boolean", "const": False},
        "msg": {"type": "string", "description": "the same as detail"},
    },
    "required": ["detail"],
}
_REF = {"$ref": "#/components/schemas/Problem"}
_WHY = {
    "400": "The body cannot be read (not UTF-8 text)",
    "401": "No credential, or a wrong, expired or revoked one",
    "403": "The caller lacks a scope the operation needs",
    "413": "The body is larger than the server accepts",
    "422": "The request does not fit the operation's parameters (the message names them)",
}
#: FastAPI's words when it cannot decode a body.
_FASTAPI_400 = "There was an error parsing the body"


def document_problems(app: FastAPI) -> None:
    """Make ``app.openapi()`` list every operation's 4xx answers with :data:`PROBLEM_SCHEMA`."""

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas["Problem"] = PROBLEM_SCHEMA
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    _document(operation)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(HTTPException, unreadable_body)


def _document(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    codes = [code for code in ("422",) if code in responses]
    if operation.get("security"):
        codes += ["401", "403"]
    if "requestBody" in operation:
        codes += ["400", "413"]
    for code in codes:
        responses[code] = {
            "description": _WHY[code],
            "content": {"application/json": {"schema": _REF}},
        }


async def unreadable_body(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's HTTP errors as they were, but its 400 for a body it cannot decode worded
    clearly and shaped as every other refusal."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and exc.detail == _FASTAPI_400:
        cause = exc.__cause__
        why = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
        msg = f"the body cannot be read as JSON: send UTF-8 text{why}"
        return JSONResponse({"success": False, "msg": msg, "detail": msg}, status_code=400)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
