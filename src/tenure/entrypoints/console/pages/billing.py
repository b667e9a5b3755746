"""The Billing page and the month's CSV, scoped to the signed-in user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from starlette.requests import Request
from starlette.responses import Response

from tenure.domain.errors import DomainError
from tenure.entrypoints.console.forms import friendly
from tenure.entrypoints.console.web import ConsoleRoute, SignedIn, app_ctx, render
from tenure.services import billing, browse
from tenure.services.common import today

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


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
