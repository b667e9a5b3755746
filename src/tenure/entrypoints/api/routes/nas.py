"""The NAS registry over the API: operator admins register the RADIUS clients Tenure disconnects through."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from fastapi.responses import JSONResponse

from tenure.domain.radius import NasSpec
from tenure.entrypoints.api.deps import Ctx, CurrentCaller
from tenure.entrypoints.api.routes.accounts import CHANGE, READ, Cursor, Limit
from tenure.entrypoints.api.schemas import Page
from tenure.entrypoints.api.schemas_radius import NasCreate, NasOut, nas_out
from tenure.entrypoints.context import secret_box
from tenure.services import nas as service

router = APIRouter(prefix="/nas", tags=["radius"])
NasId = Annotated[str, Path(min_length=1, max_length=64, description="a NAS id (or its name)")]


@router.post("", status_code=201, response_model=NasOut, responses=CHANGE)
def add_nas(body: NasCreate, ctx: Ctx, caller: CurrentCaller) -> JSONResponse:
    """The secret is stored encrypted and never shown again; a name or address in use is 409 `nas-taken`."""
    spec = NasSpec(body.name, body.ip, body.secret, body.coa_port)
    entry = service.add_nas(
        ctx.uow(), caller=caller, spec=spec, boxes=secret_box, secret_key=ctx.settings.secret_key, now=ctx.clock.now()
    )
    return JSONResponse(nas_out(entry), status_code=201)


@router.get("", response_model=Page[NasOut], responses=READ)
def list_nas(ctx: Ctx, caller: CurrentCaller, limit: Limit = 50, cursor: Cursor = None) -> dict[str, object]:
    items, next_cursor = service.list_nas(ctx.uow(), caller=caller, limit=limit, cursor=cursor)
    return {"items": [nas_out(i) for i in items], "next_cursor": next_cursor}


@router.delete("/{nas_id}", status_code=204, response_class=Response, responses=CHANGE)
def remove_nas(nas_id: NasId, ctx: Ctx, caller: CurrentCaller) -> Response:
    service.remove_nas(ctx.uow(), caller=caller, name_or_id=nas_id, now=ctx.clock.now())
    return Response(status_code=204)
