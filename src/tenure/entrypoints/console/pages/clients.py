"""The Clients table: search, status filter, counts, pages of 50, inactive hidden by default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tenure.adapters.db.listing import AccountFilter
from tenure.domain.access import Role
from tenure.domain.model import Kind, Status
from tenure.entrypoints.console.web import ConsoleRoute, SignedIn, app_ctx, render
from tenure.services import browse

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
PAGE_SIZE = 50


def clients_link(base: dict[str, str]) -> Callable[..., str]:
    """A Clients page URL with `base`'s filters and the given changes (an empty value drops one)."""

    def link(**changes: str) -> str:
        params = {k: v for k, v in {**base, **changes}.items() if v}
        return "/clients" + (f"?{urlencode(params)}" if params else "")

    return link


def shown_total(counts: dict[Status, int], *, inactive: bool) -> int:
    """The first chip: every client the list shows, inactive ones only when they are shown."""
    return sum(n for status, n in counts.items() if inactive or status is not Status.INACTIVE)


@router.get("/clients")
def clients(
    request: Request,
    caller: SignedIn,
    q: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    inactive: bool = False,
    within: Annotated[str, Query(max_length=64)] = "",
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    before: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    if caller.role is Role.PORTAL:
        return RedirectResponse(f"/clients/{caller.account_id}", status_code=303)
    chosen = Status(status) if status in set(Status) else None
    flt = AccountFilter(
        kind=Kind.CLIENT,
        statuses=frozenset({chosen}) if chosen else frozenset(),
        q=q.strip() or None,
        within=within.strip() or None,
        include_inactive=inactive,
    )
    ctx = app_ctx(request)
    page = browse.clients_page(
        ctx.uow(), caller=caller, flt=flt, limit=PAGE_SIZE, cursor=cursor, before=before, now=ctx.clock.now()
    )
    partners = browse.partner_choices(ctx.uow(), caller=caller)
    base = {"q": q.strip(), "status": chosen.value if chosen else "", "inactive": "1" if inactive else ""}
    base["within"] = within.strip()
    return render(
        request,
        "clients.html",
        section="clients",
        page=page,
        q=q.strip(),
        chosen=chosen,
        inactive=inactive,
        within=within.strip(),
        partners=partners,
        partner=next((p for p in partners if p.id == within.strip()), None),
        link=clients_link(base),
        statuses=list(Status),
        total=shown_total(page.counts, inactive=inactive),
        can_create=caller.role is Role.ADMIN,
    )
