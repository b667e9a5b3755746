"""API keys: list the keys in force, create one (its key shown on this one page only), revoke one.

The new key is rendered straight into the answer to the form, never put in the
session cookie's flash: it is stored only as a hash and must not linger anywhere.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from tenure.domain.access import Caller, Scope
from tenure.domain.errors import DomainError
from tenure.entrypoints.console.forms import friendly
from tenure.entrypoints.console.web import CSRF, ConsoleRoute, SignedIn, app_ctx, done, render
from tenure.services import api_keys

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


def _page(request: Request, caller: Caller, status_code: int = 200, **extra: object) -> Response:
    keys, _ = api_keys.list_keys(app_ctx(request).uow(), caller=caller, limit=500, cursor=None)
    return render(request, "api_keys.html", status_code, section="api-keys", keys=keys, scopes=list(Scope), **extra)


@router.get("/api-keys")
def key_list(request: Request, caller: SignedIn) -> Response:
    return _page(request, caller)


@router.post("/api-keys", dependencies=CSRF)
def create(
    request: Request,
    caller: SignedIn,
    name: Annotated[str, Form(max_length=500)] = "",
    scopes: Annotated[list[str] | None, Form(max_length=20)] = None,
) -> Response:
    ctx = app_ctx(request)
    try:
        created = api_keys.create_key(
            ctx.uow(), caller=caller, name=name, scopes=scopes or [], account_id=None, now=ctx.clock.now()
        )
    except DomainError as error:
        return _page(request, caller, 422, error=friendly(error), values={"name": name, "scopes": scopes or []})
    return _page(request, caller, created=created)


@router.post("/api-keys/{key_id}/revoke", dependencies=CSRF)
def revoke(key_id: str, request: Request, caller: SignedIn) -> Response:
    ctx = app_ctx(request)
    api_keys.revoke_key(ctx.uow(), caller=caller, key_id=key_id, now=ctx.clock.now())
    return done(request, "/api-keys", "API key revoked: it is refused from now on")
