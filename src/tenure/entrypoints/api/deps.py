"""FastAPI dependencies: the context, the caller behind the bearer token or API key, scopes, If-Match."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from fastapi.security import OAuth2PasswordBearer

from tenure.domain.access import Caller, Scope
from tenure.domain.api_keys import looks_like_key
from tenure.domain.errors import Forbidden, Unauthorized, ValidationFailed
from tenure.entrypoints.context import AppContext
from tenure.services import api_keys, auth

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def app_context(request: Request) -> AppContext:
    """Async because it does no I/O: FastAPI runs a plain `def` dependency on the thread pool (a hop per request)."""
    ctx: AppContext = request.app.state.ctx
    return ctx


Ctx = Annotated[AppContext, Depends(app_context)]


@dataclass(frozen=True)
class Session:
    caller: Caller
    token_id: str | None  # None when the credential is an API key


def session(ctx: Ctx, token: Annotated[str | None, Depends(oauth2)]) -> Session:
    """The credential checked against the database: a sign-in token, or an API key (`tnk_…`)."""
    if not token:
        raise Unauthorized("send `Authorization: Bearer <token>`; get one from POST /api/v1/auth/token")
    if len(token) > 512:
        raise Unauthorized("the token is not valid")
    if looks_like_key(token):
        return Session(api_keys.caller_for_key(ctx.uow, key=token, now=ctx.clock.now()), None)
    caller, token_id = auth.caller_for_token(ctx.uow(), token=token, now=ctx.clock.now())
    return Session(caller, token_id)


def current_caller(request: Request, current: Annotated[Session, Depends(session)]) -> Caller:
    """The caller of a route that names no scope: an API key may only read, and only with `read`."""
    caller = current.caller
    if caller.is_api_key:
        if request.method not in ("GET", "HEAD"):
            raise Forbidden("API keys only read; this request needs a signed-in user's token")
        caller.require_scope(Scope.READ)
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]


@cache
def require_scope(scope: Scope) -> Callable[[Session], Caller]:
    """A dependency for routes meant for keys: `caller: Annotated[Caller, Depends(require_scope(Scope.RADIUS))]`.

    A key needs a scope granting `scope` (`Caller.require_scope`), else 403; a user's token
    passes and its role decides as everywhere. Cached, so FastAPI solves it once per request.
    """

    def scoped_caller(current: Annotated[Session, Depends(session)]) -> Caller:
        current.caller.require_scope(scope)
        return current.caller

    scoped_caller.__name__ = f"caller_with_{scope.name.lower()}"
    return scoped_caller


_ETAG = re.compile(r'^\s*(?:W/)?"(\d{1,18})"\s*$')


async def expected_version(
    if_match: Annotated[
        str | None, Header(max_length=100, description='`"<version>"` from the ETag; stale → 412')
    ] = None,
) -> int | None:
    """The version a change expects; `*` or no header means "whatever it is now".

    A value that is not an entity tag at all is bad input (422), not a stale version (412):
    the client has a bug to fix rather than a newer account to re-read. Async: no I/O, no thread hop.
    """
    return version_from_if_match(if_match)


def version_from_if_match(if_match: str | None) -> int | None:
    """`expected_version`'s rule, for the lean path too."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ETAG.match(if_match)
    if match is None:
        raise ValidationFailed('If-Match must be an ETag this API sent, such as "7"', field="If-Match")
    return int(match.group(1))


ExpectedVersion = Annotated[int | None, Depends(expected_version)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="a repeat with the same key and body within 24 h returns the first answer without acting again",
    ),
]
AccountId = Annotated[str, Path(min_length=1, max_length=64, description="an account id")]
