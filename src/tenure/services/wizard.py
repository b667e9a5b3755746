"""The console's new-client wizard: Details -> Type and offices -> Services -> Review.

The client exists from the first step on, as `new` (`activate: "manual"`), so
leaving midway loses nothing: it shows as "Click to complete" and the wizard
resumes at the step stored in `accounts.wizard_step`. Every change the steps
make goes through the ordinary use cases; this module only creates the draft,
remembers the step and finishes with an activation.
"""

from __future__ import annotations

import enum
from dataclasses import replace
from datetime import date, datetime

from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import Caller
from tenure.domain.errors import InvalidTransition
from tenure.domain.model import Account, ActivateMode, Kind, Stage
from tenure.services import accounts


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
