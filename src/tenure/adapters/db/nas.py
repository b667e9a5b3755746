"""The NAS registry: RADIUS clients Tenure sends Disconnect-Requests to.

The secret is stored only sealed (adapters/secret_box.py) and leaves this
module only towards the worker's sender; lists and answers never carry it.
A name and an address are each registered once (unique constraints).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, delete, insert, or_, select
from sqlalchemy.exc import IntegrityError

from tenure.adapters.db.listing import decode_cursor, encode_cursor
from tenure.adapters.db.tables import nas as N
from tenure.domain.errors import NasTaken, NotFound
from tenure.services.read_models import NasEntry


class NasRepository:
    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def add(self, entry: NasEntry, *, sealed_secret: str) -> None:
        values = {
            "id": entry.id,
            "name": entry.name,
            "ip": entry.ip,
            "coa_port": entry.coa_port,
            "created_at": entry.created_at,
            "created_by": entry.created_by,
        }
        taken = self.conn.execute(select(N.c.name).where(or_(N.c.name == entry.name, N.c.ip == entry.ip))).first()
        if taken is not None:
            raise NasTaken(f"the NAS {taken.name} already holds the name {entry.name} or the address {entry.ip}")
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(N).values(**values, secret_encrypted=sealed_secret))
        except IntegrityError as error:
            raise NasTaken(f"a NAS with the name {entry.name} or the address {entry.ip} exists") from error

    def find(self, name_or_id: str) -> NasEntry:
        row = self.conn.execute(select(N).where(or_(N.c.id == name_or_id, N.c.name == name_or_id))).first()
        if row is None:
            raise NotFound(f"no NAS {name_or_id}")
        return _entry(row)

    def remove(self, nas_id: str) -> None:
        self.conn.execute(delete(N).where(N.c.id == nas_id))

    def page(self, *, limit: int, cursor: str | None) -> tuple[list[NasEntry], str | None]:
        query = select(N)
        if cursor:
            name, _ = decode_cursor(cursor, 2)
            query = query.where(N.c.name > str(name))
        rows = list(self.conn.execute(query.order_by(N.c.name).limit(limit + 1)))
        next_cursor = encode_cursor([rows[limit - 1].name, rows[limit - 1].id]) if len(rows) > limit else None
        return [_entry(r) for r in rows[:limit]], next_cursor


def _entry(row: Row[Any]) -> NasEntry:
    return NasEntry(row.id, row.name, row.ip, int(row.coa_port), row.created_at, row.created_by)
