"""Account use cases: create, edit, and every status action of lifecycle.md §2-3."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime

from tenure.domain import billing_refs, checks, lifecycle
from tenure.domain.access import Caller
from tenure.domain.errors import BillingRefTaken
from tenure.domain.events import Action, Event
from tenure.domain.ids import new_id
from tenure.domain.model import Account, AccountRef, ActivateMode, ClientType, Contact, Hold, HoldReason, Kind, Stage
from tenure.domain.notifications import (
    SUSPENDED_EMAIL,
    UNSUSPENDED_EMAIL,
    stages_whose_capabilities_follow_suspension,
)
from tenure.domain.policy import suspension_summary
from tenure.domain.radius import stages_losing_internet_on_suspension
from tenure.services.common import authority, load_for_change, load_for_lifecycle, record, today
from tenure.services.read_models import Cascade
from tenure.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class CreateAccount:
    kind: Kind
    parent_id: str
    name: str
    main_contact: Contact
    billing_ref: str | None = None
    client_type: ClientType | None = None
    start_date: date | None = None
    end_date: date | None = None
    activate: ActivateMode = ActivateMode.ON_START_DATE
    notes: str = ""
    wizard_step: str | None = None


def create_account(uow: UnitOfWork, *, caller: Caller, request: CreateAccount, now: datetime) -> Account:
    with uow:
        parent = uow.accounts.get(request.parent_id, caller=caller, lock=True)
        caller.require_admin()
        account = create_in(uow, parent=parent, request=request, actor=caller.email, now=now)
        uow.commit()
    return account


def create_in(
    uow: UnitOfWork,
    *,
    parent: Account | None,
    request: CreateAccount,
    actor: str,
    now: datetime,
    is_management: bool = False,
) -> Account:
    """Create inside an open unit of work (also used by `tenure init`)."""
    new = lifecycle.NewAccount(
        id=new_id(),
        kind=request.kind,
        name=request.name,
        billing_ref=_billing_ref(uow, request.billing_ref, None),
        main_contact=request.main_contact,
        notes=request.notes,
        client_type=request.client_type,
        start_date=request.start_date,
        end_date=request.end_date,
        activate=request.activate,
        is_management=is_management,
    )
    account, event = lifecycle.create(new, parent=parent, today=today(uow, now), now=now)
    uow.accounts.add(account, now=now)
    if request.wizard_step:
        uow.accounts.set_wizard_step(account.id, request.wizard_step)
    uow.audit.append(event, actor=actor, at=now)
    return account


def _billing_ref(uow: UnitOfWork, wanted: str | None, account_id: str | None) -> str:
    """A custom ref if given and free; otherwise the next generated one not already taken."""
    if wanted:
        ref = billing_refs.validate_custom(wanted)
        if uow.accounts.billing_ref_in_use(ref, other_than=account_id):
            raise BillingRefTaken(f"billing ref {ref} is already in use")
        return ref
    while True:
        prefix, number = uow.accounts.next_billing_ref_number()
        ref = billing_refs.generated(prefix, number)
        if not uow.accounts.billing_ref_in_use(ref):
            return ref


def update_account(
    uow: UnitOfWork,
    *,
    caller: Caller,
    account_id: str,
    changes: lifecycle.AccountChanges,
    expected_version: int | None,
    now: datetime,
) -> Account:
    """Edit descriptive fields; an empty billing ref asks for a newly generated one."""
    with uow:
        account = load_for_change(uow, caller, account_id, expected_version)
        if update_in(uow, account, changes, actor=caller.email, now=now):
            uow.commit()
    return account


def update_in(
    uow: UnitOfWork, account: Account, changes: lifecycle.AccountChanges, *, actor: str, now: datetime
) -> bool:
    """`update_account` inside an open unit of work, on the locked account; False when nothing changed."""
    checks.ensure_changeable(account)
    if changes.billing_ref is not None and changes.billing_ref != account.billing_ref:
        changes = replace(changes, billing_ref=_billing_ref(uow, changes.billing_ref, account.id))
    event = lifecycle.update(account, changes)
    if event is None:
        return False
    record(uow, account, event, actor=actor, now=now)
    return True


def activate(
    uow: UnitOfWork, *, caller: Caller, account_id: str, on: date | None, expected_version: int | None, now: datetime
) -> Account:
    with uow:
        account = load_for_lifecycle(uow, caller, account_id, expected_version, "activate")
        was = (account.stage, account.status)
        event = lifecycle.activate(account, on=on, today=today(uow, now))
        record(uow, account, event, actor=caller.email, now=now, was=was)
        if event.action is Action.ACTIVATED:
            uow.accounts.set_wizard_step(account.id, None)
        uow.commit()
    return account


def suspend(
    uow: UnitOfWork,
    *,
    caller: Caller,
    account_id: str,
    reason: HoldReason,
    note: str,
    expected_version: int | None,
    now: datetime,
) -> Account:
    with uow:
        account = load_for_lifecycle(uow, caller, account_id, expected_version, "suspend")
        placer = _placer(uow, caller)
        hold = Hold(new_id(), account.id, reason, note, placed_at=now, placed_by=caller.email, placed_by_account=placer)
        event = lifecycle.suspend(account, hold=hold)
        uow.accounts.add_hold(hold)
        record(uow, account, event, actor=caller.email, now=now, data=_held_by(account))
        _queue_status_flips(uow, account, event, SUSPENDED_EMAIL, reason, ignore_hold=hold.id, now=now)
        uow.commit()
    return account


def unsuspend(
    uow: UnitOfWork,
    *,
    caller: Caller,
    account_id: str,
    reason: HoldReason | None,
    expected_version: int | None,
    now: datetime,
) -> Account:
    with uow:
        account = load_for_lifecycle(uow, caller, account_id, expected_version, "unsuspend")
        allowed = authority(uow, caller, account)
        lifted, event = lifecycle.unsuspend(account, reason=reason, by=caller.email, now=now, authority=allowed)
        uow.accounts.lift_holds(lifted)
        record(uow, account, event, actor=caller.email, now=now, data=_held_by(account))
        _queue_status_flips(uow, account, event, UNSUSPENDED_EMAIL, lifted[0].reason, ignore_hold=None, now=now)
        uow.commit()
    return account


def _placer(uow: UnitOfWork, caller: Caller) -> AccountRef:
    """The caller's account as a hold names it: from the credential check when it read the name."""
    if caller.account_name is not None:
        return AccountRef(caller.account_id, caller.account_name)
    return uow.accounts.ref(caller.account_id)


