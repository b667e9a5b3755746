"""Offices, billing (with the month's CSV) and recent changes, each scoped to the signed-in user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from starlette.requests import Request
from starlette.responses import Response

from tenure.domain.errors import DomainError
from tenure.entrypoints.console.forms import friendly
from tenure.entrypoints.console.presenters import describe
from tenure.entrypoints.console.web import ConsoleRoute, SignedIn, app_ctx, render
from tenure.services import billing, browse, offices, queries
from tenure.services.common import today

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
Cursor = Annotated[str | None, Query(max_length=1000)]


@router.get("/offices")
def office_list(request: Request, caller: SignedIn, show: str = "all", cursor: Cursor = None) -> Response:
    free = {"free": True, "held": False}.get(show)
    items, next_cursor = offices.list_offices(
        app_ctx(request).uow(), caller=caller, free=free, limit=100, cursor=cursor
    )
    return render(
        request, "offices.html", section="offices", items=items, next_cursor=next_cursor, show=show, cursor=cursor
    )


def _this_month(request: Request) -> str:
    ctx = app_ctx(request)
    with ctx.uow().reading() as uow:
        return today(uow, ctx.clock.now()).strftime("%Y-%m")


@router.get("/billing")
def billing_page(request: Request, caller: SignedIn, month: Annotated[str, Query(max_length=7)] = "") -> Response:
    month = month or _this_month(request)
    try:
        charges = browse.month_charges(app_ctx(request).uow(), caller=caller, month=month)
    except DomainError as error:
        return render(request, "billing.html", 422, section="billing", month=month, charges=None, error=friendly(error))
    return render(request, "billing.html", section="billing", month=month, charges=charges)


@router.get("/billing/{month}.csv")
def billing_csv(month: str, request: Request, caller: SignedIn) -> Response:
    chunks = billing.month_csv(app_ctx(request).uow(), caller=caller, month=month)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="charges-{month}.csv"'},
    )


@router.get("/events")
def events(
    request: Request,
    caller: SignedIn,
    account_id: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Cursor = None,
) -> Response:
    entries, next_cursor = queries.account_events(
        app_ctx(request).uow(), caller=caller, account_id=account_id or None, limit=50, cursor=cursor
    )
    return render(
        request,
        "events.html",
        section="events",
        history=[(entry, describe(entry)) for entry in entries],
        next_cursor=next_cursor,
        account_id=account_id,
    )
