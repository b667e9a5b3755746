"""Scheduled changes are data; this pass applies the due ones through the same use cases.

Each change runs in its own transaction on a locked, re-read row, so running
the pass twice, or two workers at once, applies every change exactly once.
Workers claim due rows one at a time (`uow.due`, `FOR UPDATE SKIP LOCKED` on
PostgreSQL in `adapters/db/scheduled.py`), walking the due set in id order, so
several workers split the work instead of queueing on the same row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import structlog

from tenure.domain.access import SYSTEM_ACTOR
from tenure.domain.errors import DomainError
from tenure.domain.model import Kind
from tenure.domain.schedule import ACTIVATION_DUE, DECOMMISSION_DUE
from tenure.services.accounts import activate_due, decommission_in
from tenure.services.common import today
from tenure.services.unit_of_work import UnitOfWork

log = structlog.get_logger()


@dataclass
class PassResult:
    activated: list[str] = field(default_factory=list)
    decommissioned: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


def apply_due_changes(new_uow: Callable[[], UnitOfWork], *, now: datetime) -> PassResult:
    """Activate every scheduled account whose start date has come, then decommission every due one."""
    result = PassResult()
    with new_uow().reading() as uow:
        day = today(uow, now)
    _drain(
        new_uow,
        lambda uow, after: uow.due.next_activation(day, after=after),
        result,
        result.activated,
        lambda uow, a: _activate(uow, a, now),
    )
    # Clients before channels before resellers, so a partner's children have gone first.
    for kind in (Kind.CLIENT, Kind.CHANNEL, Kind.RESELLER):
        _drain(
            new_uow,
            lambda uow, after: uow.due.next_decommission(day, kind, after=after),  # noqa: B023 (_drain runs now)
            result,
            result.decommissioned,
            lambda uow, a: _decommission(uow, a, day, now),
        )
    return result


def _drain(
    new_uow: Callable[[], UnitOfWork],
    claim_next: Callable[[UnitOfWork, str], str | None],
    result: PassResult,
    applied: list[str],
    change: Callable[[UnitOfWork, str], bool],
) -> None:
    """Claim the next due row after the last one seen, apply it, commit; until none is left.

    A row another worker holds is skipped (it is being applied there); one the
    rules refuse stays due and is tried again on the next pass.
    """
    after = ""
    while True:
        try:
            with new_uow() as uow:
                account_id = claim_next(uow, after)
                if account_id is None:
                    return
                after = account_id
                if change(uow, account_id):
                    uow.commit()
                    applied.append(account_id)
        except DomainError as error:
            result.refused[after] = error.detail
            log.warning("scheduled change refused", account_id=after, code=error.code, detail=error.detail)


def _activate(uow: UnitOfWork, account_id: str, now: datetime) -> bool:
    account = uow.accounts.get(account_id, lock=True)
    if not ACTIVATION_DUE.holds(account, today(uow, now)):
        return False  # someone else got there first
    activate_due(uow, account=account, actor=SYSTEM_ACTOR, now=now)
    return True


def _decommission(uow: UnitOfWork, account_id: str, day: date, now: datetime) -> bool:
    account = uow.accounts.get(account_id, lock=True)
    if not DECOMMISSION_DUE.holds(account, day):
        return False
    decommission_in(uow, account, on=None, actor=SYSTEM_ACTOR, now=now)
    return True
