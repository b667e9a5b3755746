"""Why a lifecycle move would be refused (lifecycle.md §1-3), without making it.

Each `check_<move>(account, ...) -> Refusal | None` says why a move is refused,
in the order the spec gives (decommissioned first). The moves in
`domain.lifecycle` raise what their check returns (`refuse`), and the console's
offered actions (`domain.actions`) ask the same checks, so the two cannot drift
apart. The input checks (names, contacts, dates) live here too.
"""

from __future__ import annotations

from datetime import date

from tenure.domain.access import Authority
from tenure.domain.errors import (
    AccountDecommissioned,
    AlreadySuspended,
    DomainError,
    Forbidden,
    HasActiveChildren,
    InheritedSuspension,
    InvalidTransition,
    NotSuspended,
    ValidationFailed,
)
from tenure.domain.model import Account, ClientType, Contact, Hold, HoldReason, Kind, Stage
from tenure.domain.text import check_line

NAME_MAX = 200


Refusal = DomainError
"""Why a move is refused: the error its lifecycle function raises, returned by a check instead."""


def refuse(refusal: Refusal | None) -> None:
    """What a move does with its check: raise the refusal, if any."""
    if refusal is not None:
        raise refusal


def check_contact(contact: Contact) -> Contact:
    check_line(contact.name, "main_contact.name")
    check_line(contact.email, "main_contact.email")
    return contact


def clean_name(name: str) -> str:
    cleaned = check_line(name, "name").strip()
    if not 1 <= len(cleaned) <= NAME_MAX:
        raise ValidationFailed(f"name must be 1-{NAME_MAX} characters", field="name")
    return cleaned


def check_dates(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise ValidationFailed("end_date must not be before start_date", field="end_date")


def check_changeable(account: Account) -> Refusal | None:
    """A decommissioned account refuses every change; this check comes first."""
    if account.stage is Stage.DECOMMISSIONED:
        return AccountDecommissioned(f"{account.name} is decommissioned and can no longer change")
    return None


def ensure_changeable(account: Account) -> None:
    refuse(check_changeable(account))


def _check_not_protected(account: Account, action: str) -> Refusal | None:
    if account.kind is Kind.OPERATOR:
        return InvalidTransition(f"the operator can never be {action}")
    if account.is_management:
        return InvalidTransition(f"the management client can never be {action}")
    return None


def check_activate(account: Account) -> Refusal | None:
    if refusal := check_changeable(account):
        return refusal
    if account.stage not in (Stage.NEW, Stage.SCHEDULED):
        return InvalidTransition(
            f"{account.name} is {account.stage.value}; only new or scheduled accounts can be activated"
        )
    return None


def check_suspend(account: Account, reason: HoldReason) -> Refusal | None:
    """Only an active account takes a hold, never the operator or the management client; each reason once."""
    if refusal := check_changeable(account) or _check_not_protected(account, "suspended"):
        return refusal
    if account.stage is not Stage.ACTIVE:
        return InvalidTransition(f"{account.name} is {account.stage.value}; only an active account can be suspended")
    if reason in account.held_reasons():
        return AlreadySuspended(f"{account.name} already has a {reason.label} hold")
    return None


def wanted_holds(account: Account, reason: HoldReason | None) -> list[Hold]:
    return [h for h in account.holds if reason is None or h.reason is reason]


def check_unsuspend(account: Account, reason: HoldReason | None, authority: Authority) -> Refusal | None:
    """Refused without an own hold (with `reason`), or when `authority` may lift none of them (hold authority)."""
    if refusal := check_changeable(account):
        return refusal
    if not account.holds:
        if account.inherited is not None:
            ancestor = account.inherited
            return InheritedSuspension(
                f"{account.name} is suspended only because {ancestor.account_kind.value} "
                f"{ancestor.account_name} is suspended",
                suspended_by={"id": ancestor.account_id, "name": ancestor.account_name},
            )
        return NotSuspended(f"{account.name} is not suspended")
    wanted = wanted_holds(account, reason)
    if not wanted:
        return NotSuspended(f"{account.name} has no {reason.label if reason else ''} hold")
    try:
        authority.liftable(wanted)
    except Forbidden as refusal:
        return refusal
    return None


def check_decommission(account: Account, *, blocking_children: int) -> Refusal | None:
    """Never the operator or the management client; a partner waits for its `blocking_children`."""
    if refusal := check_changeable(account) or _check_not_protected(account, "decommissioned"):
        return refusal
    if blocking_children:
        return HasActiveChildren(
            f"{account.name} still has {blocking_children} undecommissioned "
            f"child account{'s' if blocking_children != 1 else ''}"
        )
    return None


def check_cancel_decommission(account: Account) -> Refusal | None:
    if refusal := check_changeable(account):
        return refusal
    if account.decommission_on is None:
        return InvalidTransition(f"{account.name} has no scheduled decommission")
    return None


def check_convert(account: Account, *, to: ClientType) -> Refusal | None:
    if refusal := check_changeable(account):
        return refusal
    if account.kind is not Kind.CLIENT:
        return InvalidTransition("only clients can be converted")
    if account.client_type is to:
        return InvalidTransition(f"{account.name} is already a {to.value} client")
    return None


def check_move_start_date(account: Account) -> Refusal | None:
    """The start date only moves on a client that is not yet active."""
    if refusal := check_changeable(account):
        return refusal
    if account.kind is not Kind.CLIENT:
        return ValidationFailed("only clients have start and end dates")
    if account.stage not in (Stage.NEW, Stage.SCHEDULED):
        return InvalidTransition("the start date can only change while the client is not yet active")
    return None
