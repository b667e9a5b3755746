"""What every use case does around a change: load, check, save, record, notify."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import SYSTEM_ACTOR, Authority, Caller, Role, authority_over, ensure_not_own_account
from tenure.domain.checks import ensure_changeable
from tenure.domain.errors import VersionConflict
from tenure.domain.events import Event
from tenure.domain.model import Account, Kind, Stage, Status
from tenure.domain.notifications import (
    EMAIL_TEMPLATES,
    ENTITLEMENTS_CHANGED,
    WEBHOOK_EVENTS,
    capabilities_changed,
)


def today(uow: UnitOfWork, now: datetime) -> date:
    """ "Today" is the date in the operator's time zone (lifecycle.md §2)."""
    return now.astimezone(uow.site.timezone).date()


def system_caller(uow: UnitOfWork) -> Caller:
    """The worker acts as `system`, with the operator's reach: scoping still applies."""
    return Caller(SYSTEM_ACTOR, SYSTEM_ACTOR, uow.site.operator_id, Kind.OPERATOR, Role.ADMIN)


def load_for_change(
    uow: UnitOfWork, caller: Caller, account_id: str, expected_version: int | None, *, loaded: Account | None = None
) -> Account:
    """The account, locked for the change: 404 if not visible, 403 if read-only, 412 if stale.

    A decommissioned account answers `account-decommissioned` even to a stale version:
    that check comes before every other rule (lifecycle.md §2), and reloading would not help.
    """
    account = loaded or uow.accounts.get(account_id, caller=caller, lock=True)
    caller.require_admin()
    if expected_version is not None and expected_version != account.version:
        ensure_changeable(account)
        raise VersionConflict(
            f"{account.name} is at version {account.version}, not {expected_version}", version=account.version
        )
    return account


def load_for_lifecycle(
    uow: UnitOfWork,
    caller: Caller,
    account_id: str,
    expected_version: int | None,
    action: str,
    *,
    loaded: Account | None = None,
) -> Account:
    """`load_for_change` for a lifecycle action: also 403 on the caller's own account (lifecycle.md §3)."""
    account = loaded or uow.accounts.get(account_id, caller=caller, lock=True)
    caller.require_admin()
    ensure_not_own_account(caller, account.id, action)
    return load_for_change(uow, caller, account_id, expected_version, loaded=account)


def authority(uow: UnitOfWork, caller: Caller, account: Account) -> Authority:
    """What `caller` may do to `account`'s lifecycle, holds included (rules in `domain.access`)."""
    return authority_over(caller, uow.accounts.lineage(account.id))


def record(
    uow: UnitOfWork,
    account: Account,
    event: Event,
    *,
    actor: str,
    now: datetime,
    was: tuple[Stage, Status] | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Save the account, append the audit event and queue its notifications: all in the caller's transaction."""
    uow.accounts.save(account, now=now)
    uow.audit.append(event, actor=actor, at=now)
    payload = {"action": event.action.value, "reason": event.reason, **(data or {})}
    topic = WEBHOOK_EVENTS.get(event.action)
    if topic:
        uow.outbox.webhook(topic, account.id, payload, now=now)
    template = EMAIL_TEMPLATES.get(event.action)
    if template:
        context = {
            "decommission_on": _iso(account.decommission_on),
            "decommissioned_on": _iso(account.decommissioned_on),
        }
        uow.outbox.email(template, account.id, account.main_contact.email, context, now=now)
    if was is not None and capabilities_changed(uow.site.policy, was, (account.stage, account.status)):
        uow.outbox.webhook(ENTITLEMENTS_CHANGED, account.id, {"status": account.status.value}, now=now)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
