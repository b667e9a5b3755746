"""The Offices page's create and edit dialogs: the operator's admins name their building's rooms.

Both end in one service call that checks the rules of `catalog.new_office`
(the API's POST and PATCH use the same), so the form and the API refuse the same input.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from tenure.domain.access import Caller
from tenure.domain.catalog import CAPACITY_MAX, OfficeChanges
from tenure.domain.errors import DomainError
from tenure.entrypoints.console.forms import FormErrors, field_of, friendly
from tenure.entrypoints.console.web import CSRF, ConsoleRoute, SignedIn, app_ctx, done, render
from tenure.services import offices

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
Text = Annotated[str, Form(max_length=500)]
_WHOLE = re.compile(r"[0-9]{1,6}")  # ASCII digits only: str.isdigit() also takes "²", which int() refuses


def _form(request: Request, caller: Caller, office_id: str | None, values: dict[str, str], **extra: Any) -> Response:
    caller.require_operator_admin()  # the role is the reason: 403 with no form
    status = 422 if extra.get("errors") or extra.get("error") else 200
    errors = extra.pop("errors", FormErrors())
    return render(
        request,
        "office_form.html",
        status,
        section="offices",
        office_id=office_id,
        values=values,
        errors=errors,
        **extra,
    )


def _capacity(raw: str, errors: FormErrors) -> int | None:
    text = raw.strip()
    if not text:
        return None
    if not _WHOLE.fullmatch(text) or int(text) > CAPACITY_MAX:
        errors["capacity"] = f"Enter the number of people, 0 to {CAPACITY_MAX}, or leave it blank."
        return None
    return int(text)


def _save(request: Request, caller: Caller, office_id: str | None, name: str, floor: str, capacity: str) -> Response:
    values = {"name": name, "floor": floor, "capacity": capacity}
    errors = FormErrors()
    seats = _capacity(capacity, errors)
    if not name.strip():
        errors["name"] = "Enter the office's name, such as 2.14."
    if errors:
        return _form(request, caller, office_id, values, errors=errors)
    ctx = app_ctx(request)
    try:
        if office_id is None:
            office = offices.create_office(
                ctx.uow(), caller=caller, name=name, floor=floor, capacity=seats, now=ctx.clock.now()
            )
        else:
            changes = OfficeChanges(name=name, floor=floor, capacity=seats)
            office = offices.update_office(ctx.uow(), caller=caller, office_id=office_id, changes=changes)
    except DomainError as error:
        field = field_of(error)
        if field in values:
            return _form(request, caller, office_id, values, errors=FormErrors({field: friendly(error)}))
        return _form(request, caller, office_id, values, error=friendly(error))
    return done(request, "/offices", f"Office {office.name} {'created' if office_id is None else 'saved'}")


@router.get("/offices/new")
def new_form(request: Request, caller: SignedIn) -> Response:
    return _form(request, caller, None, {"name": "", "floor": "", "capacity": ""})


@router.post("/offices/new", dependencies=CSRF)
def create(request: Request, caller: SignedIn, name: Text = "", floor: Text = "", capacity: Text = "") -> Response:
    return _save(request, caller, None, name, floor, capacity)


@router.get("/offices/{office_id}/edit")
def edit_form(office_id: str, request: Request, caller: SignedIn) -> Response:
    caller.require_operator_admin()
    office = offices.get_office(app_ctx(request).uow(), caller=caller, office_id=office_id)
    capacity = "" if office.capacity is None else str(office.capacity)
    return _form(request, caller, office.id, {"name": office.name, "floor": office.floor or "", "capacity": capacity})


@router.post("/offices/{office_id}/edit", dependencies=CSRF)
def edit(
    office_id: str, request: Request, caller: SignedIn, name: Text = "", floor: Text = "", capacity: Text = ""
) -> Response:
    return _save(request, caller, office_id, name, floor, capacity)
