"""Bulk actions (api.md "Bulk actions"): one status action on up to 1,000 accounts at once.

Each item is the single endpoint's own use case (`services.accounts.suspend`,
…), run on an item of one `BatchUnitOfWork`, so its rules, its authority
checks, its events, emails and webhooks are exactly those of a single call and
follow that function wherever it changes. Items are independent: a refused
item is undone alone and the others stand. Items run in the order given; an id
given twice is simply acted on twice, the second time seeing the first's
result (a second suspend with the same reason is `already-suspended`).
"""

from __future__ import annotations

import copy
import enum
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from tenure.adapters.db.batch import BatchUnitOfWork
from tenure.adapters.db.batch_repos import ids_for_tokens
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import Caller
from tenure.domain.errors import DomainError, ValidationFailed
from tenure.domain.model import Account, HoldReason
from tenure.services import accounts
from tenure.services.queries import AccountView, views

MAX_ITEMS = 1000


class BulkAction(enum.StrEnum):
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"
    DECOMMISSION = "decommission"
    CANCEL_DECOMMISSION = "cancel_decommission"
    ACTIVATE = "activate"

    @property
    def done_label(self) -> str:
        """What a finished batch did, as the CLI's summary says it ("suspended 3 of 4 accounts")."""
        return _DONE_LABELS[self]


_DONE_LABELS = {
    BulkAction.SUSPEND: "suspended",
    BulkAction.UNSUSPEND: "unsuspended",
    BulkAction.DECOMMISSION: "decommissioned (or scheduled)",
    BulkAction.CANCEL_DECOMMISSION: "cancelled the scheduled decommission of",
    BulkAction.ACTIVATE: "activated (or scheduled)",
}


@dataclass(frozen=True)
class BulkRequest:
    """What every item of the batch is asked: the single endpoint's body, once for all."""

    action: BulkAction
    reason: HoldReason | None = None
    note: str = ""
    on: date | None = None

    def check(self) -> None:
        """The fields each single endpoint takes, and no others (its body forbids unknown fields)."""
        takes = _FIELDS[self.action]
        given = {"reason": self.reason is not None, "note": bool(self.note), "on": self.on is not None}
        for field, present in given.items():
            if present and field not in takes:
                raise ValidationFailed(f"{self.action.value} takes no {field}", field=field)
        if self.action is BulkAction.SUSPEND and self.reason is None:
            raise ValidationFailed("suspend needs a reason", field="reason")


_FIELDS = {
    BulkAction.SUSPEND: {"reason", "note"},
    BulkAction.UNSUSPEND: {"reason"},
    BulkAction.DECOMMISSION: {"on"},
    BulkAction.CANCEL_DECOMMISSION: set(),
    BulkAction.ACTIVATE: {"on"},
}


@dataclass(frozen=True)
class ItemResult:
    """One item's outcome: the account as the change left it, or the refusal."""

    id: str
    view: AccountView | None = None
    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


Change = Callable[[UnitOfWork, Caller, str, BulkRequest, datetime], Account]


def _suspend(uow: UnitOfWork, caller: Caller, account_id: str, req: BulkRequest, now: datetime) -> Account:
    assert req.reason is not None  # BulkRequest.check
    return accounts.suspend(
        uow, caller=caller, account_id=account_id, reason=req.reason, note=req.note, expected_version=None, now=now
    )


def _unsuspend(uow: UnitOfWork, caller: Caller, account_id: str, req: BulkRequest, now: datetime) -> Account:
    return accounts.unsuspend(
        uow, caller=caller, account_id=account_id, reason=req.reason, expected_version=None, now=now
    )


def _decommission(uow: UnitOfWork, caller: Caller, account_id: str, req: BulkRequest, now: datetime) -> Account:
    return accounts.decommission(uow, caller=caller, account_id=account_id, on=req.on, expected_version=None, now=now)


def _cancel(uow: UnitOfWork, caller: Caller, account_id: str, req: BulkRequest, now: datetime) -> Account:
    return accounts.cancel_decommission(uow, caller=caller, account_id=account_id, expected_version=None, now=now)


def _activate(uow: UnitOfWork, caller: Caller, account_id: str, req: BulkRequest, now: datetime) -> Account:
    return accounts.activate(uow, caller=caller, account_id=account_id, on=req.on, expected_version=None, now=now)


CHANGES: dict[BulkAction, Change] = {
    BulkAction.SUSPEND: _suspend,
    BulkAction.UNSUSPEND: _unsuspend,
    BulkAction.DECOMMISSION: _decommission,
    BulkAction.CANCEL_DECOMMISSION: _cancel,
    BulkAction.ACTIVATE: _activate,
}


def run_bulk(
    batch: BatchUnitOfWork, *, caller: Caller, request: BulkRequest, ids: Sequence[str], now: datetime
) -> list[ItemResult]:
    """Apply `request` to each id in order, in one transaction; every item answered, none blocking another."""
    request.check()
    if not 1 <= len(ids) <= MAX_ITEMS:
        raise ValidationFailed(f"ids must hold 1-{MAX_ITEMS:,} account ids", field="ids")
    change = CHANGES[request.action]
    repeated = {account_id for account_id, n in Counter(ids).items() if n > 1}
    with batch:
        batch.accounts.preload(ids, caller)
        outcomes: list[tuple[str, Account | DomainError]] = []
        for account_id in ids:
            try:
                with batch.item() as uow:
                    account = change(uow, caller, account_id, request, now)
            except DomainError as error:
                outcomes.append((account_id, error))
                continue
            # An id given twice: keep this item's state, not the later one's.
            outcomes.append((account_id, copy.deepcopy(account) if account_id in repeated else account))
        changed = [outcome for _, outcome in outcomes if isinstance(outcome, Account)]
        seen = iter(views(batch, changed, now))
        batch.commit()
    return [
        ItemResult(account_id, view=next(seen))
        if isinstance(outcome, Account)
        else ItemResult(account_id, error=outcome)
        for account_id, outcome in outcomes
    ]


def resolve(uow: UnitOfWork, *, caller: Caller, tokens: Sequence[str]) -> dict[str, str]:
    """Account ids for tokens that are ids or billing refs of accounts `caller` sees (CLI input)."""
    with uow.reading():
        return ids_for_tokens(uow.connection, caller, tokens)
