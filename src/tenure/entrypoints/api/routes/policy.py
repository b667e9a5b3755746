"""The operator's entitlement policy: read by anyone signed in, set by the operator's admins."""

from __future__ import annotations

from fastapi import APIRouter

from tenure.domain.policy import PRESETS, Policy
from tenure.entrypoints.api import problems
from tenure.entrypoints.api.deps import Ctx, CurrentCaller
from tenure.entrypoints.api.schemas_catalog import PolicyIn, PolicyOut
from tenure.services import policy as service

router = APIRouter(prefix="/policy", tags=["policy"])


def policy_out(policy: Policy) -> PolicyOut:
    return PolicyOut(name=policy.name, custom=policy.name not in PRESETS, matrix=policy.as_matrix())


@router.get("", response_model=PolicyOut, responses=problems.responses(401, 403))
def get_policy(ctx: Ctx, caller: CurrentCaller) -> PolicyOut:
    return policy_out(service.get_policy(ctx.uow(), caller=caller))


@router.put("", response_model=PolicyOut, responses=problems.responses(401, 403, 422))
def set_policy(body: PolicyIn, ctx: Ctx, caller: CurrentCaller) -> PolicyOut:
    """`{"preset": "metis"}` or `{"matrix": {...}}`; in force for the very next request."""
    policy = service.set_policy(ctx.uow(), caller=caller, preset=body.preset, matrix=body.matrix, now=ctx.clock.now())
    return policy_out(policy)
