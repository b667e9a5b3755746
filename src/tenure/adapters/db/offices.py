"""Offices (rooms) and who holds them.

One undecommissioned holder per room is the partial unique index
`uq_office_held` (office_id WHERE released_at IS NULL): two clients racing for
a room both pass any Python check, and the database lets exactly one insert
through; the other becomes `office-taken`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from tenure.adapters.db import sql
from tenure.adapters.db.listing import decode_cursor, encode_cursor
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import office_assignments as OA
from tenure.adapters.db.tables import offices as OF
from tenure.domain.access import Caller
from tenure.domain.catalog import Office
from tenure.domain.errors import NotFound, OfficeTaken, ValidationFailed
from tenure.domain.ids import new_id
from tenure.services.read_models import OfficeListing


class OfficeRepository:
    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def add(self, office: Office, *, now: datetime) -> None:
        values = {"id": office.id, "name": office.name, "floor": office.floor, "capacity": office.capacity}
        try:
            self.conn.execute(insert(OF).values(**values, created_at=now))
        except IntegrityError as error:
            raise ValidationFailed(f"there is already an office named {office.name}", field="name") from error

    def update(self, office: Office) -> bool:
        """Write a room's name, floor and capacity; False when there is no such room."""
        values = {"name": office.name, "floor": office.floor, "capacity": office.capacity}
        try:
            result = self.conn.execute(update(OF).where(OF.c.id == office.id).values(**values))
        except IntegrityError as error:
            raise ValidationFailed(f"there is already an office named {office.name}", field="name") from error
        return bool(result.rowcount)

    def get(self, office_id: str, *, lock: bool = False) -> Office:
        query = select(OF).where(OF.c.id == office_id)
        row = self.conn.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise NotFound(f"office {office_id} not found")
        return Office(row.id, row.name, row.floor, row.capacity)

    def holder(self, office_id: str) -> str | None:
        """The account holding the room now, if any (for a clear answer; the index still decides)."""
        query = select(OA.c.account_id).where(OA.c.office_id == office_id, OA.c.released_at.is_(None))
        return self.conn.execute(query).scalar_one_or_none()

    def assign(self, office_id: str, account_id: str, *, now: datetime) -> None:
        statement = insert(OA).values(id=new_id(), office_id=office_id, account_id=account_id, assigned_at=now)
        try:
            self.conn.execute(statement)
        except IntegrityError as error:
            raise OfficeTaken("the office is held by another client") from error

    def release(self, office_id: str, account_id: str, *, now: datetime) -> bool:
        result = self.conn.execute(
            update(OA)
            .where(OA.c.office_id == office_id, OA.c.account_id == account_id, OA.c.released_at.is_(None))
            .values(released_at=now)
        )
        return bool(result.rowcount)

    def page(
        self, caller: Caller, *, free: bool | None, limit: int, cursor: str | None, q: str | None = None
    ) -> tuple[list[OfficeListing], str | None]:
        """Rooms by name; `free=True` only unheld ones, `free=False` only held ones; `q` in the name, any case."""
        held = OA.alias("held")
        holder = A.alias("holder")
        query: Any = (
            select(OF, held.c.account_id, holder.c.id.label("holder_id"), holder.c.name.label("holder_name"))
            .outerjoin(held, and_(held.c.office_id == OF.c.id, held.c.released_at.is_(None)))
            .outerjoin(holder, and_(holder.c.id == held.c.account_id, sql.visible_to(caller, holder.c.id)))
        )
        if free is True:
            query = query.where(held.c.account_id.is_(None))
        elif free is False:
            query = query.where(held.c.account_id.is_not(None))
        if q:
            needle = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")  # LIKE wildcards taken literally
            query = query.where(OF.c.name.ilike(f"%{needle}%", escape="\\"))
        if cursor:
            name, last_id = decode_cursor(cursor, 2)
            query = query.where(tuple_(OF.c.name, OF.c.id) > tuple_(str(name), str(last_id)))
        rows = list(self.conn.execute(query.order_by(OF.c.name, OF.c.id).limit(limit + 1)))
        items = [
            OfficeListing(
                Office(r.id, r.name, r.floor, r.capacity),
                r.account_id is None,
                (r.holder_id, r.holder_name) if r.holder_id else None,
            )
            for r in rows[:limit]
        ]
        next_cursor = encode_cursor([rows[limit - 1].name, rows[limit - 1].id]) if len(rows) > limit else None
        return items, next_cursor

    def held_by(self, account_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """(office id, name) held now by each account, in one query."""
        found: dict[str, list[tuple[str, str]]] = {}
        if not account_ids:
            return found
        for row in self.conn.execute(_held_by(self.conn.dialect.name), {"ids": list(account_ids)}):
            found.setdefault(row.account_id, []).append((row.id, row.name))
        return found

    def release_all(self, account_id: str, *, now: datetime) -> list[tuple[str, str]]:
        held = self.held_by([account_id]).get(account_id, [])
        self.conn.execute(RELEASE_ALL, {"b_accounts": [account_id], "b_at": now})
        return held


@functools.cache
def _held_by(dialect: str) -> Select[Any]:
    """Offices held now by the accounts `ids`: built once, every account answer reads it."""
    return (
        select(OA.c.account_id, OF.c.id, OF.c.name)
        .join(OF, OF.c.id == OA.c.office_id)
        .where(sql.among(dialect, OA.c.account_id, "ids"), OA.c.released_at.is_(None))
        .order_by(OF.c.name)
    )


RELEASE_ALL = (
    update(OA)
    .where(OA.c.account_id.in_(bindparam("b_accounts", expanding=True)), OA.c.released_at.is_(None))
    .values(released_at=bindparam("b_at"))
)
