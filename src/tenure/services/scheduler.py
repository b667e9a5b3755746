"""Scheduled changes are data; this pass applies the due ones through the same use cases.

Each change runs in its own transaction on a locked, re-read row, so running
the pass twice, or two workers at once, applies every change exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import structlog
from sqlalchemy import case, select

from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import SYSTEM_ACTOR
from tenure.domain.errors import DomainError
from tenure.domain.model import Stage
from tenure.services.accounts import activate_due, decommission_in
from tenure.services.common import today

log = structlog.get_logger()
BATCH = 200


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
    for account_id in _due(new_uow, _due_activations(day)):
        if _apply(new_uow, account_id, result, lambda uow, a: _activate(uow, a, now)):
            result.activated.append(account_id)
    for account_id in _due(new_uow, _due_decommissions(day)):
        if _apply(new_uow, account_id, result, lambda uow, a: _decommission(uow, a, day, now)):
            result.decommissioned.append(account_id)
    return result


def _due_activations(day: date):  # type: ignore[no-untyped-def]
    return select(A.c.id).where(A.c.stage == Stage.SCHEDULED.value, A.c.start_date <= day).order_by(A.c.id)


def _due_decommissions(day: date):  # type: ignore[no-untyped-def]
    # Clients before channels before resellers, so a partner's children have gone first.
    depth_order = case((A.c.kind == "client", 0), (A.c.kind == "channel", 1), else_=2)
    return (
        select(A.c.id)
        .where(A.c.decommission_on <= day, A.c.stage != Stage.DECOMMISSIONED.value)
        .order_by(depth_order, A.c.id)
    )


def _due(new_uow: Callable[[], UnitOfWork], query) -> list[str]:  # type: ignore[no-untyped-def]
    with new_uow().reading() as uow:
        return [row.id for row in uow.connection.execute(query)]


def _apply(new_uow: Callable[[], UnitOfWork], account_id: str, result: PassResult, change) -> bool:  # type: ignore[no-untyped-def]
    try:
        with new_uow() as uow:
            applied = change(uow, account_id)
            if applied:
                uow.commit()
            return bool(applied)
    except DomainError as error:
        result.refused[account_id] = error.detail
        log.warning("scheduled change refused", account_id=account_id, code=error.code, detail=error.detail)
        return False


def _activate(uow: UnitOfWork, account_id: str, now: datetime) -> bool:
    account = uow.accounts.get(account_id, lock=True)
    if account.stage is not Stage.SCHEDULED or account.start_date is None or account.start_date > today(uow, now):
        return False  # someone else got there first
    activate_due(uow, account=account, actor=SYSTEM_ACTOR, now=now)
    return True


def _decommission(uow: UnitOfWork, account_id: str, day: date, now: datetime) -> bool:
    account = uow.accounts.get(account_id, lock=True)
    if account.stage is Stage.DECOMMISSIONED or account.decommission_on is None or account.decommission_on > day:
        return False
    decommission_in(uow, account, on=None, actor=SYSTEM_ACTOR, now=now)
    return True
