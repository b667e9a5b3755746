"""The audit trail: append-only, never updated or deleted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select

from tenure.adapters.db import sql
from tenure.adapters.db.listing import decode_cursor, encode_cursor
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import events as E
from tenure.domain.access import Caller
from tenure.domain.errors import ValidationFailed
from tenure.domain.events import Event
from tenure.services.read_models import AuditEntry

_APPEND = insert(E)  # built once: every change appends


class AuditRepository:
    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def append(self, event: Event, *, actor: str, at: datetime) -> None:
        row = {"account_id": event.account_id, "at": at, "actor": actor, "action": event.action.value}
        self.conn.execute(_APPEND, {**row, "reason": event.reason, "before": event.before, "after": event.after})

    def page(
        self, caller: Caller, *, account_id: str | None, limit: int, cursor: str | None
    ) -> tuple[list[AuditEntry], str | None]:
        """Newest first, for one account or for everything the caller may see."""
        query = (
            select(E, A.c.name.label("account_name"))
            .join(A, A.c.id == E.c.account_id)
            .where(sql.visible_to(caller, E.c.account_id))
        )
        if account_id is not None:
            query = query.where(E.c.account_id == account_id)
        if cursor:
            (last_id,) = decode_cursor(cursor, 1)
            if not isinstance(last_id, int) or isinstance(last_id, bool) or not 0 < last_id < 2**62:
                raise ValidationFailed("cursor is not valid", field="cursor")
            query = query.where(E.c.id < last_id)
        rows = list(self.conn.execute(query.order_by(E.c.id.desc()).limit(limit + 1)))
        entries = [
            AuditEntry(str(r.id), r.account_id, r.account_name, r.at, r.actor, r.action, r.reason, r.before, r.after)
            for r in rows[:limit]
        ]
        next_cursor = encode_cursor([int(rows[limit - 1].id)]) if len(rows) > limit else None
        return entries, next_cursor
