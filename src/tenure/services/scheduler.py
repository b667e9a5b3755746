"""Scheduled changes are data; this pass applies the due ones through the same use cases.

Workers claim due rows BATCH at a time (`uow.due`: `FOR UPDATE SKIP LOCKED
LIMIT BATCH` on PostgreSQL in `adapters/db/scheduled.py`; SQLite runs one
worker at a time), walking the due set in id order, so several workers split
the work instead of queueing on the same rows. A batch is one transaction (a
`BatchUnitOfWork`, `uow.new_batch()`; adapters/db/batch.py): its accounts are
claimed and loaded by one query, their holds and rooms by a few more; each change runs through its use case on the
locked row (the pure lifecycle rule decides), and the writes of the whole batch
go out as one statement per table at the end, before one commit. So running the pass twice, two
workers at once, or a worker killed mid-batch, apply every change exactly
once, and a refusal undoes only its own change.
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
from tenure.services.unit_of_work import BatchUnitOfWork, UnitOfWork

log = structlog.get_logger()
BATCH = 200  # due changes claimed, applied and committed together


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
        lambda uow, after: uow.due.activations(day, after=after, limit=BATCH),
        result,
        result.activated,
        lambda uow, a: _activate(uow, a, now),
    )
    # Clients before channels before resellers, so a partner's children have gone first.
    for kind in (Kind.CLIENT, Kind.CHANNEL, Kind.RESELLER):
        _drain(
            new_uow,
            lambda uow, after: uow.due.decommissions(day, kind, after=after, limit=BATCH),  # noqa: B023 (_drain runs now)
            result,
            result.decommissioned,
            lambda uow, a: _decommission(uow, a, day, now),
        )
    return result


def _drain(
    new_uow: Callable[[], UnitOfWork],
    claim: Callable[[UnitOfWork, str], list[str]],
    result: PassResult,
    applied: list[str],
    change: Callable[[UnitOfWork, str], bool],
) -> None:
    """Claim up to BATCH due rows after the last one seen, apply each, write and commit once; until none is left.

    Rows another worker holds are skipped (SKIP LOCKED: they are being applied
    there). The batch's accounts are claimed and loaded by one query, their
    holds and rooms by a few more; each
    change runs through its use case as an item of a `BatchUnitOfWork`, whose
    writes (accounts, events, outbox rows, service endings, room releases,
    session cuts) are gathered and written set-based at the end. One the rules
    refuse is undone alone, recorded, and stays due for the next pass. A worker
    killed mid-batch commits none of it, and the next pass applies the whole
    batch (each change re-checks its row under the lock).
    """
    after = ""
    while True:
        with new_uow().new_batch() as batch:
            claimed = claim(batch, after)
            if not claimed:
                return
            after = claimed[-1]
            batch.offices.preload_held(claimed)
            done = [account_id for account_id in claimed if _apply(batch, account_id, change, result)]
            batch.commit()
        applied.extend(done)


def _apply(
    batch: BatchUnitOfWork, account_id: str, change: Callable[[UnitOfWork, str], bool], result: PassResult
) -> bool:
    """One change as an item of the batch: True when applied, False when not due any more or refused."""
    try:
        with batch.item() as uow:
            applied = change(uow, account_id)
            uow.commit()
            return applied
    except DomainError as error:
        result.refused[account_id] = error.detail
        log.warning("scheduled change refused", account_id=account_id, code=error.code, detail=error.detail)
        return False


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
