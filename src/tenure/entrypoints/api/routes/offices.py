"""Offices: the building's rooms, and assigning them to residential clients."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from tenure.adapters.db.offices import OfficeListing
from tenure.domain.catalog import KEEP, OfficeChanges
from tenure.domain.errors import ValidationFailed
from tenure.entrypoints.api import idempotency
from tenure.entrypoints.api.deps import AccountId, Ctx, CurrentCaller, ExpectedVersion, IdempotencyKey
from tenure.entrypoints.api.routes.accounts import ACCOUNT, CHANGE, READ, Cursor, Limit, account_response
from tenure.entrypoints.api.schemas import Page
from tenure.entrypoints.api.schemas_catalog import OfficeCreate, OfficeOut, OfficeUpdate
from tenure.services import offices as service

router = APIRouter(tags=["offices"])
OfficeId = Annotated[str, Path(min_length=1, max_length=64, description="an office id")]


def office_out(listing: OfficeListing) -> dict[str, object]:
    office = listing.office
    holder = {"id": listing.holder[0], "name": listing.holder[1]} if listing.holder else None
    return {
        "id": office.id,
        "name": office.name,
        "floor": office.floor,
        "capacity": office.capacity,
        "free": listing.free,
        "held_by": holder,
    }


@router.post("/offices", status_code=201, response_model=OfficeOut, responses=CHANGE)
def create_office(body: OfficeCreate, ctx: Ctx, caller: CurrentCaller, key: IdempotencyKey = None) -> JSONResponse:
    def create() -> JSONResponse:
        office = service.create_office(
            ctx.uow(), caller=caller, name=body.name, floor=body.floor, capacity=body.capacity, now=ctx.clock.now()
        )
        return JSONResponse(office_out(OfficeListing(office, True, None)), status_code=201)

    return idempotency.run(ctx, caller, key, "POST /offices " + body.model_dump_json(), create)


@router.patch("/offices/{office_id}", response_model=OfficeOut, responses=CHANGE, summary="Edit an office")
def update_office(office_id: OfficeId, body: OfficeUpdate, ctx: Ctx, caller: CurrentCaller) -> dict[str, object]:
    """Operator admins only; the same rules as create (a name another room has is 422 on `name`)."""
    present = body.model_fields_set
    if "name" in present and body.name is None:
        raise ValidationFailed("an office keeps a name: name may not be null", field="name")
    changes = OfficeChanges(
        name=body.name if body.name is not None else KEEP,
        floor=body.floor if "floor" in present else KEEP,
        capacity=body.capacity if "capacity" in present else KEEP,
    )
    office = service.update_office(ctx.uow(), caller=caller, office_id=office_id, changes=changes)
    return {"id": office.id, "name": office.name, "floor": office.floor, "capacity": office.capacity}


@router.get("/offices", response_model=Page[OfficeOut], responses=READ)
def list_offices(
    ctx: Ctx,
    caller: CurrentCaller,
    free: Annotated[bool | None, Query(description="true: only free rooms; false: only held ones")] = None,
    q: Annotated[str | None, Query(max_length=100, description="rooms whose name contains this, any case")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, object]:
    items, next_cursor = service.list_offices(ctx.uow(), caller=caller, free=free, limit=limit, cursor=cursor, q=q)
    return {"items": [office_out(i) for i in items], "next_cursor": next_cursor}


@router.put(
    "/accounts/{account_id}/offices/{office_id}",
    response_model=None,
    responses={200: ACCOUNT, **CHANGE},
    summary="Assign an office to a residential client",
)
def assign_office(
    account_id: AccountId, office_id: OfficeId, ctx: Ctx, caller: CurrentCaller, version: ExpectedVersion
) -> JSONResponse:
    account = service.assign_office(
        ctx.uow(),
        caller=caller,
        account_id=account_id,
        office_id=office_id,
        expected_version=version,
        now=ctx.clock.now(),
    )
    return account_response(ctx, account, caller=caller)


@router.delete(
    "/accounts/{account_id}/offices/{office_id}",
    status_code=204,
    response_class=Response,
    responses={204: {"description": "Released"}, **CHANGE},
    summary="Release an office",
)
def release_office(
    account_id: AccountId, office_id: OfficeId, ctx: Ctx, caller: CurrentCaller, version: ExpectedVersion
) -> Response:
    service.release_office(
        ctx.uow(),
        caller=caller,
        account_id=account_id,
        office_id=office_id,
        expected_version=version,
        now=ctx.clock.now(),
    )
    return Response(status_code=204)
