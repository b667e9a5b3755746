"""Webhook subscriptions: list, create (the secret shown once), delete, recent deliveries, retry a failed one.

Every call goes through services.webhooks, which scopes to the caller's tree
and refuses clients' users. URLs are shown redacted (`domain.destinations.redact`)
everywhere except the answer to the creation, as in the API.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from tenure.domain.access import Caller, Role
from tenure.domain.destinations import redact
from tenure.domain.errors import DomainError, Forbidden
from tenure.domain.notifications import WEBHOOK_EVENT_TYPES
from tenure.entrypoints.console.forms import FormErrors, field_of, friendly
from tenure.entrypoints.console.web import CSRF, ConsoleRoute, SignedIn, app_ctx, done, render
from tenure.services import queries
from tenure.services import webhooks as service

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
READ_ONLY = "Your role can read but not change"


def _account_names(request: Request, caller: Caller, ids: set[str]) -> dict[str, str]:
    ctx = app_ctx(request)
    now = ctx.clock.now()
    return {i: queries.get_account(ctx.uow(), caller=caller, account_id=i, now=now).account.name for i in ids}


@router.get("/webhooks")
def webhook_list(request: Request, caller: SignedIn) -> Response:
    items, next_cursor = service.list_webhooks(app_ctx(request).uow(), caller=caller, limit=100, cursor=None)
    names = _account_names(request, caller, {s.account_id for s in items})
    rows = [(s, redact(s.url), names.get(s.account_id, "")) for s in items]
    return render(request, "webhooks.html", section="webhooks", rows=rows, more=next_cursor is not None)


def _create_form(request: Request, caller: Caller, status: int = 200, **extra: Any) -> Response:
    service.list_webhooks(app_ctx(request).uow(), caller=caller, limit=1, cursor=None)  # refuses clients' users
    if caller.role is not Role.ADMIN:
        raise Forbidden(READ_ONLY)
    values = extra.pop("values", None) or {"url": "", "events": list(WEBHOOK_EVENT_TYPES)}
    return render(request, "webhook_new.html", status, events=WEBHOOK_EVENT_TYPES, values=values, **extra)


@router.get("/webhooks/new")
def create_form(request: Request, caller: SignedIn) -> Response:
    return _create_form(request, caller)


@router.post("/webhooks/new", dependencies=CSRF)
def create(
    request: Request,
    caller: SignedIn,
    url: Annotated[str, Form(max_length=2000)] = "",
    events: Annotated[list[str] | None, Form(max_length=64)] = None,
) -> Response:
    chosen = [e for e in events or [] if e in WEBHOOK_EVENT_TYPES]
    values = {"url": url, "events": chosen}
    ctx = app_ctx(request)
    try:
        subscription = service.create_webhook(
            ctx.uow(),
            caller=caller,
            request=service.CreateWebhook(url=url, events=chosen),
            destinations=ctx.destinations,
            now=ctx.clock.now(),
        )
    except DomainError as error:
        field = field_of(error)
        if isinstance(error, Forbidden) or field not in ("url", "events"):
            raise
        errors = FormErrors({field: _field_message(field, error)})
        return _create_form(request, caller, 422, values=values, errors=errors)
    return render(request, "webhook_created.html", 201, subscription=subscription)


def _field_message(field: str, error: DomainError) -> str:
    if field == "events":
        return "Choose at least one event."
    if error.detail.startswith("url must"):
        return "Enter an http:// or https:// URL with a host name."
    return friendly(error)  # a partner's admin and a private address: the guard's own words


@router.get("/webhooks/{webhook_id}")
def webhook_detail(webhook_id: str, request: Request, caller: SignedIn) -> Response:
    uow = app_ctx(request).uow
    subscription = service.get_webhook(uow(), caller=caller, webhook_id=webhook_id)
    deliveries, _ = service.list_deliveries(
        uow(), caller=caller, webhook_id=webhook_id, statuses=(), limit=50, cursor=None
    )
    names = _account_names(request, caller, {subscription.account_id} | {d.account_id for d in deliveries})
    return render(
        request,
        "webhook.html",
        section="webhooks",
        w=subscription,
        url=redact(subscription.url),
        deliveries=deliveries,
        names=names,
    )


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", dependencies=CSRF)
def retry(webhook_id: str, delivery_id: str, request: Request, caller: SignedIn) -> Response:
    ctx = app_ctx(request)
    record = service.redeliver(
        ctx.uow(), caller=caller, webhook_id=webhook_id, delivery_id=delivery_id, now=ctx.clock.now()
    )
    return done(request, f"/webhooks/{webhook_id}", f"Delivery of {record.event_type} queued to be sent again")


def _delete_form(request: Request, caller: Caller, webhook_id: str) -> Response:
    subscription = service.get_webhook(app_ctx(request).uow(), caller=caller, webhook_id=webhook_id)
    if caller.role is not Role.ADMIN:
        raise Forbidden(READ_ONLY)
    return render(request, "webhook_delete.html", w=subscription, url=redact(subscription.url))


@router.get("/webhooks/{webhook_id}/delete")
def delete_form(webhook_id: str, request: Request, caller: SignedIn) -> Response:
    return _delete_form(request, caller, webhook_id)


@router.post("/webhooks/{webhook_id}/delete", dependencies=CSRF)
def delete(webhook_id: str, request: Request, caller: SignedIn) -> Response:
    uow = app_ctx(request).uow
    subscription = service.get_webhook(uow(), caller=caller, webhook_id=webhook_id)
    service.delete_webhook(uow(), caller=caller, webhook_id=webhook_id)
    return done(request, "/webhooks", f"Webhook to {redact(subscription.url)} deleted")
