"""Short ways to give clients rooms and services in tests (offices, services, billing, entitlements)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import Engine, event, func, select

from tenure.adapters.db.tables import events
from tenure.adapters.phone import E164Numbers
from tenure.domain.access import Caller
from tenure.domain.catalog import Line, LineKind, Office
from tenure.services import lines, offices
from tests.support import Installation


def office(site: Installation, name: str = "2.14", caller: Caller | None = None) -> Office:
    return offices.create_office(
        site.uow(), caller=caller or site.admin, name=name, floor=name.split(".")[0], capacity=4, now=site.now
    )


def assign(site: Installation, account_id: str, office_id: str, caller: Caller | None = None) -> Any:
    return offices.assign_office(
        site.uow(),
        caller=caller or site.admin,
        account_id=account_id,
        office_id=office_id,
        expected_version=None,
        now=site.now,
    )


def add(
    site: Installation,
    account_id: str,
    label: str = "+44 20 7946 0000",
    *,
    kind: LineKind = LineKind.PHONE_NUMBER,
    price: str = "12.00",
    start: date | None = None,
    caller: Caller | None = None,
) -> Line:
    return lines.add_service(
        site.uow(),
        numbers=E164Numbers(),
        caller=caller or site.admin,
        account_id=account_id,
        kind=kind,
        label=label,
        monthly_price=price,
        start_date=start,
        now=site.now,
    )


def remove(site: Installation, account_id: str, service_id: str) -> Line:
    return lines.remove_service(
        site.uow(), caller=site.admin, account_id=account_id, service_id=service_id, now=site.now
    )


def actions(site: Installation, account_id: str) -> list[str]:
    with site.uow().reading() as uow:
        query = select(events.c.action).where(events.c.account_id == account_id).order_by(events.c.id)
        return list(uow.connection.execute(query).scalars())


def event_count(site: Installation) -> int:
    with site.uow().reading() as uow:
        return int(uow.connection.execute(select(func.count()).select_from(events)).scalar_one())


class StatementLog:
    """Every SQL statement an engine runs while recording, transaction control left out."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def statements(engine: Engine) -> Iterator[StatementLog]:
    log = StatementLog()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.strip().split()[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"):
            log.statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", record)
