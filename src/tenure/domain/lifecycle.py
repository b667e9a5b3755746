"""The lifecycle rules (lifecycle.md §1-3): every allowed move, and why others are refused.

Each function checks the rules in the order the spec gives (decommissioned
first), changes the in-memory account, and returns the audit event. Nothing
here knows about storage; the service layer loads, calls, and saves.

Why a move would be refused is asked first of its check in `domain.checks`
(`check_<move>`), which the console's offered actions ask too; a move raises
what its check returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tenure.domain.access import Authority
from tenure.domain.checks import (
    check_activate,
    check_cancel_decommission,
    check_contact,
    check_convert,
    check_dates,
    check_decommission,
    check_move_start_date,
    check_suspend,
    check_unsuspend,
    clean_name,
    ensure_changeable,
    refuse,
    wanted_holds,
)
from tenure.domain.errors import (
    InvalidTransition,
    ValidationFailed,
)
from tenure.domain.events import Action, Event, JSONObject, as_json, diff
from tenure.domain.model import (
    ALLOWED_PARENTS,
    Account,
    ActivateMode,
    AncestorHold,
    ClientType,
    Contact,
    Hold,
    HoldReason,
    Kind,
    Stage,
)
from tenure.domain.schedule import ACTIVATION_DUE
from tenure.domain.text import check_note


def one_year_after(start: date) -> date:
    """The default end date; 29 February falls back to the 28th. Past year 9999 it is bad input."""
    if start.year >= date.max.year:
        raise ValidationFailed(
            "start_date is too late: its default end_date (a year on) would be past 9999-12-31; give an end_date",
            field="start_date",
        )
    try:
        return start.replace(year=start.year + 1)
    except ValueError:
        return start.replace(year=start.year + 1, day=28)


@dataclass(frozen=True)
class NewAccount:
    """What a caller asks for when creating an account (already type-checked)."""

    id: str
    kind: Kind
    name: str
    billing_ref: str
    main_contact: Contact
    notes: str = ""
    client_type: ClientType | None = None
    start_date: date | None = None
    end_date: date | None = None
    activate: ActivateMode = ActivateMode.ON_START_DATE
    is_management: bool = False


def create(request: NewAccount, *, parent: Account | None, today: date, now: datetime) -> tuple[Account, Event]:
    """Create an account under `parent`; clients get their stage from the start date."""
    _check_parent(request.kind, parent)
    name = clean_name(request.name)
    check_contact(request.main_contact)
    check_note(request.notes)
    start: date | None = None
    end: date | None = None
    client_type: ClientType | None = None
    if request.kind is Kind.CLIENT:
        start = request.start_date or today
        end = request.end_date or one_year_after(start)
        check_dates(start, end)
        stage = _initial_client_stage(request.activate, start, today)
        client_type = request.client_type or ClientType.RESIDENTIAL
    else:
        if request.start_date or request.end_date or request.client_type:
            raise ValidationFailed("start_date, end_date and client_type are for clients only")
        stage = Stage.ACTIVE
    account = Account(
        id=request.id,
        kind=request.kind,
        parent_id=parent.id if parent else None,
        name=name,
        billing_ref=request.billing_ref,
        main_contact=request.main_contact,
        stage=stage,
        created_at=now,
        notes=request.notes,
        is_management=request.is_management,
        client_type=client_type,
        start_date=start,
        end_date=end,
        activated_on=today if stage is Stage.ACTIVE else None,
        inherited=inherited_from(parent),
    )
    return account, Event(account.id, Action.CREATED, after=as_json_dict(snapshot(account)))


def inherited_from(parent: Account | None) -> AncestorHold | None:
    """What a new child of `parent` inherits: born under a suspended channel, it is suspended too."""
    if parent is None:
        return None
    if parent.holds:
        oldest = min(parent.holds, key=lambda hold: hold.placed_at)
        return AncestorHold(parent.id, parent.name, parent.kind, oldest.reason, oldest.placed_at)
    return parent.inherited


def _check_parent(kind: Kind, parent: Account | None) -> None:
    if parent is None:
        if kind is not Kind.OPERATOR:
            raise ValidationFailed("parent_id is required", field="parent_id")
        return
    ensure_changeable(parent)
    if parent.kind not in ALLOWED_PARENTS[kind]:
        raise InvalidTransition(f"a {kind.value} cannot be placed under a {parent.kind.value}")
    if parent.decommission_on is not None:
        # A child added now would block the partner's decommission on every worker pass.
        raise InvalidTransition(
            f"{parent.name} is to be decommissioned on {parent.decommission_on.isoformat()}; "
            "no account can be created under it (cancel the decommission first)",
            decommission_on=parent.decommission_on.isoformat(),
        )


def _initial_client_stage(mode: ActivateMode, start: date, today: date) -> Stage:
    if mode is ActivateMode.MANUAL:
        return Stage.NEW
    return Stage.ACTIVE if start <= today else Stage.SCHEDULED


def activate(account: Account, *, on: date | None, today: date) -> Event:
    """Activate now (early activation moves the start date to today) or on a date."""
    refuse(check_activate(account))
    before = snapshot(account)
    if on is None or on <= today:
        if account.start_date is None or account.start_date > today:
            account.start_date = today
        _become_active(account, today)
        action = Action.ACTIVATED
    else:
        check_dates(on, account.end_date)
        account.start_date = on
        account.stage = Stage.SCHEDULED
        action = Action.ACTIVATION_SCHEDULED
    return _event(account, action, before)


def start_date_reached(account: Account, *, today: date) -> Event:
    """The worker's move: a scheduled account whose start date has come becomes active."""
    ensure_changeable(account)
    if not ACTIVATION_DUE.holds(account, today):
        raise InvalidTransition(f"{account.name} is not due for activation")
    before = snapshot(account)
    _become_active(account, today)
    return _event(account, Action.ACTIVATED, before)


