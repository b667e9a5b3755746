"""Charges: one account's for a period, and every visible client's for a month as streamed CSV."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from tenure.domain.catalog import money_text
from tenure.entrypoints.api import problems
from tenure.entrypoints.api.deps import AccountId, Ctx, CurrentCaller
from tenure.entrypoints.api.routes.accounts import READ
from tenure.entrypoints.api.schemas import Day
from tenure.entrypoints.api.schemas_catalog import ChargesOut
from tenure.services import billing as service

router = APIRouter(tags=["billing"])
CSV: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "`billing_ref,client,service,label,month,days,amount`, one row per charge line",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.get("/accounts/{account_id}/charges", response_model=ChargesOut, responses=READ)
def account_charges(
    account_id: AccountId,
    ctx: Ctx,
    caller: CurrentCaller,
    first: Annotated[Day | None, Query(alias="from", description="first day, included (default: this month)")] = None,
    last: Annotated[
        Day | None, Query(alias="to", description="last day, included (default: end of this month)")
    ] = None,
) -> dict[str, object]:
    charges = service.account_charges(
        ctx.uow(), caller=caller, account_id=account_id, first=first, last=last, now=ctx.clock.now()
    )
    return {
        "account_id": charges.account_id,
        "lines": [
            {
                "service_id": line.service_id,
                "service": line.kind,
                "label": line.label,
                "month": line.month,
                "days": line.days,
                "amount": money_text(line.amount),
            }
            for line in charges.lines
        ],
        "total": money_text(charges.total),
    }


@router.get(
    "/charges.csv",
    response_class=StreamingResponse,
    responses={**CSV, **problems.responses(401, 403, 422)},
)
def charges_csv(
    month: Annotated[str, Query(min_length=7, max_length=7, description="YYYY-MM")],
    ctx: Ctx,
    caller: CurrentCaller,
) -> StreamingResponse:
    """Streamed: rows leave in batches as the set-based query yields them."""
    chunks = service.month_csv(ctx.uow(), caller=caller, month=month)
    headers = {"Content-Disposition": f'attachment; filename="charges-{month}.csv"'}
    return StreamingResponse(chunks, media_type="text/csv; charset=utf-8", headers=headers)
