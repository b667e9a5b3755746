"""The read side: accounts as every entry point shows them, scoped to the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from tenure.adapters.db.audit import AuditEntry
from tenure.adapters.db.listing import AccountFilter, fetch_page
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import Caller
from tenure.domain.model import Account
from tenure.services.common import today


@dataclass(frozen=True)
class AccountView:
    account: Account
    today: date
    offices: list[tuple[str, str]] = field(default_factory=list)
    wizard_step: str | None = None

    @property
    def contract_expired(self) -> bool:
        return self.account.contract_expired(self.today)


def views(uow: UnitOfWork, accounts: list[Account], now: datetime) -> list[AccountView]:
    offices = uow.offices.held_by([a.id for a in accounts])
    day = today(uow, now)
    return [AccountView(a, day, offices.get(a.id, [])) for a in accounts]


def get_account(uow: UnitOfWork, *, caller: Caller, account_id: str, now: datetime) -> AccountView:
    with uow.reading():
        return views(uow, [uow.accounts.get(account_id, caller=caller)], now)[0]


def view_of(uow: UnitOfWork, account: Account, now: datetime) -> AccountView:
    """The view of an account a use case just changed (its own short read)."""
    with uow.reading():
        return views(uow, [account], now)[0]


def list_accounts(
    uow: UnitOfWork, *, caller: Caller, flt: AccountFilter, limit: int, cursor: str | None, now: datetime
) -> tuple[list[AccountView], str | None]:
    with uow.reading():
        rows, next_cursor = fetch_page(uow.connection, caller, flt, limit=limit, cursor=cursor)
        return views(uow, uow.accounts.hydrate(rows), now), next_cursor


def account_events(
    uow: UnitOfWork, *, caller: Caller, account_id: str | None, limit: int, cursor: str | None
) -> tuple[list[AuditEntry], str | None]:
    with uow.reading():
        if account_id is not None:
            uow.accounts.get(account_id, caller=caller)  # 404 for what the caller may not see
        caller.require_staff("the audit trail")  # it names staff and their notes (api.md)
        return uow.audit.page(caller, account_id=account_id, limit=limit, cursor=cursor)