def _become_active(account: Account, today: date) -> None:
    """Every way into `active` goes through here, so `activated_on` is always set (billing reads it)."""
    account.stage = Stage.ACTIVE
    account.activated_on = today


def suspend(account: Account, *, hold: Hold) -> Event:
    """Add a hold. Only an active account takes one; each reason at most once."""
    check_note(hold.note, "note")
    refuse(check_suspend(account, hold.reason))
    before = _hold_snapshot(account)
    account.holds.append(hold)
    return Event(account.id, Action.SUSPENDED, before, _hold_snapshot(account), reason=hold.reason.value)


def unsuspend(
    account: Account, *, reason: HoldReason | None, by: str, now: datetime, authority: Authority
) -> tuple[list[Hold], Event]:
    """Lift the own hold with `reason`, or every own hold `authority` may lift; inherited ones are not ours.

    A hold placed from above the caller's account is 403 when named by its
    reason; without a reason it is left in force, and 403 only when none is left to lift.
    """
    refuse(check_unsuspend(account, reason, authority))
    lifted = authority.liftable(wanted_holds(account, reason))
    before = _hold_snapshot(account)
    for hold in lifted:
        hold.lifted_at = now
        hold.lifted_by = by
    account.holds = [h for h in account.holds if h not in lifted]
    event = Event(
        account.id,
        Action.UNSUSPENDED,
        before,
        _hold_snapshot(account),
        reason=",".join(h.reason.value for h in lifted),
    )
    return lifted, event


def decommission(account: Account, *, on: date | None, today: date, blocking_children: int) -> Event:
    """Decommission now (final) or record the date the worker will apply it.

    `blocking_children` counts the children still undecommissioned on that day
    (those not themselves scheduled to go by then): a partner waits for them.
    """
    refuse(check_decommission(account, blocking_children=blocking_children))
    before = snapshot(account)
    if on is None or on <= today:
        account.stage = Stage.DECOMMISSIONED
        account.decommissioned_on = today
        account.decommission_on = None
        return _event(account, Action.DECOMMISSIONED, before)
    account.decommission_on = on
    return _event(account, Action.DECOMMISSION_SCHEDULED, before)


def cancel_decommission(account: Account) -> Event:
    refuse(check_cancel_decommission(account))
    before = snapshot(account)
    account.decommission_on = None
    return _event(account, Action.DECOMMISSION_CANCELLED, before)


def convert(account: Account, *, to: ClientType) -> Event:
    """Flip a client between residential and virtual; the caller releases offices."""
    refuse(check_convert(account, to=to))
    before = snapshot(account)
    account.client_type = to
    return _event(account, Action.CONVERTED, before)


@dataclass(frozen=True)
class AccountChanges:
    """A PATCH: only the fields present are changed. `billing_ref=""` asks for a new generated one."""

    name: str | None = None
    billing_ref: str | None = None
    main_contact: Contact | None = None
    start_date: date | None = None
    end_date: date | None = None
    notes: str | None = None


def update(account: Account, changes: AccountChanges) -> Event | None:
    """Edit the descriptive fields; the start date only moves while not yet active."""
    ensure_changeable(account)
    before = snapshot(account)
    if changes.name is not None:
        account.name = clean_name(changes.name)
    if changes.billing_ref is not None:
        account.billing_ref = changes.billing_ref
    if changes.main_contact is not None:
        account.main_contact = check_contact(changes.main_contact)
    if changes.notes is not None:
        account.notes = check_note(changes.notes)
    if changes.start_date is not None or changes.end_date is not None:
        _update_dates(account, changes)
    if snapshot(account) == before:
        return None
    return _event(account, Action.UPDATED, before)


def _update_dates(account: Account, changes: AccountChanges) -> None:
    if account.kind is not Kind.CLIENT:
        raise ValidationFailed("only clients have start and end dates")
    if changes.start_date is not None and changes.start_date != account.start_date:
        refuse(check_move_start_date(account))
        account.start_date = changes.start_date
    if changes.end_date is not None:
        account.end_date = changes.end_date
    check_dates(account.start_date, account.end_date)


def snapshot(account: Account) -> dict[str, object]:
    """The fields an audit event compares before and after."""
    return {
        "name": account.name,
        "billing_ref": account.billing_ref,
        "main_contact": {"name": account.main_contact.name, "email": account.main_contact.email},
        "notes": account.notes,
        "stage": account.stage,
        "status": account.status,
        "client_type": account.client_type,
        "start_date": account.start_date,
        "end_date": account.end_date,
        "decommission_on": account.decommission_on,
        "decommissioned_on": account.decommissioned_on,
    }


def as_json_dict(values: dict[str, object]) -> JSONObject:
    return {key: as_json(value) for key, value in values.items() if value is not None}


def _hold_snapshot(account: Account) -> JSONObject:
    return {"status": account.status.value, "holds": as_json(sorted(h.reason.value for h in account.holds))}


def _event(account: Account, action: Action, before: dict[str, object]) -> Event:
    old, new = diff(before, snapshot(account))
    return Event(account.id, action, old, new)
