"""Console confirmations checked in the same transaction as the change they confirm.

The console's Decommission dialog asks for the client's exact name (now) or a
date after today (scheduled). Both are read from the locked account inside
the decommission's own unit of work, so the name typed is compared with the
name the change applies to, and nothing is read twice.
"""

from __future__ import annotations

from datetime import date, datetime

from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import Caller
from tenure.domain.errors import ValidationFailed
from tenure.domain.model import Account
from tenure.services.accounts import decommission_in
from tenure.services.common import load_for_lifecycle, today


def decommission(
    uow: UnitOfWork,
    *,
    caller: Caller,
    account_id: str,
    on: date | None,
    confirm_name: str,
    expected_version: int | None,
    now: datetime,
) -> Account:
    """`accounts.decommission`, confirmed: now needs the exact name, scheduled a date after today.

    The confirmation is checked before who may act and the version, as the
    console always did: a mistyped name is said first.
    """
    with uow:
        account = uow.accounts.get(account_id, caller=caller, lock=True)
        _check_confirmation(account, on=on, confirm_name=confirm_name, today=today(uow, now))
        load_for_lifecycle(uow, caller, account_id, expected_version, "decommission", loaded=account)
        decommission_in(uow, account, on=on, actor=caller.email, now=now)
        uow.commit()
    return account


def _check_confirmation(account: Account, *, on: date | None, confirm_name: str, today: date) -> None:
    if on is not None:
        if on <= today:
            raise ValidationFailed("a scheduled decommission needs a date after today; choose Now to do it today")
    elif confirm_name.strip() != account.name.strip():  # exactly, case included, as the dialog asks
        raise ValidationFailed(f"type the client's name, {account.name}, to decommission it now")
