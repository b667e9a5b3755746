"""The lookups network equipment makes, answered before FastAPI's routing: the lean ASGI path.

A softswitch asks on every call setup, FreeRADIUS on every Access-Request.
FastAPI would walk every route to find these, solve their dependencies and
validate their parameters; here a well-formed request goes straight to
`services.hot_path`:

- the two entitlement lookups: `GET`, a bearer header at most, no body, a path
  segment and `capability` FastAPI would accept;
- rlm_rest's `POST /api/v1/radius/authorize` with a `Content-Length` body
  (the guard outside has already refused one over the limit).

Anything else falls through to the FastAPI routes (`routes/entitlements.py`,
`routes/radius.py`), which answer the same way through the same functions
(and describe them in the OpenAPI document). Errors are the same problem+json
answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenure.domain.errors import DomainError, ValidationFailed
from tenure.domain.policy import Capability
from tenure.domain.radius import clean_ip
from tenure.entrypoints.api import lean_changes, radius_body
from tenure.entrypoints.api.problems import domain_problem, problem
from tenure.entrypoints.context import AppContext
from tenure.entrypoints.guards import PayloadTooLarge
from tenure.services.hot_path import HotPath

log = structlog.get_logger()

NUMBERS = "/api/v1/entitlements/numbers/"
ACCOUNTS = "/api/v1/accounts/"
ACCOUNT_SUFFIX = "/entitlements"
RADIUS_AUTHORIZE = "/api/v1/radius/authorize"
MAX_SEGMENT = 64
CAPABILITIES = {capability.value: capability for capability in Capability}


@dataclass(frozen=True)
class LeanRoute:
    """`scope["route"]` for the metrics middleware, which labels a request by its route's template."""

    path_format: str


NUMBER_ROUTE = LeanRoute(NUMBERS + "{e164}")
ACCOUNT_ROUTE = LeanRoute(ACCOUNTS + "{account_id}" + ACCOUNT_SUFFIX)
AUTHORIZE_ROUTE = LeanRoute(RADIUS_AUTHORIZE)
CHANGE_ROUTES = {action: LeanRoute(ACCOUNTS + "{account_id}/" + action) for action in lean_changes.ACTIONS}


class LeanLookups:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif scope["method"] == "GET" and not _has_body(scope):
            await self._lookup(scope, receive, send)
        elif scope["method"] == "POST" and scope["path"] == RADIUS_AUTHORIZE and _sized_body(scope):
            scope["route"], scope["path_params"] = AUTHORIZE_ROUTE, {}
            await self._authorize(scope, receive, send)
        elif scope["method"] == "POST" and _sized_body(scope) and lean_changes.route_of(scope["path"]):
            await self._change(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _change(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Suspend or unsuspend (`lean_changes`); a request FastAPI should see goes on with its body replayed."""
        ctx: AppContext = scope["app"].state.ctx
        try:
            raw = await _read_body(receive)
        except PayloadTooLarge as error:  # more bytes than Content-Length promised: the guard's cap
            await problem(413, "payload-too-large", "The request body is too large", error.detail)(scope, receive, send)
            return
        change = lean_changes.parse(scope["path"], scope["headers"], _bearer(scope["headers"]), raw)
        if change is None:
            await self.app(scope, _replay(raw, receive), send)
            return
        account_id, action = scope["path"][len(ACCOUNTS) :].split("/")
        scope["route"], scope["path_params"] = CHANGE_ROUTES[action], {"account_id": account_id}
        try:
            answer: Response = await run_in_threadpool(lean_changes.run, ctx, change)
        except DomainError as error:
            answer = domain_problem(error)
        except Exception:
            log.exception("unhandled error", path=scope["path"])
            answer = problem(
                500, "internal-error", "Internal error", "an unexpected error occurred; nothing was changed"
            )
        await answer(scope, receive, send)

    async def _lookup(self, scope: Scope, receive: Receive, send: Send) -> None:
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
        await _send_json(send, 200, body)

    async def _authorize(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx: AppContext = scope["app"].state.ctx
        try:
            raw = await _read_body(receive)
            answer = await authorize(ctx.hot_path, _bearer(scope["headers"]), raw)
        except PayloadTooLarge as error:  # more bytes than Content-Length promised: the guard's cap
            answer = problem(413, "payload-too-large", "The request body is too large", error.detail)
        except Exception:
            log.exception("unhandled error", path=scope["path"])
            answer = problem(500, "internal-error", "Internal error", "an unexpected error occurred")
        await answer(scope, receive, send)


async def authorize(hot_path: HotPath, credential: str | None, raw: bytes) -> Response:
    """rlm_rest's answer to an Access-Request, by its conventions (Debian's mods-available/rest).

    200 with `reply:` attributes is rlm_rest's `updated` (accept); 401 with them is `reject`
    (the reason kept in Reply-Message); 404 without a body `notfound`; 400 `invalid`. A bad
    credential is the problem+json 401/403 every route answers, which FreeRADIUS's site reads
    as "Tenure cannot answer" (rlm_rest decodes only `application/json`).
    """
    try:
        decision = await hot_path.radius_user(credential, lambda: _user_name(raw))
    except ValidationFailed as error:
        return problem(400, "validation-error", "The request is not valid", error.detail)
    except DomainError as error:
        return domain_problem(error)
    if decision is None:
        return Response(status_code=404)
    if not decision.allowed:
        return JSONResponse({"reply:Reply-Message": decision.because}, status_code=401)
    return JSONResponse(
        {"reply:Reply-Message": decision.because or "allowed", "reply:Class": f"tenure:{decision.account_id}"}
    )


def _user_name(raw: bytes) -> str:
    """The User-Name of rlm_rest's body, with the attributes Tenure reads checked (bad input: 400)."""
    found = radius_body.attributes(raw)
    user_name = radius_body.user_name(found)
    nas_ip = radius_body.text(found, "NAS-IP-Address")
    if nas_ip is not None:
        clean_ip(nas_ip, field="NAS-IP-Address")
    radius_body.informational(found, "Called-Station-Id")
    return user_name


async def _read_body(receive: Receive) -> bytes:
    """The whole body; the guard's `receive` has already capped it (and said so in Content-Length)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(raw: bytes, receive: Receive) -> Receive:
    """`receive` for the FastAPI route after the lean path has read the body: the body once more, then the rest."""
    replayed = False

    async def again() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    return again


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    content = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
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


def _sized_body(scope: Scope) -> bool:
    """A body of a declared length (rlm_rest's): a chunked one is FastAPI's to read and cap."""
    headers = scope["headers"]
    return any(name == b"content-length" for name, _ in headers) and not any(
        name == b"transfer-encoding" for name, _ in headers
    )


def _has_body(scope: Scope) -> bool:
    """A GET with a body is unusual: FastAPI's routes (and the body limit) deal with it."""
    return any(
        name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0")
        for name, value in scope["headers"]
    )
