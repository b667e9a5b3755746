"""Webhook subscriptions and their deliveries: each route is one service call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from tenure.entrypoints.api import idempotency
from tenure.entrypoints.api.deps import Ctx, CurrentCaller, IdempotencyKey
from tenure.entrypoints.api.schemas import Page, Problem
from tenure.entrypoints.api.webhook_schemas import (
    DeliveryOut,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    delivery_out,
    webhook_out,
)
from tenure.services import webhooks as service

ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}} for code in (401, 403, 404, 422, 429)
}
router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=ERRORS)
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=1000)]


@router.post("", status_code=201, response_model=WebhookCreated)
def create_webhook(body: WebhookCreate, ctx: Ctx, caller: CurrentCaller, key: IdempotencyKey = None) -> JSONResponse:
    request = service.CreateWebhook(url=body.url, events=body.events, secret=body.secret, account_id=body.account_id)

    def create() -> JSONResponse:
        subscription = service.create_webhook(
            ctx.uow(), caller=caller, request=request, destinations=ctx.destinations, now=ctx.clock.now()
        )
        return JSONResponse(webhook_out(subscription, with_secret=True), status_code=201)

    return idempotency.run(ctx, caller, key, "POST /webhooks " + body.model_dump_json(), create)


@router.get("", response_model=Page[WebhookOut])
def list_webhooks(ctx: Ctx, caller: CurrentCaller, limit: Limit = 50, cursor: Cursor = None) -> dict[str, object]:
    items, next_cursor = service.list_webhooks(ctx.uow(), caller=caller, limit=limit, cursor=cursor)
    return {"items": [webhook_out(s) for s in items], "next_cursor": next_cursor}


@router.get("/{webhook_id}", response_model=WebhookOut)
def get_webhook(webhook_id: str, ctx: Ctx, caller: CurrentCaller) -> dict[str, object]:
    return webhook_out(service.get_webhook(ctx.uow(), caller=caller, webhook_id=webhook_id))


@router.delete("/{webhook_id}", status_code=204, response_class=Response)
def delete_webhook(webhook_id: str, ctx: Ctx, caller: CurrentCaller) -> Response:
    service.delete_webhook(ctx.uow(), caller=caller, webhook_id=webhook_id)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=Page[DeliveryOut])
def list_deliveries(
    webhook_id: str,
    ctx: Ctx,
    caller: CurrentCaller,
    status: Annotated[str | None, Query(max_length=100, description="comma list: pending, delivered, failed")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, object]:
    statuses = [part.strip() for part in (status or "").split(",") if part.strip()]
    items, next_cursor = service.list_deliveries(
        ctx.uow(), caller=caller, webhook_id=webhook_id, statuses=statuses, limit=limit, cursor=cursor
    )
    return {"items": [delivery_out(d) for d in items], "next_cursor": next_cursor}


@router.post("/{webhook_id}/deliveries/{delivery_id}/retry", response_model=DeliveryOut, responses={409: ERRORS[422]})
def retry_delivery(webhook_id: str, delivery_id: str, ctx: Ctx, caller: CurrentCaller) -> dict[str, object]:
    """Send a failed delivery again now, with the same `webhook-id` and a new 24-hour window."""
    record = service.redeliver(
        ctx.uow(), caller=caller, webhook_id=webhook_id, delivery_id=delivery_id, now=ctx.clock.now()
    )
    return delivery_out(record)
