"""`POST /api/v1/accounts/bulk`: one status action on up to 1,000 accounts, each answered on its own."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from tenure.adapters.db.batch import BatchUnitOfWork
from tenure.domain.access import Caller
from tenure.entrypoints.api import idempotency, problems
from tenure.entrypoints.api.deps import Ctx, CurrentCaller, IdempotencyKey
from tenure.entrypoints.api.presenters import account_out
from tenure.entrypoints.api.schemas_bulk import BulkIn, BulkOut
from tenure.services.bulk import BulkRequest, ItemResult, run_bulk

router = APIRouter(prefix="/accounts", tags=["accounts"])


@router.post("/bulk", response_model=BulkOut, responses=problems.responses(401, 403, 422))
def bulk(body: BulkIn, ctx: Ctx, caller: CurrentCaller, key: IdempotencyKey = None) -> JSONResponse:
    """Each item follows its single endpoint's rules; a refused item is a `problem` and undoes nothing else."""
    request = BulkRequest(action=body.action, reason=body.reason, note=body.note, on=body.on)

    def act() -> JSONResponse:
        results = run_bulk(
            BatchUnitOfWork(ctx.engine), caller=caller, request=request, ids=body.ids, now=ctx.clock.now()
        )
        return JSONResponse({"results": [_item(result, caller) for result in results]})

    return idempotency.run(ctx, caller, key, "POST /accounts/bulk " + body.model_dump_json(), act)


def _item(result: ItemResult, caller: Caller) -> dict[str, Any]:
    if result.view is not None:
        return {"id": result.id, "ok": True, "account": account_out(result.view, caller=caller)}
    assert result.error is not None
    return {"id": result.id, "ok": False, "problem": problems.problem_body(result.error)}
