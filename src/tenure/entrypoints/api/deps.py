"""FastAPI dependencies: the context, the caller behind the bearer token, If-Match."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer

from tenure.domain.access import Caller
from tenure.domain.errors import Unauthorized, VersionConflict
from tenure.entrypoints.context import AppContext
from tenure.services import auth

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def app_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


Ctx = Annotated[AppContext, Depends(app_context)]


@dataclass(frozen=True)
class Session:
    caller: Caller
    token_id: str


def session(ctx: Ctx, token: Annotated[str | None, Depends(oauth2)]) -> Session:
    if not token:
        raise Unauthorized("send `Authorization: Bearer <token>`; get one from POST /api/v1/auth/token")
    if len(token) > 512:
        raise Unauthorized("the token is not valid")
    caller, token_id = auth.caller_for_token(ctx.uow(), token=token, now=ctx.clock.now())
    return Session(caller, token_id)


def current_caller(current: Annotated[Session, Depends(session)]) -> Caller:
    return current.caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]

_ETAG = re.compile(r'^\s*(?:W/)?"(\d{1,18})"\s*$')


def expected_version(
    if_match: Annotated[str | None, Header(description='`"<version>"` from the ETag; stale → 412')] = None,
) -> int | None:
    """The version a change expects; `*` or no header means "whatever it is now"."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ETAG.match(if_match)
    if match is None:
        raise VersionConflict(f"If-Match {if_match!r} does not match the account's ETag")
    return int(match.group(1))


ExpectedVersion = Annotated[int | None, Depends(expected_version)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]
