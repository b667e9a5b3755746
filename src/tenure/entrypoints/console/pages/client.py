"""A client's page, Edit client, and View as client."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from tenure.adapters.db.listing import AccountFilter
from tenure.domain import lifecycle
from tenure.domain.access import Caller, Role
from tenure.domain.actions import allowed_actions, can_edit, can_view_as_client, start_date_editable
from tenure.domain.errors import DomainError, Forbidden
from tenure.domain.model import Account, Contact, Kind, Stage, Status
from tenure.entrypoints.console.forms import FormErrors, field_of, friendly, parse_day, parse_email
from tenure.entrypoints.console.pages.clients import PAGE_SIZE, clients_link, shown_total
from tenure.entrypoints.console.presenters import describe
from tenure.entrypoints.console.web import CSRF, ConsoleRoute, SignedIn, app_ctx, done, render
from tenure.services import accounts, billing, browse, lines, queries, viewing

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


def client_page(request: Request, caller: Caller, account_id: str) -> Response:
    ctx = app_ctx(request)
    detail = browse.client_detail(ctx.uow(), caller=caller, account_id=account_id, now=ctx.clock.now())
    account = detail.view.account
    if caller.role is Role.PORTAL:
        return render(request, "client_home.html", section="clients", detail=detail, banner=False)
    charges = []
    if account.is_client:
        charges = billing.recent_charges(
            ctx.uow(), caller=caller, account_id=account.id, today=detail.view.today, now=ctx.clock.now()
        )
    extra = _partner_clients(request, caller, account) if account.kind.is_partner else {}
    return render(
        request,
        "client.html",
        section="partners" if account.kind.is_partner else "clients",
        detail=detail,
        a=account,
        view=detail.view,
        actions=allowed_actions(
            account, role=caller.role, authority=detail.authority, blocking_children=detail.blocking_children
        ),
        own_account=detail.authority.is_own_account,
        editable=can_edit(account, role=caller.role),
        as_client=can_view_as_client(account, role=caller.role, caller_kind=caller.account_kind),
        history=[(entry, describe(entry)) for entry in detail.events],
        changes_held=can_change_holdings(account, role=caller.role),
        charges=[(month_title(m.month), m) for m in charges],
        **extra,
    )


def _partner_clients(request: Request, caller: Caller, partner: Account) -> dict[str, Any]:
    """A reseller's or channel's clients (its whole subtree's), as the Clients page shows them filtered."""
    ctx = app_ctx(request)
    flt = AccountFilter(kind=Kind.CLIENT, within=partner.id)
    page = browse.clients_page(
        ctx.uow(), caller=caller, flt=flt, limit=PAGE_SIZE, cursor=None, before=None, now=ctx.clock.now()
    )
    return {
        "page": page,
        "link": clients_link({"within": partner.id}),
        "chosen": None,
        "inactive": False,
        "total": shown_total(page.counts, inactive=False),
        "statuses": list(Status),
        "q": "",
        "partner": partner,
    }


def can_change_holdings(account: Account, *, role: Role) -> bool:
    """Offices and services of a client change only by an admin, and not once it is decommissioned."""
    return role is Role.ADMIN and account.is_client and account.stage is not Stage.DECOMMISSIONED


def month_title(month: str) -> str:
    """'2026-11' -> 'November 2026'."""
    return date.fromisoformat(month + "-01").strftime("%B %Y")


@router.get("/clients/{account_id}")
def client(account_id: str, request: Request, caller: SignedIn) -> Response:
    return client_page(request, caller, account_id)


@router.post("/clients/{account_id}/services/{service_id}/network-id", dependencies=CSRF)
def set_network_id(
    account_id: str, service_id: str, request: Request, caller: SignedIn, network_id: Annotated[str, Form()] = ""
) -> Response:
    """Set or clear (blank) a service's network id; a refusal (taken, bad characters) shows the error page."""
    ctx = app_ctx(request)
    wanted = network_id.strip() or None
    updated = lines.set_network_id(
        ctx.uow(), caller=caller, account_id=account_id, service_id=service_id, network_id=wanted, now=ctx.clock.now()
    )
    message = f"Network ID of {updated.label} set to {wanted}" if wanted else f"Network ID of {updated.label} cleared"
    return done(request, f"/clients/{account_id}", message)


@router.get("/clients/{account_id}/as-client")
def as_client(account_id: str, request: Request, caller: SignedIn) -> Response:
    ctx = app_ctx(request)
    detail = viewing.view_as_client(ctx.uow(), caller=caller, account_id=account_id, now=ctx.clock.now())
    return render(request, "client_home.html", section="clients", detail=detail, banner=True)


def _edit_form(request: Request, caller: Caller, account_id: str, **extra: object) -> Response:
    ctx = app_ctx(request)
    view = queries.get_account(ctx.uow(), caller=caller, account_id=account_id, now=ctx.clock.now())
    if not can_edit(view.account, role=caller.role):
        raise Forbidden(f"{view.account.name} cannot be edited")
    posted = extra.pop("values", None)
    values: dict[str, str] = dict(posted) if isinstance(posted, dict) else {}
    values = values or {
        "name": view.account.name,
        "billing_ref": view.account.billing_ref,
        "start_date": view.account.start_date.isoformat() if view.account.start_date else "",
        "end_date": view.account.end_date.isoformat() if view.account.end_date else "",
        "contact_name": view.account.main_contact.name,
        "contact_email": view.account.main_contact.email,
        "notes": view.account.notes,
    }
    if not start_date_editable(view.account):
        # A disabled field is not posted: show the stored date again, never a blank one.
        values["start_date"] = view.account.start_date.isoformat() if view.account.start_date else ""
    status = 422 if extra.get("errors") or extra.get("error") else 200
    return render(
        request,
        "edit_client.html",
        status,
        section="clients",
        a=view.account,
        offices=view.offices,
        values=values,
        start_editable=start_date_editable(view.account),
        **extra,
    )


@router.get("/clients/{account_id}/edit")
def edit_page(account_id: str, request: Request, caller: SignedIn) -> Response:
    return _edit_form(request, caller, account_id)


@router.post("/clients/{account_id}/edit", dependencies=CSRF)
def edit(
    account_id: str,
    request: Request,
    caller: SignedIn,
    version: Annotated[int, Form()],
    name: Annotated[str, Form(max_length=500)] = "",
    billing_ref: Annotated[str, Form(max_length=100)] = "",
    start_date: Annotated[str, Form(max_length=20)] = "",
    end_date: Annotated[str, Form(max_length=20)] = "",
    contact_name: Annotated[str, Form(max_length=200)] = "",
    contact_email: Annotated[str, Form(max_length=320)] = "",
    notes: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    values = {
        "name": name,
        "billing_ref": billing_ref,
        "start_date": start_date,
        "end_date": end_date,
        "contact_name": contact_name,
        "contact_email": contact_email,
        "notes": notes,
    }
    errors = FormErrors()
    start = parse_day(start_date, "start_date", errors)
    end = parse_day(end_date, "end_date", errors)
    email = parse_email(contact_email, "contact_email", errors)
    if not name.strip():
        errors["name"] = "Enter the client's name."
    if errors:
        return _edit_form(request, caller, account_id, values=values, errors=errors)
    changes = lifecycle.AccountChanges(
        name=name,
        billing_ref=billing_ref.strip(),
        main_contact=Contact(contact_name.strip(), email),
        start_date=start,
        end_date=end,
        notes=notes.replace("\r\n", "\n"),
    )
    ctx = app_ctx(request)
    try:
        account = accounts.update_account(
            ctx.uow(),
            caller=caller,
            account_id=account_id,
            changes=changes,
            expected_version=version,
            now=ctx.clock.now(),
        )
    except DomainError as error:
        field = field_of(error)
        message = friendly(error, name.strip() or "The client")
        if field:
            return _edit_form(request, caller, account_id, values=values, errors=FormErrors({field: message}))
        return _edit_form(request, caller, account_id, error=message)
    return done(request, f"/clients/{account.id}", f"{account.name} saved")