def _held_by(account: Account) -> dict[str, object]:
    return {"kind": account.kind.value, "name": account.name, "status": account.status.value}


def _queue_status_flips(
    uow: UnitOfWork,
    account: Account,
    event: Event,
    template: str,
    reason: HoldReason,
    *,
    ignore_hold: str | None,
    now: datetime,
) -> None:
    """Emails, entitlement webhooks and RADIUS disconnects for every account whose status flipped.

    A client's few notices are written now; a partner's change writes one
    cascade job that the worker expands after the commit (adapters/db/cascades.py),
    so the change commits in milliseconds whatever the size of the subtree.
    """
    policy = uow.site.policy
    stops, goes_on = suspension_summary(policy)
    context = {
        "reason": reason.value,
        "reason_label": reason.label,
        "held_account": {"id": account.id, "name": account.name, "kind": account.kind.value},
        "stops": [c.value for c in stops],
        "goes_on": [c.value for c in goes_on],
        "action": event.action.value,
    }
    suspending = ignore_hold is not None
    cascade = Cascade(
        root=account.id,
        template=template,
        email=context,
        webhook={"reason": reason.value, "via": context["held_account"]},
        webhook_stages=_values(stages_whose_capabilities_follow_suspension(policy)),
        radius_reason=f"suspended: {reason.label} hold on {account.kind.value} {account.name}",
        radius_stages=_values(stages_losing_internet_on_suspension(policy)) if suspending else (),
        ignore_hold=ignore_hold,
        as_of=now,
    )
    if account.kind.is_partner:
        uow.cascades.enqueue(cascade)
    elif event.before.get("status") != event.after.get("status"):  # a client: its own status flipped
        uow.cascades.write_now(cascade, account)


def _values(stages: Collection[Stage]) -> tuple[str, ...]:
    return tuple(sorted(s.value for s in stages))


def decommission(
    uow: UnitOfWork, *, caller: Caller, account_id: str, on: date | None, expected_version: int | None, now: datetime
) -> Account:
    with uow:
        account = load_for_lifecycle(uow, caller, account_id, expected_version, "decommission")
        decommission_in(uow, account, on=on, actor=caller.email, now=now)
        uow.commit()
    return account


def decommission_in(uow: UnitOfWork, account: Account, *, on: date | None, actor: str, now: datetime) -> None:
    """Decommission (or schedule it) inside an open unit of work: the API's and the worker's path."""
    day = today(uow, now)
    scheduled_for = on if on is not None and on > day else None
    blocking = uow.accounts.children_blocking_decommission(account.id, scheduled_for) if account.kind.is_partner else 0
    was = (account.stage, account.status)
    event = lifecycle.decommission(account, on=on, today=day, blocking_children=blocking)
    if event.action is Action.DECOMMISSIONED:
        uow.line_ending.end_all(account.id, on=day)
        uow.radius.disconnect_account(account.id, "decommissioned", now=now)
        _release_offices(uow, account, actor=actor, now=now)
    record(uow, account, event, actor=actor, now=now, was=was)


def cancel_decommission(
    uow: UnitOfWork, *, caller: Caller, account_id: str, expected_version: int | None, now: datetime
) -> Account:
    with uow:
        account = load_for_lifecycle(uow, caller, account_id, expected_version, "cancel the decommission of")
        event = lifecycle.cancel_decommission(account)
        record(uow, account, event, actor=caller.email, now=now)
        uow.commit()
    return account


def convert(
    uow: UnitOfWork, *, caller: Caller, account_id: str, to: ClientType, expected_version: int | None, now: datetime
) -> Account:
    with uow:
        account = load_for_lifecycle(uow, caller, account_id, expected_version, "convert")
        convert_in(uow, account, to=to, actor=caller.email, now=now)
        uow.commit()
    return account


def convert_in(uow: UnitOfWork, account: Account, *, to: ClientType, actor: str, now: datetime) -> None:
    """`convert` inside an open unit of work, on the account locked by `load_for_lifecycle`."""
    event = lifecycle.convert(account, to=to)
    if to is ClientType.VIRTUAL:
        _release_offices(uow, account, actor=actor, now=now)
    record(uow, account, event, actor=actor, now=now)


def _release_offices(uow: UnitOfWork, account: Account, *, actor: str, now: datetime) -> None:
    for office_id, name in uow.offices.release_all(account.id, now=now):
        event = Event(account.id, Action.OFFICE_RELEASED, {"office": name}, {"office": None}, reason=office_id)
        uow.audit.append(event, actor=actor, at=now)


def activate_due(uow: UnitOfWork, *, account: Account, actor: str, now: datetime) -> Account:
    """The worker's activation of a scheduled account whose start date has come (inside an open uow)."""
    was = (account.stage, account.status)
    event = lifecycle.start_date_reached(account, today=today(uow, now))
    record(uow, account, event, actor=actor, now=now, was=was)
    return account
