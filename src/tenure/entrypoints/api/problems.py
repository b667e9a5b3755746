"""Every error as RFC 9457 problem+json with a stable `code` (api.md "Conventions")."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from tenure.domain.errors import DomainError
from tenure.entrypoints.api.schemas import Problem

log = structlog.get_logger()

PROBLEM = "application/problem+json"

STATUS_FOR_CODE: dict[str, int] = {
    "validation-error": 422,
    "not-found": 404,
    "unauthorized": 401,
    "forbidden": 403,
    "invalid-transition": 409,
    "account-decommissioned": 409,
    "already-suspended": 409,
    "not-suspended": 409,
    "inherited-suspension": 409,
    "has-active-children": 409,
    "office-taken": 409,
    "number-taken": 409,
    "network-id-taken": 409,
    "nas-taken": 409,
    "billing-ref-taken": 409,
    "version-conflict": 412,
    "idempotency-key-reused": 422,
    "login-suspended": 403,
    "last-admin": 409,
    "rate-limited": 429,
}
_CODE_FOR_HTTP_STATUS = {
    400: "validation-error",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "rate-limited",
}


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_DESCRIPTIONS = {
    400: "Bad request (problem+json)",
    401: "No token, or a bad, expired or revoked one (`unauthorized`)",
    403: "Visible but not allowed (`forbidden`), or sign-in suspended (`login-suspended`)",
    404: "Absent or not visible to the caller (`not-found`)",
    409: "The rules refuse the change (`invalid-transition`, `already-suspended`, ...)",
    412: "`If-Match` names an older version (`version-conflict`); nothing changed",
    413: "The body is over `TENURE_MAX_BODY_BYTES` (`payload-too-large`)",
    422: "Bad input (`validation-error`), or an `Idempotency-Key` reused (`idempotency-key-reused`)",
    429: "Too many attempts (`rate-limited`)",
    503: "Not ready",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True, "description": "`Bearer`"}},
    429: {"Retry-After": {"schema": {"type": "string"}, "required": True, "description": "seconds to wait"}},
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error answers a route can give: problem+json with a `code`."""
    schema = Problem.model_json_schema()
    return {
        status: {
            "description": _DESCRIPTIONS.get(status, "Error"),
            "content": {PROBLEM: {"schema": schema}},
            **({"headers": _HEADERS[status]} if status in _HEADERS else {}),
        }
        for status in statuses
    }


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body = {
        "type": f"https://tenure.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update(extra or {})
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 429:
        headers["Retry-After"] = str((extra or {}).get("retry_after", 60))
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def domain_problem(error: DomainError) -> JSONResponse:
    return problem(STATUS_FOR_CODE.get(error.code, 409), error.code, error.title, error.detail, extra=error.extra)


def allowed_methods(request: Request) -> str:
    """Every method the resource answers (RFC 9110 §15.5.6), not only the first matching route's.

    The resource is the most literal documented path template that fits (`/accounts/bulk`
    also fits `/accounts/{account_id}`, but is its own resource). Paths outside the OpenAPI
    document (the console) fall back to asking the router about each method.
    """
    path = request.url.path
    fits = [(template, methods) for pattern, template, methods in _resources(request.app) if pattern.fullmatch(path)]
    if fits:
        return ", ".join(min(fits, key=lambda fit: (fit[0].count("{"), fit[0]))[1])
    routes = request.app.router.routes
    answered = [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]
    return ", ".join(answered)


def _resources(app: FastAPI) -> list[tuple[re.Pattern[str], str, tuple[str, ...]]]:
    """The documented paths as patterns with their methods, built once per app."""
    cached: list[tuple[re.Pattern[str], str, tuple[str, ...]]] | None = getattr(app.state, "resources", None)
    if cached is None:
        cached = []
        for template, operations in app.openapi().get("paths", {}).items():
            pattern = re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))
            methods = tuple(m for m in _METHODS if m.lower() in operations)
            cached.append((pattern, template, methods))
        app.state.resources = cached
    return cached


def _field_of(error: Mapping[str, Any]) -> str:
    """The offending field as a dotted path (`main_contact.name`, `q`), without `body`/`query`."""
    named = (error.get("ctx") or {}).get("field")
    if isinstance(named, str):
        return named
    loc = [str(part) for part in error.get("loc", ())]
    if loc and loc[0] in ("body", "query", "path", "header", "cookie", "form"):
        loc = loc[1:]
    # a union's branch name (`str`, `constrained-str`) is not a field
    return ".".join(part for part in loc if not part.startswith(("function-", "constrained-")) and part != "str")


def problem_body(error: DomainError) -> dict[str, Any]:
    """The body `domain_problem` answers, for a refusal reported inside a 200 (a bulk item)."""
    body: dict[str, Any] = json.loads(bytes(domain_problem(error).body))
    return body


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_request: Request, error: DomainError) -> JSONResponse:
        return domain_problem(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": [str(part) for part in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in error.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(first['loc'])}: {first['msg']}" if first["loc"] else str(first["msg"])
        extra = {"errors": errors, "field": _field_of(error.errors()[0]) if errors else ""}
        return problem(422, "validation-error", "The request is not valid", detail, extra=extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:
            # A body FastAPI cannot even decode: bad input like any other, so the same 422 every
            # route documents, rather than a 400 only some clients expect.
            return problem(422, "validation-error", "The request is not valid", f"body: {error.detail}")
        code = _CODE_FOR_HTTP_STATUS.get(error.status_code, "http-error")
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = allowed_methods(_request)
        return problem(error.status_code, code, str(error.detail), str(error.detail), headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path)
        return problem(500, "internal-error", "Internal error", "an unexpected error occurred; nothing was changed")
