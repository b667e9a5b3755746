"""A client's offices, services and charges, changed from its page (console.md "Client page").

Each dialog is a form fetched into the page's <dialog> by htmx (or opened as a
page of its own without JavaScript) and ends in one service call, so one
transaction. Only admins see the buttons; a viewer who opens a dialog's address
gets 403 with no form, and the service layer checks the role again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from tenure.domain.access import Caller, Role
from tenure.domain.catalog import Line, LineKind
from tenure.domain.errors import DomainError, Forbidden, NotFound
from tenure.entrypoints.console.forms import FormErrors, field_of, friendly, parse_day
from tenure.entrypoints.console.web import CSRF, ConsoleRoute, SignedIn, app_ctx, done, render
from tenure.services import billing, browse, lines, offices
from tenure.services.browse import ClientDetail

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
CHOICES = "office-choices"  # the part of the assign dialog a search replaces
OFFICE_CHOICES_SHOWN = 50
NUMBER_FIELD = {
    "number-taken": "label",
    "network-id-taken": "network_id",
}  # a refused rule that belongs beside a field without naming one


def _detail(request: Request, caller: Caller, account_id: str) -> ClientDetail:
    """The client, for an admin only: the role is the reason a viewer is refused, never the client's state."""
    ctx = app_ctx(request)
    detail = browse.client_detail(ctx.uow(), caller=caller, account_id=account_id, now=ctx.clock.now(), events=0)
    if caller.role is not Role.ADMIN:
        raise Forbidden("Your role can read but not change")
    return detail


def _back(account_id: str) -> str:
    return f"/clients/{account_id}"


# -- offices -------------------------------------------------------------------------------------
def _assign_form(
    request: Request, caller: Caller, account_id: str, *, replace: str, q: str, chosen: str = "", **extra: Any
) -> Response:
    detail = _detail(request, caller, account_id)
    ctx = app_ctx(request)
    free, more = offices.list_offices(
        ctx.uow(), caller=caller, free=True, limit=OFFICE_CHOICES_SHOWN, cursor=None, q=q.strip()
    )
    held = dict(detail.view.offices)
    if replace and replace not in held:
        raise NotFound(f"{detail.view.account.name} does not hold that office")
    status = 422 if extra.get("errors") or extra.get("error") else 200
    searching = request.headers.get("HX-Target") == CHOICES
    return render(
        request,
        "office_assign.html",
        status,
        **({"fragment": True} if searching else {}),
        a=detail.view.account,
        replace=replace,
        replace_name=held.get(replace, ""),
        q=q,
        chosen=chosen,
        free=[item.office for item in free],
        more=more is not None,
        errors=extra.pop("errors", FormErrors()),
        **extra,
    )


