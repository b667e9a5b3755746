"""The console's new-client wizard: Details -> Type and offices -> Services -> Review.

The client exists from the first step on, as `new` (`activate: "manual"`), so
leaving midway loses nothing: it shows as "Click to complete" and the wizard
resumes at the step stored in `accounts.wizard_step`. Every change the steps
make goes through the ordinary use cases' rules; a step that makes several
changes (Type and offices: dates, type, rooms) makes them and records the next
step in ONE transaction, so a refusal half-way leaves the draft as it was.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import date, datetime

from tenure.adapters.db.uow import UnitOfWork
from tenure.domain import lifecycle
from tenure.domain.access import Caller, ensure_not_own_account
from tenure.domain.errors import InvalidTransition
from tenure.domain.model import Account, ActivateMode, ClientType, Kind, Stage
from tenure.services import accounts, offices
from tenure.services.common import load_for_change


class WizardStep(enum.StrEnum):
    DETAILS = "details"
    TYPE = "type"
    SERVICES = "services"
    REVIEW = "review"

    @property
    def label(self) -> str:
        return {
            WizardStep.DETAILS: "Details",
            WizardStep.TYPE: "Type and offices",
            WizardStep.SERVICES: "Services",
            WizardStep.REVIEW: "Review",
        }[self]


class Finish(enum.StrEnum):
    NOW = "now"
    ON_START_DATE = "on_start_date"
    LATER = "later"


def start(uow: UnitOfWork, *, caller: Caller, request: accounts.CreateAccount, now: datetime) -> Account:
    """Create the draft client (stage `new`) and remember that the next step is Type and offices."""
    if request.kind is not Kind.CLIENT:
        raise InvalidTransition("the wizard creates clients only")
    draft = replace(request, activate=ActivateMode.MANUAL, wizard_step=WizardStep.TYPE.value)
    return accounts.create_account(uow, caller=caller, request=draft, now=now)


def _draft(uow: UnitOfWork, caller: Caller, account_id: str, *, lock: bool = False) -> Account:
    account = uow.accounts.get(account_id, caller=caller, lock=lock)
    if account.kind is not Kind.CLIENT or account.stage is not Stage.NEW:
        raise InvalidTransition(f"{account.name} is already set up; the wizard is only for new clients")
    return account


def resume_step(uow: UnitOfWork, *, caller: Caller, account_id: str) -> WizardStep:
    """Where to take up a draft: the stored step, or Review for a `new` client made elsewhere."""
    with uow.reading():
        _draft(uow, caller, account_id)
        step = uow.accounts.wizard_step(account_id)
    return WizardStep(step) if step in set(WizardStep) else WizardStep.REVIEW


def draft(uow: UnitOfWork, *, caller: Caller, account_id: str) -> Account:
    """The draft client, refused once it is no longer `new`."""
    with uow.reading():
        return _draft(uow, caller, account_id)


def advance(uow: UnitOfWork, *, caller: Caller, account_id: str, to: WizardStep) -> None:
    """Record that the draft's next step is `to` (the steps' own changes are already saved)."""
    with uow:
        account = _draft(uow, caller, account_id, lock=True)
        caller.require_admin()
        uow.accounts.set_wizard_step(account.id, to.value)
        uow.commit()


def save_details(
    uow: UnitOfWork, *, caller: Caller, account_id: str, changes: lifecycle.AccountChanges, now: datetime
) -> Account:
    """Details: save the edit and move on to Type and offices, in one transaction."""
    with uow:
        account = _locked_draft(uow, caller, account_id)
        accounts.update_in(uow, account, changes, actor=caller.email, now=now)
        uow.accounts.set_wizard_step(account.id, WizardStep.TYPE.value)
        uow.commit()
    return account


@dataclass(frozen=True)
class TypeAndOffices:
    """What the Type and offices step submits; a virtual client's rooms are ignored (it holds none)."""

    client_type: ClientType
    start_date: date | None
    end_date: date | None
    office_ids: frozenset[str]


def save_type(uow: UnitOfWork, *, caller: Caller, account_id: str, choice: TypeAndOffices, now: datetime) -> Account:
    """Dates, then the type, then the rooms, then the next step (Services): all or nothing.

    A room taken by another client since the form was loaded, or dates out of
    order, refuses the whole step: no date, type or room has changed.
    """
    with uow:
        account = _locked_draft(uow, caller, account_id)
        dates = lifecycle.AccountChanges(start_date=choice.start_date, end_date=choice.end_date)
        accounts.update_in(uow, account, dates, actor=caller.email, now=now)
        if choice.client_type is not account.client_type:
            ensure_not_own_account(caller, account.id, "convert")
            accounts.convert_in(uow, account, to=choice.client_type, actor=caller.email, now=now)
        _set_offices(uow, account, choice, actor=caller.email, now=now)
        uow.accounts.set_wizard_step(account.id, WizardStep.SERVICES.value)
        uow.commit()
    return account


def _locked_draft(uow: UnitOfWork, caller: Caller, account_id: str) -> Account:
    return load_for_change(uow, caller, account_id, None, loaded=_draft(uow, caller, account_id, lock=True))


def _set_offices(uow: UnitOfWork, account: Account, choice: TypeAndOffices, *, actor: str, now: datetime) -> None:
    held = {office_id for office_id, _ in uow.offices.held_by([account.id]).get(account.id, [])}
    wanted = set(choice.office_ids) if choice.client_type is ClientType.RESIDENTIAL else set()
    for office_id in sorted(wanted - held):
        offices.assign_in(uow, account, office_id, actor=actor, now=now)
    for office_id in sorted(held - wanted):
        offices.release_in(uow, account, office_id, actor=actor, now=now)


def finish(
    uow: UnitOfWork, *, caller: Caller, account_id: str, how: Finish, start_date: date | None, now: datetime
) -> Account | None:
    """Activate now, on the start date (at once if that has come), or leave the client `new` for later.

    Leaving it for later keeps it a draft that resumes at Review; it returns None.
    """
    if how is Finish.LATER:
        advance(uow, caller=caller, account_id=account_id, to=WizardStep.REVIEW)
        return None
    on = start_date if how is Finish.ON_START_DATE else None
    return accounts.activate(uow, caller=caller, account_id=account_id, on=on, expected_version=None, now=now)
