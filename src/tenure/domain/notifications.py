"""Which notifications a change sends (lifecycle.md §6, api.md "Webhooks").

Pure mapping from audit actions to webhook event types and email templates;
the service layer queues them in the outbox inside the change's transaction.
"""

from __future__ import annotations

import functools

from tenure.domain.events import Action
from tenure.domain.model import Stage, Status
from tenure.domain.policy import Policy, effective

WEBHOOK_EVENTS: dict[Action, str] = {
    Action.ACTIVATED: "account.activated",
    Action.SUSPENDED: "account.suspended",
    Action.UNSUSPENDED: "account.unsuspended",
    Action.DECOMMISSION_SCHEDULED: "account.decommission_scheduled",
    Action.DECOMMISSION_CANCELLED: "account.decommission_cancelled",
    Action.DECOMMISSIONED: "account.decommissioned",
    Action.CONVERTED: "account.converted",
}
ENTITLEMENTS_CHANGED = "entitlements.changed"
WEBHOOK_EVENT_TYPES: tuple[str, ...] = (*WEBHOOK_EVENTS.values(), ENTITLEMENTS_CHANGED)

# Emails tied to one account's own change; suspension emails are planned per affected client.
EMAIL_TEMPLATES: dict[Action, str] = {
    Action.DECOMMISSION_SCHEDULED: "decommission_scheduled",
    Action.DECOMMISSION_CANCELLED: "decommission_cancelled",
    Action.DECOMMISSIONED: "decommissioned",
}
SUSPENDED_EMAIL = "suspended"
UNSUSPENDED_EMAIL = "unsuspended"


@functools.cache
def stages_whose_capabilities_follow_suspension(policy: Policy) -> frozenset[Stage]:
    """Stages in which becoming (or ceasing to be) suspended changes what an account may do."""
    changed = set()
    for stage in (Stage.NEW, Stage.SCHEDULED, Stage.ACTIVE):
        plain = effective(policy, stage, Status(stage.value))
        if plain != effective(policy, stage, Status.SUSPENDED):
            changed.add(stage)
    return frozenset(changed)


def capabilities_changed(policy: Policy, before: tuple[Stage, Status], after: tuple[Stage, Status]) -> bool:
    return effective(policy, *before) != effective(policy, *after)


def states_changed_by_policy(old: Policy, new: Policy) -> frozenset[tuple[Stage, Status]]:
    """The (stage, status) pairs whose effective capabilities differ between two policies."""
    states = [(stage, Status(stage.value)) for stage in (Stage.NEW, Stage.SCHEDULED, Stage.ACTIVE)]
    states += [(stage, Status.SUSPENDED) for stage in (Stage.NEW, Stage.SCHEDULED, Stage.ACTIVE)]
    return frozenset(state for state in states if effective(old, *state) != effective(new, *state))
