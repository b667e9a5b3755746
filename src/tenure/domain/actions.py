"""Which changes the rules allow on an account right now, for the console to offer.

The console shows only the actions listed here; each one still goes through
the service layer, which checks the same rules again (lifecycle.md §2-3). No
lifecycle rule is restated here: an action is offered exactly when its
`checks.check_*` finds nothing to refuse, the same check its lifecycle
function raises on (tests/unit/test_console_actions.py checks both). What is
decided here is only who asks: an admin, not on their own account, and, for
holds, with the authority of `domain.access`.
"""

from __future__ import annotations

import enum

from tenure.domain import checks
from tenure.domain.access import Authority, Role
from tenure.domain.model import Account, ClientType, Hold, HoldReason, Kind, Status
from tenure.domain.policy import Policy, suspension_summary


class StatusAction(enum.StrEnum):
    ACTIVATE = "activate"
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"
    DECOMMISSION = "decommission"
    CANCEL_DECOMMISSION = "cancel-decommission"
    CONVERT_TO_VIRTUAL = "convert-virtual"
    CONVERT_TO_RESIDENTIAL = "convert-residential"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    StatusAction.ACTIVATE: "Activate",
    StatusAction.SUSPEND: "Suspend",
    StatusAction.UNSUSPEND: "Unsuspend",
    StatusAction.DECOMMISSION: "Decommission",
    StatusAction.CANCEL_DECOMMISSION: "Cancel scheduled decommission",
    StatusAction.CONVERT_TO_VIRTUAL: "Convert to virtual",
    StatusAction.CONVERT_TO_RESIDENTIAL: "Convert to residential",
}


def suspend_reasons(account: Account) -> list[HoldReason]:
    """The reasons a new hold may still take: each reason at most once per account."""
    held = account.held_reasons()
    return [reason for reason in HoldReason if reason not in held]


def liftable_holds(account: Account, authority: Authority) -> list[Hold]:
    """The account's own holds this user may lift (`Authority.may_lift`): the console offers these only."""
    return [hold for hold in account.holds if authority.may_lift(hold)]


def allowed_actions(
    account: Account, *, role: Role, authority: Authority, blocking_children: int = 0
) -> list[StatusAction]:
    """The status actions a user with `role` and `authority` may take on `account` now, in menu order.

    Nothing on the user's own account (lifecycle.md §3), and Unsuspend only
    when a hold is left that the user may lift. `blocking_children` is the
    number of children still undecommissioned (a partner can only be
    decommissioned once it has none).
    """
    if role is not Role.ADMIN or authority.is_own_account:
        return []
    refusals = {
        StatusAction.ACTIVATE: checks.check_activate(account),
        StatusAction.SUSPEND: _check_any_suspend(account),
        StatusAction.UNSUSPEND: checks.check_unsuspend(account, None, authority),
        StatusAction.DECOMMISSION: checks.check_decommission(account, blocking_children=blocking_children),
        StatusAction.CANCEL_DECOMMISSION: checks.check_cancel_decommission(account),
        StatusAction.CONVERT_TO_VIRTUAL: checks.check_convert(account, to=ClientType.VIRTUAL),
        StatusAction.CONVERT_TO_RESIDENTIAL: checks.check_convert(account, to=ClientType.RESIDENTIAL),
    }
    return [action for action in StatusAction if refusals[action] is None]


def _check_any_suspend(account: Account) -> checks.Refusal | None:
    """Suspend is offered when some reason would be accepted: the first refusal otherwise."""
    refusals = [checks.check_suspend(account, reason) for reason in HoldReason]
    return None if None in refusals else refusals[0]


def can_edit(account: Account, *, role: Role) -> bool:
    """Descriptive fields change for admins until the account is decommissioned."""
    return role is Role.ADMIN and checks.check_changeable(account) is None


def start_date_editable(account: Account) -> bool:
    """The start date only moves while the client is not yet active."""
    return checks.check_move_start_date(account) is None


def can_view_as_client(account: Account, *, role: Role, caller_kind: Kind) -> bool:
    """An operator or partner admin may look at what a client's own users see."""
    return role is Role.ADMIN and caller_kind is not Kind.CLIENT and account.kind is Kind.CLIENT


def _spoken(capabilities: list[str]) -> str:
    if len(capabilities) <= 1:
        return "".join(capabilities)
    return ", ".join(capabilities[:-1]) + " and " + capabilities[-1]


def suspension_effects(policy: Policy) -> tuple[str, str]:
    """('outbound calls and internet', 'inbound calls, local network, portal login and billing')."""
    stops, goes_on = suspension_summary(policy)
    continuing = [c.label for c in goes_on]
    if Status.SUSPENDED in policy.billed:
        continuing.append("billing")
    return _spoken([c.label for c in stops]) or "nothing", _spoken(continuing) or "nothing"


def suspend_confirmation(name: str, policy: Policy) -> str:
    """console.md: 'Suspend Acme Ltd? Outbound calls and internet stop; inbound calls and billing continue.'"""
    stops, goes_on = suspension_effects(policy)
    return f"Suspend {name}? {stops[0].upper()}{stops[1:]} stop; {goes_on} continue."


__all__ = [
    "StatusAction",
    "allowed_actions",
    "can_edit",
    "can_view_as_client",
    "liftable_holds",
    "start_date_editable",
    "suspend_confirmation",
    "suspend_reasons",
    "suspension_effects",
]
