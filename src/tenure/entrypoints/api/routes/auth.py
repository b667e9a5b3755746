"""Tokens, the signed-in user, and users (api.md "Authentication and users")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm

from tenure.adapters.db.users import User
from tenure.domain.errors import Forbidden, ValidationFailed
from tenure.entrypoints.api import idempotency, problems
from tenure.entrypoints.api.deps import Ctx, CurrentCaller, IdempotencyKey, Session, session
from tenure.entrypoints.api.schemas import MeOut, Page, TokenOut, UserCreate, UserOut
from tenure.services import auth, queries

router = APIRouter(tags=["auth"])
SIGNED_IN = problems.responses(401, 403)


@router.post("/auth/token", response_model=TokenOut, responses=problems.responses(401, 403, 422, 429))
def issue_token(form: Annotated[OAuth2PasswordRequestForm, Depends()], ctx: Ctx) -> TokenOut:
    """OAuth2 password grant: `username` is the email. Ten failures a minute for one email → 429."""
    if len(form.username) > 320 or len(form.password) > 1024:
        raise ValidationFailed("username or password too long")
    issued = auth.issue_token(ctx.uow(), email=form.username, password=form.password, now=ctx.clock.now())
    return TokenOut(access_token=issued.token, expires_in=issued.expires_in)


@router.delete("/auth/token", status_code=204, responses=SIGNED_IN)
def revoke_token(ctx: Ctx, current: Annotated[Session, Depends(session)]) -> Response:
    """Revoke the token this request was made with (an API key is revoked with DELETE /api-keys/{id})."""
    if current.token_id is None:
        raise Forbidden("an API key is revoked with DELETE /api/v1/api-keys/{id}")
    auth.revoke_token(ctx.uow(), token_id=current.token_id, now=ctx.clock.now())
    return Response(status_code=204)


@router.get("/me", response_model=MeOut, responses=SIGNED_IN)
def me(ctx: Ctx, caller: CurrentCaller) -> MeOut:
    view = queries.get_account(ctx.uow(), caller=caller, account_id=caller.account_id, now=ctx.clock.now())
    return MeOut.model_validate(
        {
            "user": {"id": caller.user_id, "email": caller.email},
            "account": {"id": view.account.id, "name": view.account.name, "kind": view.account.kind},
            "role": caller.role,
        }
    )


def _user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, account_id=user.account_id, role=user.role)


@router.post("/users", status_code=201, response_model=UserOut, responses=problems.responses(401, 403, 404, 422))
def create_user(body: UserCreate, ctx: Ctx, caller: CurrentCaller, key: IdempotencyKey = None) -> JSONResponse:
    """A user of an account the caller administers; the role must fit the account (portal for clients)."""

    def create() -> JSONResponse:
        user = auth.create_user(
            ctx.uow(),
            caller=caller,
            email=str(body.email),
            password=body.password,
            account_id=body.account_id,
            role=body.role,
            now=ctx.clock.now(),
        )
        return JSONResponse(_user_out(user).model_dump(mode="json"), status_code=201)

    return idempotency.run(ctx, caller, key, "POST /users " + body.model_dump_json(), create)


@router.get("/users", response_model=Page[UserOut], responses=problems.responses(401, 403, 422))
def list_users(
    ctx: Ctx,
    caller: CurrentCaller,
    account_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1000)] = None,
) -> dict[str, object]:
    users, next_cursor = auth.list_users(ctx.uow(), caller=caller, account_id=account_id, limit=limit, cursor=cursor)
    return {"items": [_user_out(u) for u in users], "next_cursor": next_cursor}


@router.delete("/users/{user_id}", status_code=204, responses=problems.responses(401, 403, 404, 409, 422))
def delete_user(
    user_id: Annotated[str, Path(min_length=1, max_length=64)], ctx: Ctx, caller: CurrentCaller
) -> Response:
    """Remove a user (its tokens and sessions end with it); never the operator's last admin (409 `last-admin`)."""
    auth.delete_user(ctx.uow(), caller=caller, user_id=user_id)
    return Response(status_code=204)
