"""Partners: resellers and channels as a tree with client counts, channel-wide suspension, and New partner.

Suspend and Activate go through the same confirmation (with how many
clients it affects) and the same service calls as on a client; a new partner
is made by `accounts.create_account`, which checks who may place what where.
Editing a partner is Edit client's form (pages/client.py), which shows a
partner's fields only.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tenure.domain.access import Caller, Role
from tenure.domain.actions import StatusAction, allowed_actions
from tenure.domain.errors import DomainError, Forbidden, ValidationFailed
from tenure.domain.model import Contact, Kind, Status
from tenure.entrypoints.console.forms import FormErrors, field_of, friendly, parse_email
from tenure.entrypoints.console.web import CSRF, ConsoleRoute, SignedIn, app_ctx, done, render
from tenure.services import accounts, browse

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
QUICK = {"suspend": StatusAction.SUSPEND, "activate": StatusAction.UNSUSPEND}


@router.get("/partners")
def partners(request: Request, caller: SignedIn) -> Response:
    if caller.role is Role.PORTAL:
        return RedirectResponse(f"/clients/{caller.account_id}", status_code=303)
    page = browse.partners_page(app_ctx(request).uow(), caller=caller)
    return render(
        request,
        "partners.html",
        section="partners",
        page=page,
        statuses=list(Status),
        actions={
            node.account.id: allowed_actions(node.account, role=caller.role, authority=page.authority[node.account.id])
            for node in page.tree
        },
        can_create=can_create_partners(caller),
    )


def can_create_partners(caller: Caller) -> bool:
    """Admins of the operator (resellers and channels) or of a reseller (channels below it)."""
    return caller.role is Role.ADMIN and caller.account_kind in (Kind.OPERATOR, Kind.RESELLER)


def _kinds(caller: Caller) -> list[Kind]:
    return [Kind.RESELLER, Kind.CHANNEL] if caller.account_kind is Kind.OPERATOR else [Kind.CHANNEL]


def _new_form(request: Request, caller: Caller, values: dict[str, str], **extra: Any) -> Response:
    if not can_create_partners(caller):
        raise Forbidden("only admins of the operator or of a reseller create partners")
    parents = browse.new_partner_parents(app_ctx(request).uow(), caller=caller)
    status = 422 if extra.get("errors") or extra.get("error") else 200
    kinds = _kinds(caller)
    values = {"kind": kinds[0].value, **values} if not values.get("kind") else values
    return render(
        request, "new_partner.html", status, section="partners", parents=parents, kinds=kinds, values=values, **extra
    )


@router.get("/partners/new")
def new_partner(request: Request, caller: SignedIn) -> Response:
    return _new_form(request, caller, {})


@router.post("/partners/new", dependencies=CSRF)
def create_partner(
    request: Request,
    caller: SignedIn,
    kind: Annotated[str, Form(max_length=20)] = "",
    name: Annotated[str, Form(max_length=500)] = "",
    parent_id: Annotated[str, Form(max_length=64)] = "",
    billing_ref: Annotated[str, Form(max_length=100)] = "",
    contact_name: Annotated[str, Form(max_length=200)] = "",
    contact_email: Annotated[str, Form(max_length=320)] = "",
    notes: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    values = {"kind": kind, "name": name, "parent_id": parent_id, "billing_ref": billing_ref}
    values |= {"contact_name": contact_name, "contact_email": contact_email, "notes": notes}
    errors = FormErrors()
    chosen = next((k for k in _kinds(caller) if k.value == kind), None)
    if chosen is None:
        errors["kind"] = "Choose reseller or channel."
    if not name.strip():
        errors["name"] = "Enter the partner's name."
    email = parse_email(contact_email, "contact_email", errors)
    if errors or chosen is None:
        return _new_form(request, caller, values, errors=errors)
    request_ = accounts.CreateAccount(
        kind=chosen,
        parent_id=parent_id or caller.account_id,
        name=name,
        main_contact=Contact(contact_name.strip() or name.strip(), email),
        billing_ref=billing_ref.strip() or None,
        notes=notes.replace("\r\n", "\n"),
    )
    ctx = app_ctx(request)
    try:
        partner = accounts.create_account(ctx.uow(), caller=caller, request=request_, now=ctx.clock.now())
    except DomainError as error:
        field = field_of(error) or _FIELD_FOR_CODE.get(error.code)
        message = friendly(error, name.strip() or "The partner")
        if field:
            return _new_form(request, caller, values, errors=FormErrors({field: message}))
        return _new_form(request, caller, values, error=message)
    return done(request, f"/clients/{partner.id}", f"{partner.name} created")


# Refusals that belong to one field although the rule does not name it.
_FIELD_FOR_CODE = {"invalid-transition": "parent_id", "not-found": "parent_id"}  # billing-ref-taken names its own field


@router.get("/partners/quick")
def quick(
    request: Request,
    caller: SignedIn,
    action: Annotated[str, Query(max_length=20)] = "",
    account_id: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The reseller-panel dropdowns: pick an account, then confirm as usual."""
    chosen = QUICK.get(action)
    if chosen is None or not account_id:
        raise ValidationFailed("choose an account and an action")
    query = urlencode({"return_to": "/partners"})
    return RedirectResponse(f"/clients/{account_id}/status/{chosen.value}?{query}", status_code=303)
