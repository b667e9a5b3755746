"""The operator's entitlement policy: a preset (`connect`, `metis`) or its own matrix.

Stored on the site row, read by every decision in the same statement or
transaction as the account it judges, so a change is in force for the very
next request and nothing can serve the old answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import Caller
from tenure.domain.errors import ValidationFailed
from tenure.domain.events import Action, Event, JSONObject
from tenure.domain.notifications import states_changed_by_policy
from tenure.domain.policy import PRESETS, Policy, from_matrix
from tenure.domain.radius import states_losing_internet

CUSTOM = "custom"
Matrix = Mapping[str, Mapping[str, bool]]


@dataclass(frozen=True)
class PolicyPreview:
    """What saving `policy` would do: how many accounts' capabilities change (each hears `entitlements.changed`)."""

    policy: Policy
    accounts_changed: int


def get_policy(uow: UnitOfWork, *, caller: Caller) -> Policy:
    """Any signed-in user may read the policy: it explains every decision they see."""
    with uow.reading():
        return uow.site.policy


def preview_policy(uow: UnitOfWork, *, caller: Caller, preset: str | None, matrix: Matrix | None) -> PolicyPreview:
    """Count the accounts `set_policy` would notify, with the same states and the same SQL condition."""
    caller.require_operator_admin()
    policy, _ = _chosen(preset, matrix)
    with uow.reading():
        changed = uow.accounts.count_in_states(states_changed_by_policy(uow.site.policy, policy))
    return PolicyPreview(policy, changed)


def set_policy(
    uow: UnitOfWork,
    *,
    caller: Caller,
    preset: str | None,
    matrix: Matrix | None,
    now: datetime,
) -> Policy:
    """Switch to a preset, or store a complete custom matrix (validated by `domain.policy.from_matrix`)."""
    caller.require_operator_admin()
    policy, stored = _chosen(preset, matrix)
    with uow:
        old = uow.site.policy
        before = _describe(old)
        uow.site_settings.set_policy(policy.name, stored)
        # Every account whose capabilities the new policy changes hears of it, set-based.
        uow.outbox.entitlements_changed_for_states(
            states_changed_by_policy(old, policy),
            {"reason": "entitlement policy changed", "policy": policy.name},
            now=now,
        )
        uow.radius.disconnect_states(states_losing_internet(old, policy), "entitlement policy changed", now=now)
        event = Event(uow.site.operator_id, Action.UPDATED, before, _describe(policy), reason="entitlement policy")
        uow.audit.append(event, actor=caller.email, at=now)
        uow.commit()
    return policy


def _chosen(preset: str | None, matrix: Matrix | None) -> tuple[Policy, dict[str, dict[str, bool]] | None]:
    """The policy asked for, and the matrix to store (None for a preset)."""
    if (preset is None) == (matrix is None):
        raise ValidationFailed("give either `preset` or `matrix`, not both and not neither")
    if preset is not None:
        if preset not in PRESETS:
            raise ValidationFailed(f"preset must be one of {', '.join(PRESETS)}", field="preset")
        return PRESETS[preset], None
    assert matrix is not None
    policy = from_matrix(matrix, CUSTOM)
    return policy, policy.as_matrix()


def _describe(policy: Policy) -> JSONObject:
    matrix: JSONObject = {key: dict(row) for key, row in policy.as_matrix().items()}
    return {"policy": policy.name, "matrix": matrix}
