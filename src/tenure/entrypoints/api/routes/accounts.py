"""Accounts: create, list, read, edit, the status actions and the audit trail.

Each route translates HTTP into one service call; the rules live below.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from tenure.domain import lifecycle
from tenure.domain.access import Caller
from tenure.domain.errors import ValidationFailed
from tenure.domain.model import Account, Contact, Kind, Status
from tenure.entrypoints.api import idempotency, problems
from tenure.entrypoints.api.changes import Change, ChangeRequest
from tenure.entrypoints.api.deps import AccountId, Ctx, CurrentCaller, ExpectedVersion, IdempotencyKey
from tenure.entrypoints.api.presenters import account_out, event_out
from tenure.entrypoints.api.schemas import (
    AccountCreate,
    AccountOut,
    AccountUpdate,
    ActivateIn,
    ConvertIn,
    DecommissionIn,
    EventOut,
    Page,
    SuspendIn,
    UnsuspendIn,
)
from tenure.entrypoints.context import AppContext
from tenure.services import accounts as service
from tenure.services import queries
from tenure.services.read_models import AccountFilter

ERRORS = problems.responses(401, 403, 404, 409, 412, 422, 429)
"""Every error a route may answer, documented as problem+json (kept for routes that want them all)."""
ETAG = {"ETag": {"schema": {"type": "string"}, "required": True, "description": '`"<version>"`, for If-Match'}}
ACCOUNT = {"model": AccountOut, "headers": ETAG, "description": "The account"}
READ = problems.responses(401, 403, 404, 422)
CHANGE = problems.responses(401, 403, 404, 409, 412, 422)

router = APIRouter(prefix="/accounts", tags=["accounts"])
Limit = Annotated[int, Query(ge=1, le=500, description="1-500")]
Cursor = Annotated[str | None, Query(min_length=1, max_length=1000, description="`next_cursor` of the page before")]


def account_response(ctx: AppContext, account: Account, *, caller: Caller, status_code: int = 200) -> JSONResponse:
    view = queries.view_of(ctx.uow(), account, ctx.clock.now())
    body = account_out(view, caller=caller)
    return JSONResponse(body, status_code=status_code, headers={"ETag": f'"{account.version}"'})


@router.post("", status_code=201, response_model=AccountOut, responses={201: ACCOUNT, **CHANGE})
def create_account(body: AccountCreate, ctx: Ctx, caller: CurrentCaller, key: IdempotencyKey = None) -> JSONResponse:
    request = service.CreateAccount(
        kind=Kind(body.kind),
        parent_id=body.parent_id,
        name=body.name,
        main_contact=Contact(body.main_contact.name, str(body.main_contact.email)),
        billing_ref=body.billing_ref or None,
        client_type=body.client_type,
        start_date=body.start_date,
        end_date=body.end_date,
        activate=body.activate,
        notes=body.notes,
    )

    def create() -> JSONResponse:
        account = service.create_account(ctx.uow(), caller=caller, request=request, now=ctx.clock.now())
        return account_response(ctx, account, caller=caller, status_code=201)

    return idempotency.run(ctx, caller, key, "POST /accounts " + body.model_dump_json(), create)


# exclude_unset: each item has exactly the keys `account_out` gives, as GET /accounts/{id} does
# (client-only fields absent on partners, staff-only hold fields absent for portal users).
@router.get("", response_model=Page[AccountOut], response_model_exclude_unset=True, responses=READ)
def list_accounts(
    ctx: Ctx,
    caller: CurrentCaller,
    kind: Kind | None = None,
    status: Annotated[str | None, Query(max_length=200, description="comma list of statuses")] = None,
    parent_id: Annotated[str | None, Query(max_length=64)] = None,
    within: Annotated[str | None, Query(max_length=64, description="the whole subtree of this account")] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="part of the name, billing ref or main contact's email (any case; a term with @ "
            "matches the start of the email), or the start of a number the client holds, written with "
            "+ or 00 in any spacing (+44 20 7946 0123, 00442079460123)",
        ),
    ] = None,
    include_inactive: bool = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, object]:
    flt = AccountFilter(kind, _statuses(status), parent_id, within, q, include_inactive)
    views, next_cursor = queries.list_accounts(
        ctx.uow(), caller=caller, flt=flt, limit=limit, cursor=cursor, now=ctx.clock.now()
    )
    return {"items": [account_out(v, caller=caller) for v in views], "next_cursor": next_cursor}


def _statuses(raw: str | None) -> frozenset[Status]:
    if not raw:
        return frozenset()
    try:
        return frozenset(Status(part.strip()) for part in raw.split(",") if part.strip())
    except ValueError as error:
        allowed = ", ".join(s.value for s in Status)
        raise ValidationFailed(f"status must be a comma list of: {allowed}", field="status") from error


@router.get("/{account_id}", response_model=AccountOut, responses={200: ACCOUNT, **READ})
def get_account(account_id: AccountId, ctx: Ctx, caller: CurrentCaller) -> JSONResponse:
    view = queries.get_account(ctx.uow(), caller=caller, account_id=account_id, now=ctx.clock.now())
    return JSONResponse(account_out(view, caller=caller), headers={"ETag": f'"{view.account.version}"'})


@router.patch("/{account_id}", response_model=AccountOut, responses={200: ACCOUNT, **CHANGE})
def update_account(
    account_id: AccountId, body: AccountUpdate, change: Change, version: ExpectedVersion
) -> JSONResponse:
    changes = lifecycle.AccountChanges(
        name=body.name,
        billing_ref=body.billing_ref,  # null leaves it alone like every other field; "" asks for a new one
        main_contact=Contact(body.main_contact.name, str(body.main_contact.email)) if body.main_contact else None,
        start_date=body.start_date,
        end_date=body.end_date,
        notes=body.notes,
    )
    return change.answer(
        None,
        "",
        lambda: service.update_account(
            change.uow,
            caller=change.caller,
            account_id=account_id,
            changes=changes,
            expected_version=version,
            now=change.now,
        ),
    )


@router.post("/{account_id}/activate", response_model=AccountOut, responses={200: ACCOUNT, **CHANGE})
def activate(
    account_id: AccountId,
    change: Change,
    version: ExpectedVersion,
    body: ActivateIn | None = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    on = body.on if body else None
    return change.answer(
        key,
        f"activate {account_id} {on}",
        lambda: service.activate(
            change.uow, caller=change.caller, account_id=account_id, on=on, expected_version=version, now=change.now
        ),
    )


@router.post("/{account_id}/suspend", response_model=AccountOut, responses={200: ACCOUNT, **CHANGE})
def suspend(
    account_id: AccountId,
    body: SuspendIn,
    change: Change,
    version: ExpectedVersion,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return suspend_answer(change, account_id, body, version, key)


def suspend_answer(
    change: ChangeRequest, account_id: str, body: SuspendIn, version: int | None, key: str | None
) -> JSONResponse:
    """The suspension and its answer: this route's, and the lean path's (`api/lean.py`)."""
    return change.answer(
        key,
        f"suspend {account_id} {body.model_dump_json()}",
        lambda: service.suspend(
            change.uow,
            caller=change.caller,
            account_id=account_id,
            reason=body.reason,
            note=body.note,
            expected_version=version,
            now=change.now,
        ),
    )


@router.post("/{account_id}/unsuspend", response_model=AccountOut, responses={200: ACCOUNT, **CHANGE})
def unsuspend(
    account_id: AccountId,
    change: Change,
    version: ExpectedVersion,
    body: UnsuspendIn | None = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return unsuspend_answer(change, account_id, body, version, key)


def unsuspend_answer(
    change: ChangeRequest, account_id: str, body: UnsuspendIn | None, version: int | None, key: str | None
) -> JSONResponse:
    """The unsuspension and its answer: this route's, and the lean path's (`api/lean.py`)."""
    reason = body.reason if body else None
    return change.answer(
        key,
        f"unsuspend {account_id} {reason}",
        lambda: service.unsuspend(
            change.uow,
            caller=change.caller,
            account_id=account_id,
            reason=reason,
            expected_version=version,
            now=change.now,
        ),
    )


@router.post("/{account_id}/decommission", response_model=AccountOut, responses={200: ACCOUNT, **CHANGE})
def decommission(
    account_id: AccountId,
    change: Change,
    version: ExpectedVersion,
    body: DecommissionIn | None = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    on = body.on if body else None
    return change.answer(
        key,
        f"decommission {account_id} {on}",
        lambda: service.decommission(
            change.uow, caller=change.caller, account_id=account_id, on=on, expected_version=version, now=change.now
        ),
    )


@router.delete("/{account_id}/scheduled-decommission", response_model=AccountOut, responses={200: ACCOUNT, **CHANGE})
def cancel_decommission(account_id: AccountId, change: Change, version: ExpectedVersion) -> JSONResponse:
    return change.answer(
        None,
        "",
        lambda: service.cancel_decommission(
            change.uow, caller=change.caller, account_id=account_id, expected_version=version, now=change.now
        ),
    )


@router.post("/{account_id}/convert", response_model=AccountOut, responses={200: ACCOUNT, **CHANGE})
def convert(
    account_id: AccountId,
    body: ConvertIn,
    change: Change,
    version: ExpectedVersion,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return change.answer(
        key,
        f"convert {account_id} {body.to}",
        lambda: service.convert(
            change.uow,
            caller=change.caller,
            account_id=account_id,
            to=body.to,
            expected_version=version,
            now=change.now,
        ),
    )


@router.get("/{account_id}/events", response_model=Page[EventOut], responses=READ)
def account_events(
    account_id: AccountId, ctx: Ctx, caller: CurrentCaller, limit: Limit = 50, cursor: Cursor = None
) -> dict[str, object]:
    entries, next_cursor = queries.account_events(
        ctx.uow(), caller=caller, account_id=account_id, limit=limit, cursor=cursor
    )
    return {"items": [event_out(e) for e in entries], "next_cursor": next_cursor}
