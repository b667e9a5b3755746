"""Entitlements for network equipment: an account's capabilities, and the per-call number lookup."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from tenure.domain.access import Caller, Scope
from tenure.domain.policy import Capability
from tenure.entrypoints.api.deps import AccountId, Ctx, require_scope
from tenure.entrypoints.api.routes.accounts import READ
from tenure.entrypoints.api.schemas_catalog import EntitlementsOut, NumberDecisionOut
from tenure.services import entitlements as service

router = APIRouter(tags=["entitlements"])
EntitlementsCaller = Annotated[Caller, Depends(require_scope(Scope.ENTITLEMENTS_READ))]


@router.get("/accounts/{account_id}/entitlements", response_model=EntitlementsOut, responses=READ)
def account_entitlements(account_id: AccountId, ctx: Ctx, caller: EntitlementsCaller) -> dict[str, object]:
    found = service.account_entitlements(ctx.uow(), caller=caller, account_id=account_id)
    return {
        "account_id": found.account_id,
        "status": found.status.value,
        "billed": found.billed,
        "capabilities": {c.value: {"allowed": d.allowed, "because": d.because} for c, d in found.decisions.items()},
    }


@router.get("/entitlements/numbers/{e164}", response_model=NumberDecisionOut, responses=READ)
def number_entitlement(
    e164: Annotated[str, Path(min_length=1, max_length=64, description="the number in E.164: +442079460000")],
    capability: Annotated[Capability, Query(description="the capability asked for")],
    ctx: Ctx,
    caller: EntitlementsCaller,
) -> dict[str, object]:
    """The hot path, asked on every call setup: one SQL statement, never a stale answer.

    404 when no active service visible to the caller holds the number.
    """
    found = service.number_entitlement(
        ctx.uow(), caller=caller, number=e164, capability=capability, now=ctx.clock.now()
    )
    return {
        "number": found.number,
        "account_id": found.account_id,
        "capability": found.capability.value,
        "allowed": found.allowed,
        "because": found.because,
    }
