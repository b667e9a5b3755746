"""Office assignments as the lifecycle touches them: released on conversion and decommissioning."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Connection, select, update

from tenure.adapters.db.tables import office_assignments as OA
from tenure.adapters.db.tables import offices as OF
from tenure.adapters.db.tables import services as S


class OfficeRepository:
    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def held_by(self, account_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """(office id, name) held now by each account, in one query."""
        found: dict[str, list[tuple[str, str]]] = {}
        if not account_ids:
            return found
        query = (
            select(OA.c.account_id, OF.c.id, OF.c.name)
            .join(OF, OF.c.id == OA.c.office_id)
            .where(OA.c.account_id.in_(account_ids), OA.c.released_at.is_(None))
            .order_by(OF.c.name)
        )
        for row in self.conn.execute(query):
            found.setdefault(row.account_id, []).append((row.id, row.name))
        return found

    def release_all(self, account_id: str, *, now: datetime) -> list[tuple[str, str]]:
        held = self.held_by([account_id]).get(account_id, [])
        self.conn.execute(
            update(OA).where(OA.c.account_id == account_id, OA.c.released_at.is_(None)).values(released_at=now)
        )
        return held


class ServiceEnding:
    """Ends every service of an account on a day (decommissioning)."""

    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def end_all(self, account_id: str, *, on: date) -> int:
        result = self.conn.execute(
            update(S).where(S.c.account_id == account_id, S.c.end_date.is_(None)).values(end_date=on)
        )
        return int(result.rowcount)
