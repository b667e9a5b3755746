"""RADIUS endpoints for FreeRADIUS's rlm_rest, and the sessions list.

rlm_rest maps HTTP status codes to module codes: 2xx with a body is `updated`
(its `reply:` attributes are applied), 401 is `reject` (the body is still
read, so `Reply-Message` carries Tenure's reason), 404 is `notfound`, 400 is
`invalid`. Each route answers in those terms. The body is read by hand so that
bad input is a 400 here (the rest of the API answers 422). Authorize is asked
on every Access-Request, so it is answered on the hot path (`api.lean.authorize`:
cached credential, one statement, no threadpool).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tenure.adapters.db.radius import Accounting
from tenure.domain.access import Caller, Scope
from tenure.domain.errors import ValidationFailed
from tenure.domain.radius import AcctStatus, clean_ip, parse_acct_status, parse_event_timestamp
from tenure.entrypoints.api import lean, problems
from tenure.entrypoints.api import radius_body as body
from tenure.entrypoints.api.deps import Ctx, CurrentCaller, oauth2, require_scope
from tenure.entrypoints.api.routes.accounts import READ, Cursor, Limit
from tenure.entrypoints.api.schemas import Page
from tenure.entrypoints.api.schemas_radius import SessionOut, session_out
from tenure.entrypoints.context import AppContext
from tenure.services import radius as service

router = APIRouter(prefix="/radius", tags=["radius"])


radius_caller = require_scope(Scope.RADIUS)
"""The one gate of both RADIUS endpoints: an API key with the `radius` scope (or a user's token);
the caller's visible subtree limits what it may authorize."""

RadiusCaller = Annotated[Caller, Depends(radius_caller)]

_REPLY = {
    "type": "object",
    "properties": {"reply:Reply-Message": {"type": "string"}, "reply:Class": {"type": "string"}},
    "required": ["reply:Reply-Message"],
}
_AUTHORIZE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "`internet` allowed (rlm_rest: updated)", "content": {"application/json": {"schema": _REPLY}}},
    401: {
        "description": "`internet` denied, the reason in Reply-Message (rlm_rest: reject); or no/bad token",
        "content": {"application/json": {"schema": _REPLY}, **problems.responses(401)[401]["content"]},
    },
    404: {"description": "no active internet or Wi-Fi service visible holds this User-Name (rlm_rest: notfound)"},
    400: problems.responses(400)[400],
    403: problems.responses(403)[403],
}


def _bad_input(error: ValidationFailed) -> JSONResponse:
    return problems.problem(400, "validation-error", "The request is not valid", error.detail)


@router.post(
    "/authorize",
    response_class=JSONResponse,
    responses=_AUTHORIZE_RESPONSES,
    openapi_extra=body.request_body(
        ["User-Name"],
        ["NAS-IP-Address", "Called-Station-Id"],
        {"User-Name": "acme-ppp1", "NAS-IP-Address": "192.0.2.1", "Called-Station-Id": "bng1"},
    ),
)
async def authorize(request: Request, credential: Annotated[str | None, Depends(oauth2)]) -> Response:
    """May this User-Name use `internet` now? Accept (200), reject with the reason (401) or notfound (404).

    Answered on the hot path (`api.lean`, before routing, for a body of a declared length,
    as rlm_rest sends); this route answers the rest the same way and documents it.
    """
    ctx: AppContext = request.app.state.ctx
    return await lean.authorize(ctx.hot_path, credential, await request.body())


@router.post(
    "/accounting",
    status_code=204,
    response_class=Response,
    responses={
        204: {"description": "Recorded (repeats change nothing)"},
        **problems.responses(400, 401, 403),
    },
    openapi_extra=body.request_body(
        ["Acct-Status-Type"],
        ["Acct-Session-Id", "User-Name", "NAS-IP-Address", "Framed-IP-Address", "Event-Timestamp"],
        {
            "Acct-Status-Type": "Start",
            "Acct-Session-Id": "4D2A0001",
            "User-Name": "acme-ppp1",
            "NAS-IP-Address": "192.0.2.1",
            "Framed-IP-Address": "100.64.0.10",
        },
    ),
)
async def accounting(request: Request, ctx: Ctx, caller: RadiusCaller) -> Response:
    """Start, Interim-Update or Stop of a session (also 1, 3, 2); a Stop without a Start is recorded.

    Accounting-On and Accounting-Off (a NAS booting) are answered 204 and change nothing."""
    now = ctx.clock.now()
    try:
        record = _accounting(body.attributes(await request.body()), now)
    except ValidationFailed as error:
        return _bad_input(error)
    if record is not None:
        await run_in_threadpool(service.record_accounting, ctx.uow(), caller=caller, request=record, now=now)
    return Response(status_code=204)


def _accounting(found: dict[str, str | int], now: datetime) -> Accounting | None:
    """The request as Tenure keeps it; None for Accounting-On/Off, which name no session.

    Every attribute Tenure reads is checked whatever the status, so bad input is always a 400.
    """
    status_text = body.number_or_text(found, "Acct-Status-Type")
    if status_text is None:
        raise ValidationFailed("Acct-Status-Type is required", field="Acct-Status-Type")
    status = parse_acct_status(status_text)
    session_id = body.text(found, "Acct-Session-Id")
    nas_ip = body.text(found, "NAS-IP-Address")
    framed_ip = body.text(found, "Framed-IP-Address")
    stamp = body.number_or_text(found, "Event-Timestamp")
    user_name = body.user_name(found) if "User-Name" in found else None
    at = parse_event_timestamp(stamp) if stamp else now
    if status in (AcctStatus.ACCOUNTING_ON, AcctStatus.ACCOUNTING_OFF):
        return None
    if session_id is None or nas_ip is None or user_name is None:
        raise ValidationFailed("Acct-Session-Id, User-Name and NAS-IP-Address are required", field="Acct-Session-Id")
    return Accounting(
        status=status,
        acct_session_id=session_id,
        nas_ip=clean_ip(nas_ip, field="NAS-IP-Address"),
        user_name=user_name,
        framed_ip=clean_ip(framed_ip, field="Framed-IP-Address") if framed_ip else None,
        at=at,
    )


@router.get("/sessions", response_model=Page[SessionOut], responses=READ)
def list_sessions(
    ctx: Ctx,
    caller: CurrentCaller,
    state: Annotated[
        str | None,
        Query(max_length=200, description="comma list: open, stopped, disconnecting, disconnected, refused, failed"),
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, object]:
    """Sessions of the accounts the caller sees, newest first; `?state=failed` shows disconnects that never landed."""
    states = [s.strip() for s in state.split(",") if s.strip()] if state else []
    items, next_cursor = service.list_sessions(ctx.uow(), caller=caller, states=states, limit=limit, cursor=cursor)
    return {"items": [session_out(i) for i in items], "next_cursor": next_cursor}
