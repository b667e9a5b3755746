"""A client's lines, which the API calls services (`/accounts/{id}/services`): add, list, remove (ends today)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from tenure.domain.catalog import Line, money_text
from tenure.entrypoints.api import idempotency
from tenure.entrypoints.api.deps import AccountId, Ctx, CurrentCaller, IdempotencyKey
from tenure.entrypoints.api.routes.accounts import CHANGE, READ, Cursor, Limit
from tenure.entrypoints.api.schemas import Page
from tenure.entrypoints.api.schemas_catalog import ServiceCreate, ServiceOut, ServiceUpdate
from tenure.services import lines as service

router = APIRouter(prefix="/accounts/{account_id}/services", tags=["services"])
ServiceId = Annotated[str, Path(min_length=1, max_length=64, description="a service id")]


def service_out(item: Line) -> dict[str, object]:
    return {
        "id": item.id,
        "account_id": item.account_id,
        "kind": item.kind.value,
        "label": item.label,
        "monthly_price": money_text(item.monthly_price),
        "start_date": item.start_date.isoformat(),
        "end_date": item.end_date.isoformat() if item.end_date else None,
        "network_id": item.network_id,
    }


@router.post("", status_code=201, response_model=ServiceOut, responses=CHANGE)
def add_service(
    account_id: AccountId, body: ServiceCreate, ctx: Ctx, caller: CurrentCaller, key: IdempotencyKey = None
) -> JSONResponse:
    """A number held by another client is 409 `number-taken`; a network id held by another
    service of the same kind is 409 `network-id-taken`."""

    def add() -> JSONResponse:
        added = service.add_service(
            ctx.uow(),
            numbers=ctx.numbers,
            caller=caller,
            account_id=account_id,
            kind=body.kind,
            label=body.label,
            monthly_price=body.monthly_price,
            start_date=body.start_date,
            now=ctx.clock.now(),
            network_id=body.network_id,
        )
        return JSONResponse(service_out(added), status_code=201)

    return idempotency.run(ctx, caller, key, f"POST /accounts/{account_id}/services {body.model_dump_json()}", add)


@router.get("", response_model=Page[ServiceOut], responses=READ)
def list_services(
    account_id: AccountId,
    ctx: Ctx,
    caller: CurrentCaller,
    include_ended: Annotated[bool, Query(description="also services already removed")] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, object]:
    items, next_cursor = service.list_services(
        ctx.uow(), caller=caller, account_id=account_id, include_ended=include_ended, limit=limit, cursor=cursor
    )
    return {"items": [service_out(i) for i in items], "next_cursor": next_cursor}


@router.delete(
    "/{service_id}",
    status_code=204,
    response_class=Response,
    responses={204: {"description": "Ended today (today is still billed)"}, **CHANGE},
)
def remove_service(account_id: AccountId, service_id: ServiceId, ctx: Ctx, caller: CurrentCaller) -> Response:
    service.remove_service(ctx.uow(), caller=caller, account_id=account_id, service_id=service_id, now=ctx.clock.now())
    return Response(status_code=204)


@router.patch("/{service_id}", response_model=ServiceOut, responses=CHANGE)
def update_service(
    account_id: AccountId, service_id: ServiceId, body: ServiceUpdate, ctx: Ctx, caller: CurrentCaller
) -> dict[str, object]:
    """Set, change or clear (null) the network id: an `updated` event on the client; taken → 409 `network-id-taken`."""
    updated = service.set_network_id(
        ctx.uow(),
        caller=caller,
        account_id=account_id,
        service_id=service_id,
        network_id=body.network_id,
        now=ctx.clock.now(),
    )
    return service_out(updated)
