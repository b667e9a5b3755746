"""The two entitlement lookups answered before FastAPI's routing: the lean ASGI path.

A softswitch asks on every call setup. FastAPI would walk every route to find
these two, solve their dependencies and validate their parameters; here a
well-formed request (`GET`, a bearer header at most, no body, a path segment
and `capability` FastAPI would accept) goes straight to `services.hot_path`,
and anything else falls through to the FastAPI routes in
`routes/entitlements.py`, which answer the same way (and describe both in the
OpenAPI document). Errors are the same problem+json answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from tenure.domain.errors import DomainError
from tenure.domain.policy import Capability
from tenure.entrypoints.api.problems import domain_problem, problem
from tenure.entrypoints.context import AppContext

log = structlog.get_logger()

NUMBERS = "/api/v1/entitlements/numbers/"
ACCOUNTS = "/api/v1/accounts/"
ACCOUNT_SUFFIX = "/entitlements"
MAX_SEGMENT = 64
CAPABILITIES = {capability.value: capability for capability in Capability}


@dataclass(frozen=True)
class LeanRoute:
    """`scope["route"]` for the metrics middleware, which labels a request by its route's template."""

    path_format: str


NUMBER_ROUTE = LeanRoute(NUMBERS + "{e164}")
ACCOUNT_ROUTE = LeanRoute(ACCOUNTS + "{account_id}" + ACCOUNT_SUFFIX)


class LeanLookups:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or _has_body(scope):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(NUMBERS):
            e164 = _segment(path[len(NUMBERS) :])
            capability = _capability(scope["query_string"])
            if e164 is not None and capability is not None:
                scope["route"], scope["path_params"] = NUMBER_ROUTE, {"e164": e164}
                await self._answer(scope, receive, send, number=e164, capability=capability)
                return
        elif path.startswith(ACCOUNTS) and path.endswith(ACCOUNT_SUFFIX):
            account_id = _segment(path[len(ACCOUNTS) : -len(ACCOUNT_SUFFIX)])
            if account_id is not None:
                scope["route"], scope["path_params"] = ACCOUNT_ROUTE, {"account_id": account_id}
                await self._answer(scope, receive, send, account_id=account_id)
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, **asked: Any) -> None:
        ctx: AppContext = scope["app"].state.ctx
        credential = _bearer(scope["headers"])
        try:
            if "number" in asked:
                body = number_body(await ctx.hot_path.number(credential, asked["number"], asked["capability"]))
            else:
                body = account_body(await ctx.hot_path.account(credential, asked["account_id"]))
        except DomainError as error:
            await domain_problem(error)(scope, receive, send)
            return
        except Exception:
            log.exception("unhandled error", path=scope["path"])
            answer = problem(500, "internal-error", "Internal error", "an unexpected error occurred")
            await answer(scope, receive, send)
            return
        content = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": content})


def number_body(found: Any) -> dict[str, Any]:
    return {
        "number": found.number,
        "account_id": found.account_id,
        "capability": found.capability.value,
        "allowed": found.allowed,
        "because": found.because,
    }


def account_body(found: Any) -> dict[str, Any]:
    return {
        "account_id": found.account_id,
        "status": found.status.value,
        "billed": found.billed,
        "capabilities": {c.value: {"allowed": d.allowed, "because": d.because} for c, d in found.decisions.items()},
    }


def _segment(raw: str) -> str | None:
    """One non-empty path segment FastAPI would accept (`{e164}`, `{account_id}`: 1 to 64 characters)."""
    return raw if 0 < len(raw) <= MAX_SEGMENT and "/" not in raw else None


def _capability(query: bytes) -> Capability | None:
    """`capability` given once with a known value; anything else is FastAPI's to refuse (422)."""
    if not query:
        return None
    try:
        values = parse_qs(query.decode("latin-1"), strict_parsing=True).get("capability", [])
    except ValueError:
        return None
    return CAPABILITIES.get(values[0]) if len(values) == 1 else None


def _bearer(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The credential of `Authorization: Bearer …` (the scheme in any case), as OAuth2PasswordBearer reads it."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, credential = value.decode("latin-1").partition(" ")
            return credential if scheme.lower() == "bearer" and credential else None
    return None


def _has_body(scope: Scope) -> bool:
    """A GET with a body is unusual: FastAPI's routes (and the body limit) deal with it."""
    return any(
        name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0")
        for name, value in scope["headers"]
    )
