"""The Offices page: the rooms of the building, free or held, scoped to the signed-in user.

Creating and editing a room are the dialogs in `office_admin.py`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from tenure.entrypoints.console.web import ConsoleRoute, SignedIn, app_ctx, render
from tenure.services import offices

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
