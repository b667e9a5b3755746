"""FastAPI dependencies: the context, the caller behind the bearer token, If-Match."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from fastapi.security import OAuth2PasswordBearer

from tenure.domain.access import Caller
from tenure.domain.errors import Unauthorized, ValidationFailed
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
    if_match: Annotated[
        str | None, Header(max_length=100, description='`"<version>"` from the ETag; stale → 412')
    ] = None,
) -> int | None:
    """The version a change expects; `*` or no header means "whatever it is now".

    A value that is not an entity tag at all is bad input (422), not a stale version (412):
    the client has a bug to fix rather than a newer account to re-read.
    """
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
