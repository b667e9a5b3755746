"""Edit status: the confirmations of console.md, each ending in one service call.

Only actions `allowed_actions` offers are shown; the service layer checks the
rules again, and a refusal comes back as a message in the same dialog.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from tenure.domain.access import Caller, Role, ensure_not_own_account
from tenure.domain.actions import (
    StatusAction,
    allowed_actions,
    liftable_holds,
    suspend_confirmation,
    suspend_reasons,
)
from tenure.domain.errors import DomainError, Forbidden, InvalidTransition, ValidationFailed
from tenure.domain.model import Account, ClientType, HoldReason, Stage, Status
from tenure.entrypoints.console.forms import friendly
from tenure.entrypoints.console.state import format_day
from tenure.entrypoints.console.web import CSRF, ConsoleRoute, SignedIn, app_ctx, done, render, safe_return
from tenure.services import accounts, browse, confirmed

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


def _form(
    request: Request, caller: Caller, account_id: str, action: StatusAction, return_to: str, **extra: Any
) -> Response:
    ctx = app_ctx(request)
    detail = browse.client_detail(ctx.uow(), caller=caller, account_id=account_id, now=ctx.clock.now(), events=0)
    account = detail.view.account
    if caller.role is not Role.ADMIN:
        raise Forbidden("Your role can read but not change")  # the role, not the account's state
    offered = allowed_actions(
        account, role=caller.role, authority=detail.authority, blocking_children=detail.blocking_children
    )
    if action not in offered and "error" not in extra:
        ensure_not_own_account(caller, account.id, action.label.lower())  # 403 says why, not "not possible"
        raise InvalidTransition(f"{action.label} is not possible for {account.name} now")
    impact = None
    if account.kind.is_partner:
        impact = browse.partner_impact(ctx.uow(), caller=caller, account_id=account.id)
    return render(
        request,
        "status.html",
        422 if "error" in extra else 200,
        a=account,
        action=action,
        return_to=safe_return(return_to, f"/clients/{account.id}"),
        reasons=suspend_reasons(account),
        liftable=liftable_holds(account, detail.authority),
        confirmation=suspend_confirmation(account.name, detail.policy),
        impact=impact,
        tomorrow=(detail.view.today + timedelta(days=1)).isoformat(),
        **extra,
    )


@router.get("/clients/{account_id}/status/{action}")
def status_form(
    account_id: str, action: StatusAction, request: Request, caller: SignedIn, return_to: str = ""
) -> Response:
    return _form(request, caller, account_id, action, return_to)


@router.post("/clients/{account_id}/status/{action}", dependencies=CSRF)
def apply(
    account_id: str,
    action: StatusAction,
    request: Request,
    caller: SignedIn,
    version: Annotated[int | None, Form()] = None,
    reason: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
    when: Annotated[str, Form(max_length=20)] = "now",
    on: Annotated[str, Form(max_length=20)] = "",
    confirm_name: Annotated[str, Form(max_length=300)] = "",
    return_to: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    ctx = app_ctx(request)
    fields = {"reason": reason, "note": note, "when": when, "on": on, "confirm_name": confirm_name}
    common: dict[str, Any] = {"caller": caller, "account_id": account_id, "expected_version": version}
    uow, now = ctx.uow(), ctx.clock.now()
    try:
        if action is StatusAction.ACTIVATE:
            account, message = _activate(request, caller, account_id, version, when, on)
        elif action is StatusAction.SUSPEND:
            hold = _reason(reason)
            account = accounts.suspend(uow, reason=hold, note=note.strip(), now=now, **common)
            message = f"{account.name} suspended: {hold.label}"
        elif action is StatusAction.UNSUSPEND:
            lifted = _reason(reason, "choose the hold to lift")
            account = accounts.unsuspend(uow, reason=lifted, now=now, **common)
            message = _unsuspended(account, lifted)
        elif action is StatusAction.DECOMMISSION:
            account, message = _decommission(request, caller, account_id, version, when, on, confirm_name)
        elif action is StatusAction.CANCEL_DECOMMISSION:
            account = accounts.cancel_decommission(uow, now=now, **common)
            message = f"Scheduled decommission of {account.name} cancelled"
        else:
            to = ClientType.VIRTUAL if action is StatusAction.CONVERT_TO_VIRTUAL else ClientType.RESIDENTIAL
            account = accounts.convert(uow, to=to, now=now, **common)
            message = f"{account.name} is now a {to.value} client"
    except DomainError as error:
        return _form(request, caller, account_id, action, return_to, error=friendly(error), values=fields)
    page = f"/clients/{account.id}"
    target = safe_return(return_to, page)
    if account.status is Status.INACTIVE and target == page:
        target = "/clients"  # a decommissioned client leaves the default list: go back to it
    return done(request, target, message)


def _reason(raw: str, missing: str = "choose a reason for the suspension") -> HoldReason:
    try:
        return HoldReason(raw)
    except ValueError:
        raise ValidationFailed(missing) from None


def _unsuspended(account: Account, lifted: HoldReason) -> str:
    """console.md: one hold at a time; say what is still holding the account if anything is."""
    if account.holds:
        still = ", ".join(hold.reason.label for hold in account.holds)
        return f"{account.name}: {lifted.label} hold lifted (still suspended: {still})"
    if account.suspended:
        return f"{account.name}: {lifted.label} hold lifted (still suspended through its parent)"
    return f"{account.name} activated again"


def _scheduled_day(when: str, on: str, missing: str) -> date | None:
    """The form's date when "Scheduled" is chosen (None for "Now"); `missing` says what to choose."""
    if when != "scheduled":
        return None
    try:
        return date.fromisoformat(on.strip())
    except ValueError:
        raise ValidationFailed(missing) from None


def _activate(
    request: Request, caller: Caller, account_id: str, version: int | None, when: str, on: str
) -> tuple[Account, str]:
    """Now, or on a date after today (the client is then scheduled and the worker activates it)."""
    ctx = app_ctx(request)
    day = _scheduled_day(when, on, "choose the date the client should be activated")
    account = accounts.activate(
        ctx.uow(), caller=caller, account_id=account_id, on=day, expected_version=version, now=ctx.clock.now()
    )
    if account.stage is Stage.SCHEDULED and day is not None:
        return account, f"{account.name} will be activated on {format_day(day)}"
    return account, f"{account.name} activated"


def _decommission(
    request: Request, caller: Caller, account_id: str, version: int | None, when: str, on: str, confirm_name: str
) -> tuple[Account, str]:
    """Now needs the client's name typed out; Scheduled needs a date after today (else it would be now)."""
    ctx = app_ctx(request)
    day = _scheduled_day(when, on, "choose the date the decommission should happen")
    account = confirmed.decommission(
        ctx.uow(),
        caller=caller,
        account_id=account_id,
        on=day,
        confirm_name=confirm_name,
        expected_version=version,
        now=ctx.clock.now(),
    )
    if day is not None:
        return account, f"{account.name} will be decommissioned on {format_day(day)}"
    return account, f"{account.name} decommissioned"