@router.get("/clients/{account_id}/offices/assign")
def assign_form(
    account_id: str,
    request: Request,
    caller: SignedIn,
    replace: Annotated[str, Query(max_length=64)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
    office_id: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Assign a free office, or (with `replace`) change one the client holds for a free one.

    A search sends the office already chosen, so it stays chosen if it still matches.
    """
    return _assign_form(request, caller, account_id, replace=replace, q=q, chosen=office_id)


@router.post("/clients/{account_id}/offices/assign", dependencies=CSRF)
def assign(
    account_id: str,
    request: Request,
    caller: SignedIn,
    version: Annotated[int | None, Form()] = None,
    office_id: Annotated[str, Form(max_length=64)] = "",
    replace: Annotated[str, Form(max_length=64)] = "",
    q: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    if not office_id:
        errors = FormErrors({"office_id": "Choose a free office."})
        return _assign_form(request, caller, account_id, replace=replace, q=q, errors=errors)
    ctx = app_ctx(request)
    common: dict[str, Any] = {"caller": caller, "account_id": account_id, "expected_version": version}
    try:
        if replace:
            account = offices.change_office(
                ctx.uow(), from_office_id=replace, to_office_id=office_id, now=ctx.clock.now(), **common
            )
        else:
            account = offices.assign_office(ctx.uow(), office_id=office_id, now=ctx.clock.now(), **common)
    except DomainError as error:
        message = friendly(error)
        return _assign_form(request, caller, account_id, replace=replace, q=q, chosen=office_id, error=message)
    view = browse.client_detail(ctx.uow(), caller=caller, account_id=account.id, now=ctx.clock.now(), events=0).view
    name = dict(view.offices).get(office_id, "")
    message = f"{account.name} moved to office {name}" if replace else f"Office {name} assigned to {account.name}"
    return done(request, _back(account.id), message)


def _release_form(request: Request, caller: Caller, account_id: str, office_id: str, **extra: Any) -> Response:
    detail = _detail(request, caller, account_id)
    held = dict(detail.view.offices)
    if office_id not in held:
        raise NotFound(f"{detail.view.account.name} does not hold that office")
    status = 422 if extra.get("error") else 200
    return render(
        request,
        "office_release.html",
        status,
        a=detail.view.account,
        office_id=office_id,
        name=held[office_id],
        **extra,
    )


@router.get("/clients/{account_id}/offices/{office_id}/release")
def release_form(account_id: str, office_id: str, request: Request, caller: SignedIn) -> Response:
    return _release_form(request, caller, account_id, office_id)


@router.post("/clients/{account_id}/offices/{office_id}/release", dependencies=CSRF)
def release(
    account_id: str, office_id: str, request: Request, caller: SignedIn, version: Annotated[int | None, Form()] = None
) -> Response:
    ctx = app_ctx(request)
    try:
        account = offices.release_office(
            ctx.uow(),
            caller=caller,
            account_id=account_id,
            office_id=office_id,
            expected_version=version,
            now=ctx.clock.now(),
        )
    except DomainError as error:
        return _release_form(request, caller, account_id, office_id, error=friendly(error))
    name = offices.get_office(ctx.uow(), caller=caller, office_id=office_id).name
    return done(request, _back(account.id), f"Office {name} released from {account.name}")


# -- services ------------------------------------------------------------------------------------
class ServiceForm(BaseModel):
    """The Add service form as typed. A new field is one attribute here and one block in _service_form.html."""

    kind: str = Field(LineKind.PHONE_NUMBER.value, max_length=20)
    label: str = Field("", max_length=500)
    monthly_price: str = Field("", max_length=50)
    start_date: str = Field("", max_length=20)
    network_id: str = Field("", max_length=300)


def _service_form(request: Request, caller: Caller, account_id: str, values: ServiceForm, **extra: Any) -> Response:
    detail = _detail(request, caller, account_id)
    status = 422 if extra.get("errors") or extra.get("error") else 200
    return render(
        request,
        "service_add.html",
        status,
        a=detail.view.account,
        values=values.model_dump(),
        kinds=list(LineKind),
        today=detail.view.today.isoformat(),
        errors=extra.pop("errors", FormErrors()),
        **extra,
    )


@router.get("/clients/{account_id}/services/new")
def add_service_form(account_id: str, request: Request, caller: SignedIn) -> Response:
    return _service_form(request, caller, account_id, ServiceForm())


@router.post("/clients/{account_id}/services/new", dependencies=CSRF)
def add_service(account_id: str, request: Request, caller: SignedIn, form: Annotated[ServiceForm, Form()]) -> Response:
    errors = FormErrors()
    start = parse_day(form.start_date, "start_date", errors)
    if form.kind not in set(LineKind):
        errors["kind"] = "Choose a kind of service."
    if not form.label.strip():
        errors["label"] = "Enter the number or a label."
    if not form.monthly_price.strip():
        errors["monthly_price"] = "Enter the monthly price, such as 25.00 (0 for free)."
    if errors:
        return _service_form(request, caller, account_id, form, errors=errors)
    ctx = app_ctx(request)
    try:
        added = lines.add_service(
            ctx.uow(),
            numbers=ctx.numbers,
            caller=caller,
            account_id=account_id,
            kind=LineKind(form.kind),
            label=form.label,
            monthly_price=form.monthly_price,
            start_date=start,
            now=ctx.clock.now(),
            network_id=form.network_id or None,
        )
    except DomainError as error:
        field = field_of(error) or NUMBER_FIELD.get(error.code)
        if field in ServiceForm.model_fields:
            return _service_form(request, caller, account_id, form, errors=FormErrors({field: friendly(error)}))
        return _service_form(request, caller, account_id, form, error=friendly(error))
    return done(request, _back(account_id), f"{LineKind(form.kind).label} {added.label} added")


def _remove_form(request: Request, caller: Caller, account_id: str, service_id: str, **extra: Any) -> Response:
    detail = _detail(request, caller, account_id)
    service = _service_of(detail, service_id)
    status = 422 if extra.get("error") else 200
    return render(
        request, "service_remove.html", status, a=detail.view.account, s=service, today=detail.view.today, **extra
    )


def _service_of(detail: ClientDetail, service_id: str) -> Line:
    for service in detail.services:
        if service.id == service_id:
            return service
    raise NotFound(f"{detail.view.account.name} has no such service")


@router.get("/clients/{account_id}/services/{service_id}/remove")
def remove_service_form(account_id: str, service_id: str, request: Request, caller: SignedIn) -> Response:
    return _remove_form(request, caller, account_id, service_id)


@router.post("/clients/{account_id}/services/{service_id}/remove", dependencies=CSRF)
def remove_service(account_id: str, service_id: str, request: Request, caller: SignedIn) -> Response:
    ctx = app_ctx(request)
    try:
        removed = lines.remove_service(
            ctx.uow(), caller=caller, account_id=account_id, service_id=service_id, now=ctx.clock.now()
        )
    except DomainError as error:
        return _remove_form(request, caller, account_id, service_id, error=friendly(error))
    return done(request, _back(account_id), f"{removed.kind.label} {removed.label} removed: billed through today")


# -- charges -------------------------------------------------------------------------------------
@router.get("/clients/{account_id}/charges/{month}.csv")
def charges_csv(account_id: str, month: str, request: Request, caller: SignedIn) -> Response:
    """One client's charge lines for a month, in the columns of the Billing page's CSV."""
    chunks = billing.month_csv(app_ctx(request).uow(), caller=caller, month=month, account_id=account_id)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="charges-{month}-{account_id}.csv"'},
    )
