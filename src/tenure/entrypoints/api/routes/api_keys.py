"""API keys for network equipment: each route is one service call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from tenure.entrypoints.api import idempotency, problems
from tenure.entrypoints.api.api_key_schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, api_key_created, api_key_out
from tenure.entrypoints.api.deps import Ctx, CurrentCaller, IdempotencyKey
from tenure.entrypoints.api.schemas import Page
from tenure.services import api_keys as service

router = APIRouter(prefix="/api-keys", tags=["api keys"], responses=problems.responses(401, 403, 404, 422))
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(min_length=1, max_length=1000)]
KeyId = Annotated[str, Path(min_length=1, max_length=64, description="an API key's id")]


@router.post("", status_code=201, response_model=ApiKeyCreated)
def create_api_key(body: ApiKeyCreate, ctx: Ctx, caller: CurrentCaller, key: IdempotencyKey = None) -> JSONResponse:
    """Admins only, for their own account or one below it. The key is in this answer and never again."""

    def create() -> JSONResponse:
        created = service.create_key(
            ctx.uow(),
            caller=caller,
            name=body.name,
            scopes=[scope.value for scope in body.scopes],
            account_id=body.account_id,
            now=ctx.clock.now(),
        )
        return JSONResponse(api_key_created(created.key, created.secret), status_code=201)

    return idempotency.run(ctx, caller, key, "POST /api-keys " + body.model_dump_json(), create)


@router.get("", response_model=Page[ApiKeyOut])
def list_api_keys(ctx: Ctx, caller: CurrentCaller, limit: Limit = 50, cursor: Cursor = None) -> dict[str, object]:
    """Keys in force in the caller's tree, with `last_used_at`; never the key."""
    items, next_cursor = service.list_keys(ctx.uow(), caller=caller, limit=limit, cursor=cursor)
    return {"items": [api_key_out(k) for k in items], "next_cursor": next_cursor}


@router.delete("/{key_id}", status_code=204, response_class=Response)
def revoke_api_key(key_id: KeyId, ctx: Ctx, caller: CurrentCaller) -> Response:
    """Revoke: every server process refuses the key within a second (the next lookup, in practice)."""
    service.revoke_key(ctx.uow(), caller=caller, key_id=key_id, now=ctx.clock.now())
    return Response(status_code=204)
