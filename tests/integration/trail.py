"""What a change left behind in the database: audit events, outbox rows, and whole-database dumps.

A refused change must leave the dump identical; an accepted one adds exactly the rows its rule
names. Comparing dumps needs no knowledge of which table a bug might have touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, insert, select

from tenure.adapters.db.cascades import shared_payload
from tenure.adapters.db.tables import events, metadata, office_assignments, offices, outbox, services
from tenure.domain.ids import new_id

Dump = dict[str, list[tuple[object, ...]]]


def dump(engine: Engine) -> Dump:
    """Every row of every table, in a stable order."""
    found: Dump = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            rows = connection.execute(select(table)).all()
            found[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return found


def added(before: Dump, after: Dump, table: str) -> list[tuple[object, ...]]:
    """Rows of `table` present after but not before."""
    old = set(map(repr, before[table]))
    return [row for row in after[table] if repr(row) not in old]


@dataclass(frozen=True)
class Row:
    kind: str
    topic: str
    account_id: str


def new_events(engine: Engine, since: int = 0) -> list[tuple[str, str]]:
    """(account_id, action) of every event with id > since, oldest first."""
    with engine.connect() as connection:
        query = select(events.c.account_id, events.c.action).where(events.c.id > since).order_by(events.c.id)
        return [(r.account_id, r.action) for r in connection.execute(query)]


def last_event_id(engine: Engine) -> int:
    with engine.connect() as connection:
        return max((int(r.id) for r in connection.execute(select(events.c.id))), default=0)


def last_outbox_id(engine: Engine) -> int:
    with engine.connect() as connection:
        return max((int(r.id) for r in connection.execute(select(outbox.c.id))), default=0)


def new_outbox(engine: Engine, since: int = 0) -> list[Row]:
    with engine.connect() as connection:
        query = select(outbox).where(outbox.c.id > since).order_by(outbox.c.id)
        return [Row(r.kind, r.topic, r.account_id) for r in connection.execute(query)]


def outbox_rows(engine: Engine, since: int = 0) -> list[dict[str, object]]:
    """New outbox rows; a cascade's notice shows the payload it is sent with (its job's shared context)."""
    with engine.connect() as connection:
        query = select(outbox).where(outbox.c.id > since).order_by(outbox.c.id)
        rows = [dict(r._mapping) for r in connection.execute(query)]
        jobs = {int(r.id): r.payload for r in connection.execute(select(outbox).where(outbox.c.kind == "cascade"))}
    for row in rows:
        if row["cascade_id"] is not None and row["kind"] != "cascade":
            row["payload"] = shared_payload(str(row["kind"]), {}, jobs[int(str(row["cascade_id"]))])
    return rows


def give_office(engine: Engine, account_id: str, name: str) -> str:
    """A room held by the account, written straight to the tables."""
    office_id = new_id()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(insert(offices).values(id=office_id, name=name, created_at=at))
        connection.execute(
            insert(office_assignments).values(id=new_id(), office_id=office_id, account_id=account_id, assigned_at=at)
        )
    return office_id


def give_service(engine: Engine, account_id: str, label: str, start: date) -> str:
    service_id = new_id()
    with engine.begin() as connection:
        connection.execute(
            insert(services).values(
                id=service_id,
                account_id=account_id,
                kind="internet",
                label=label,
                monthly_price_cents=2500,
                start_date=start,
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
    return service_id
