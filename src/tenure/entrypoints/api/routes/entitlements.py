"""Entitlements for network equipment: an account's capabilities, and the per-call number lookup.

Both are the hot path (`services.hot_path`). A well-formed request is answered
before routing by `api.lean`; these routes answer the rest (the same way, with
FastAPI's validation errors) and describe both in the OpenAPI document. They are
`async` with no synchronous dependency, so a lookup never waits for the
threadpool; the hot path's credential cache requires `entitlements:read` (or
`read`) of an API key.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from tenure.domain.access import Caller, Scope
from tenure.domain.catalog import LineKind
from tenure.domain.policy import Capability
from tenure.domain.radius import NETWORK_ID_MAX
from tenure.entrypoints.api.deps import AccountId, Ctx, oauth2, require_scope
from tenure.entrypoints.api.lean import number_body
from tenure.entrypoints.api.routes.accounts import READ
from tenure.entrypoints.api.schemas_catalog import EntitlementsOut, NumberDecisionOut, ServiceDecisionOut
from tenure.entrypoints.context import AppContext
from tenure.services import entitlements as service

router = APIRouter(tags=["entitlements"])
Credential = Annotated[str | None, Depends(oauth2)]


def _hot_path(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


@router.get("/accounts/{account_id}/entitlements", response_model=EntitlementsOut, responses=READ)
async def account_entitlements(account_id: AccountId, request: Request, credential: Credential) -> JSONResponse:
    found = await _hot_path(request).hot_path.account(credential, account_id)
    return JSONResponse(
        {
            "account_id": found.account_id,
            "status": found.status.value,
            "billed": found.billed,
            "capabilities": {c.value: {"allowed": d.allowed, "because": d.because} for c, d in found.decisions.items()},
        }
    )


@router.get("/entitlements/numbers/{e164}", response_model=NumberDecisionOut, responses=READ)
async def number_entitlement(
    e164: Annotated[str, Path(min_length=1, max_length=64, description="the number in E.164: +442079460000")],
    capability: Annotated[Capability, Query(description="the capability asked for")],
    request: Request,
    credential: Credential,
) -> JSONResponse:
    """The hot path, asked on every call setup: one SQL statement, never a stale answer.

    404 when no active service visible to the caller holds the number.
    """
    return JSONResponse(number_body(await _hot_path(request).hot_path.number(credential, e164, capability)))


@router.get("/entitlements/services/{kind}/{network_id:path}", response_model=ServiceDecisionOut, responses=READ)
def service_entitlement(
    kind: Annotated[LineKind, Path(description="the service kind: internet, wifi, …")],
    network_id: Annotated[
        str, Path(min_length=1, max_length=NETWORK_ID_MAX, description="the service's network id (RADIUS User-Name)")
    ],
    capability: Annotated[Capability, Query(description="the capability asked for")],
    ctx: Ctx,
    caller: Annotated[Caller, Depends(require_scope(Scope.ENTITLEMENTS_READ))],
) -> dict[str, object]:
    """The same decision for a service found by its network id; 404 when no active service visible holds it."""
    found = service.service_entitlement(
        ctx.uow(), caller=caller, kind=kind, network_id=network_id, capability=capability, now=ctx.clock.now()
    )
    return {
        "kind": found.kind.value,
        "network_id": found.network_id,
        "service_id": found.service_id,
        "account_id": found.account_id,
        "capability": found.capability.value,
        "allowed": found.allowed,
        "because": found.because,
    }
