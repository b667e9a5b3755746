"""Idempotency keys: a repeated POST returns the first answer without acting again.

A key is claimed (status 0) in its own short transaction before the action
runs, so two identical requests racing cannot both act; the answer is stored
once the action has finished, whatever it was.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from tenure.adapters.db.tables import idempotency_keys as K
from tenure.services.read_models import PENDING, StoredAnswer

KEEP_FOR = timedelta(hours=24)


class IdempotencyRepository:
    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def find(self, user_id: str, key: str, *, now: datetime) -> StoredAnswer | None:
        row = self.conn.execute(
            select(K).where(K.c.user_id == user_id, K.c.key == key, K.c.created_at > now - KEEP_FOR)
        ).first()
        return StoredAnswer(row.request_hash, row.status_code, row.body) if row else None

    def claim(self, user_id: str, key: str, request_hash: str, *, now: datetime) -> bool:
        """True when this request now owns the key; False when another one holds it."""
        self.conn.execute(delete(K).where(K.c.user_id == user_id, K.c.key == key, K.c.created_at <= now - KEEP_FOR))
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(K).values(
                        user_id=user_id,
                        key=key,
                        request_hash=request_hash,
                        status_code=PENDING,
                        body="",
                        created_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    def store(self, user_id: str, key: str, *, status_code: int, body: str) -> None:
        self.conn.execute(
            update(K).where(K.c.user_id == user_id, K.c.key == key).values(status_code=status_code, body=body)
        )

    def release(self, user_id: str, key: str) -> None:
        self.conn.execute(delete(K).where(K.c.user_id == user_id, K.c.key == key, K.c.status_code == PENDING))
