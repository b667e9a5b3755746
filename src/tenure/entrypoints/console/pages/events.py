"""Recent changes: the audit trail of the accounts the signed-in user sees, or of one of them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from tenure.entrypoints.console.presenters import describe
from tenure.entrypoints.console.web import ConsoleRoute, SignedIn, app_ctx, render
from tenure.services import queries

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
Cursor = Annotated[str | None, Query(max_length=1000)]


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
