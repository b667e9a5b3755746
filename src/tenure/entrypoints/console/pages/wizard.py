"""New client wizard: Details -> Type and offices -> Services -> Review (console.md).

The client is created at the end of Details as `new`; each later step saves
through the ordinary use cases and then records the next step, so a wizard
left midway resumes where it stopped.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tenure.domain import lifecycle
from tenure.domain.access import Caller
from tenure.domain.catalog import LineKind
from tenure.domain.errors import DomainError, NotFound
from tenure.domain.model import Account, ClientType, Contact, Kind, Status
from tenure.entrypoints.console.forms import FormErrors, field_of, friendly, parse_day, parse_email
from tenure.entrypoints.console.web import CSRF, ConsoleRoute, SignedIn, app_ctx, done, render
from tenure.services import accounts, browse, lines, offices, wizard
from tenure.services.wizard import Finish, WizardStep

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
Text = Annotated[str, Form(max_length=500)]


def _page(request: Request, caller: Caller, step: WizardStep, draft: Account | None, **extra: Any) -> Response:
    ctx = app_ctx(request)
    context: dict[str, Any] = {"steps": list(WizardStep), "step": step, "draft": draft, "values": {}, "errors": {}}
    if step is WizardStep.DETAILS and draft is None:
        context["parents"] = browse.parent_choices(ctx.uow(), caller=caller)
    if draft is not None:
        detail = browse.client_detail(ctx.uow(), caller=caller, account_id=draft.id, now=ctx.clock.now(), events=0)
        context["detail"] = detail
        if step is WizardStep.TYPE:
            free, _ = offices.list_offices(ctx.uow(), caller=caller, free=True, limit=500, cursor=None)
            context["free_offices"] = [item.office for item in free]
        if step is WizardStep.SERVICES:
            context["service_kinds"] = list(LineKind)
    context.update(extra)
    status = 422 if context["errors"] or context.get("error") else 200
    return render(request, "wizard.html", status, section="clients", **context)


@router.get("/clients/new")
def new_client(request: Request, caller: SignedIn) -> Response:
    caller.require_admin()
    return _page(request, caller, WizardStep.DETAILS, None)


@router.post("/clients/new", dependencies=CSRF)
def create_draft(
    request: Request,
    caller: SignedIn,
    name: Text = "",
    billing_ref: Text = "",
    parent_id: Text = "",
    contact_name: Text = "",
    contact_email: Text = "",
) -> Response:
    values = {"name": name, "billing_ref": billing_ref, "parent_id": parent_id}
    values |= {"contact_name": contact_name, "contact_email": contact_email}
    errors = FormErrors()
    email = parse_email(contact_email, "contact_email", errors)
    if not name.strip():
        errors["name"] = "Enter the client's name."
    if errors:
        return _page(request, caller, WizardStep.DETAILS, None, values=values, errors=errors)
    request_ = accounts.CreateAccount(
        kind=Kind.CLIENT,
        parent_id=parent_id or caller.account_id,
        name=name,
        main_contact=Contact(contact_name.strip() or name.strip(), email),
        billing_ref=billing_ref.strip() or None,
    )
    ctx = app_ctx(request)
    try:
        draft = wizard.start(ctx.uow(), caller=caller, request=request_, now=ctx.clock.now())
    except DomainError as error:
        return _page(request, caller, WizardStep.DETAILS, None, values=values, **_error(error))
    return done(request, f"/clients/{draft.id}/setup/{WizardStep.TYPE}", f"{draft.name} created as New")


def _error(error: DomainError) -> dict[str, Any]:
    field = field_of(error)
    if field:
        return {"errors": FormErrors({field: friendly(error)})}
    return {"error": friendly(error)}


@router.get("/clients/{account_id}/setup")
def resume(account_id: str, request: Request, caller: SignedIn) -> Response:
    step = wizard.resume_step(app_ctx(request).uow(), caller=caller, account_id=account_id)
    return RedirectResponse(f"/clients/{account_id}/setup/{step}", status_code=303)


@router.get("/clients/{account_id}/setup/{step}")
def step_page(account_id: str, step: WizardStep, request: Request, caller: SignedIn) -> Response:
    draft = wizard.draft(app_ctx(request).uow(), caller=caller, account_id=account_id)
    return _page(request, caller, step, draft)


@router.post("/clients/{account_id}/setup/details", dependencies=CSRF)
def save_details(
    account_id: str,
    request: Request,
    caller: SignedIn,
    name: Text = "",
    billing_ref: Text = "",
    contact_name: Text = "",
    contact_email: Text = "",
) -> Response:
    ctx = app_ctx(request)
    draft = wizard.draft(ctx.uow(), caller=caller, account_id=account_id)
    errors = FormErrors()
    email = parse_email(contact_email, "contact_email", errors)
    values = {"name": name, "billing_ref": billing_ref, "contact_name": contact_name, "contact_email": contact_email}
    if errors:
        return _page(request, caller, WizardStep.DETAILS, draft, values=values, errors=errors)
    changes = lifecycle.AccountChanges(
        name=name, billing_ref=billing_ref.strip(), main_contact=Contact(contact_name.strip(), email)
    )
    try:
        wizard.save_details(ctx.uow(), caller=caller, account_id=account_id, changes=changes, now=ctx.clock.now())
    except DomainError as error:
        return _page(request, caller, WizardStep.DETAILS, draft, values=values, **_error(error))
    return done(request, f"/clients/{account_id}/setup/{WizardStep.TYPE}")


def _next(request: Request, caller: Caller, account_id: str, step: WizardStep) -> Response:
    wizard.advance(app_ctx(request).uow(), caller=caller, account_id=account_id, to=step)
    return done(request, f"/clients/{account_id}/setup/{step}")


@router.post("/clients/{account_id}/setup/type", dependencies=CSRF)
def save_type(
    account_id: str,
    request: Request,
    caller: SignedIn,
    client_type: Text = "residential",
    start_date: Text = "",
    end_date: Text = "",
    office_ids: Annotated[list[str] | None, Form()] = None,
) -> Response:
    ctx = app_ctx(request)
    draft = wizard.draft(ctx.uow(), caller=caller, account_id=account_id)
    errors = FormErrors()
    start = parse_day(start_date, "start_date", errors, required=True)
    end = parse_day(end_date, "end_date", errors)
    chosen = ClientType.VIRTUAL if client_type == ClientType.VIRTUAL else ClientType.RESIDENTIAL
    values = {
        "client_type": chosen.value,
        "start_date": start_date,
        "end_date": end_date,
        "office_ids": list(office_ids or []),
    }
    if errors:
        return _page(request, caller, WizardStep.TYPE, draft, values=values, errors=errors)
    choice = wizard.TypeAndOffices(chosen, start, end, frozenset(office_ids or []))
    try:
        wizard.save_type(ctx.uow(), caller=caller, account_id=account_id, choice=choice, now=ctx.clock.now())
    except DomainError as error:
        draft = wizard.draft(ctx.uow(), caller=caller, account_id=account_id)
        return _page(request, caller, WizardStep.TYPE, draft, values=values, **_error(error))
    return done(request, f"/clients/{account_id}/setup/{WizardStep.SERVICES}")


@router.post("/clients/{account_id}/setup/services", dependencies=CSRF)
def save_services(
    account_id: str,
    request: Request,
    caller: SignedIn,
    op: Text = "continue",
    kind: Text = "",
    label: Text = "",
    monthly_price: Text = "",
    service_id: Text = "",
    network_id: Text = "",
) -> Response:
    ctx = app_ctx(request)
    draft = wizard.draft(ctx.uow(), caller=caller, account_id=account_id)
    here = f"/clients/{account_id}/setup/{WizardStep.SERVICES}"
    values = {"kind": kind, "label": label, "monthly_price": monthly_price, "network_id": network_id}
    try:
        if op == "add":
            service_kind = LineKind(kind) if kind in set(LineKind) else LineKind.OTHER
            added = lines.add_service(
                ctx.uow(),
                numbers=ctx.numbers,
                caller=caller,
                account_id=account_id,
                kind=service_kind,
                label=label,
                monthly_price=monthly_price or "0",
                start_date=None,
                now=ctx.clock.now(),
                network_id=network_id.strip() or None,
            )
            return done(request, here, f"{added.label} added")
        if op == "remove":
            lines.remove_service(
                ctx.uow(), caller=caller, account_id=account_id, service_id=service_id, now=ctx.clock.now()
            )
            return done(request, here, "Service removed")
    except (DomainError, NotFound) as error:
        return _page(request, caller, WizardStep.SERVICES, draft, values=values, **_error(error))
    return _next(request, caller, account_id, WizardStep.REVIEW)


@router.post("/clients/{account_id}/setup/review", dependencies=CSRF)
def finish(account_id: str, request: Request, caller: SignedIn, how: Text = "later") -> Response:
    ctx = app_ctx(request)
    draft = wizard.draft(ctx.uow(), caller=caller, account_id=account_id)
    choice = Finish(how) if how in set(Finish) else Finish.LATER
    try:
        account = wizard.finish(
            ctx.uow(),
            caller=caller,
            account_id=account_id,
            how=choice,
            start_date=draft.start_date,
            now=ctx.clock.now(),
        )
    except DomainError as error:
        return _page(request, caller, WizardStep.REVIEW, draft, **_error(error))
    if account is None:
        return done(request, "/clients", f"{draft.name} saved as New: use “Click to complete” to activate it later")
    if account.status is Status.SCHEDULED:
        return done(request, f"/clients/{account.id}", f"{account.name} will be activated on its start date")
    return done(request, f"/clients/{account.id}", f"{account.name} activated")
