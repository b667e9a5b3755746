"""Idempotency keys: a repeated POST returns the first answer without acting again.

Two ways to keep one answer per key:

- `claim` / `store` (most POST routes): a key is claimed (status 0) in its own
  short transaction before the action runs, so two identical requests racing
  cannot both act; the answer is stored once the action has finished.
- `lookup` / `record` (the account change routes): the lookup, the action and
  the stored answer share the action's transaction. The answer is inserted
  only if the key is still free; an identical request that committed first
  wins, and this transaction, change included, is rolled back and answers
  with the winner's answer. PostgreSQL makes the second insert wait for the
  first transaction; SQLite's write lock orders them anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from tenure.adapters.db.tables import idempotency_keys as K

KEEP_FOR = timedelta(hours=24)
PENDING = 0


@dataclass(frozen=True)
class StoredAnswer:
    request_hash: str
    status_code: int
    body: str


_LOOKUP = select(K.c.request_hash, K.c.status_code, K.c.body, K.c.created_at).where(
    K.c.user_id == bindparam("user_id"), K.c.key == bindparam("key")
)
_FORGET = delete(K).where(K.c.user_id == bindparam("user_id"), K.c.key == bindparam("key"))


def _record_statement(dialect: str) -> Any:
    """`INSERT … ON CONFLICT DO NOTHING RETURNING key`: no row when the key is taken (waiting for its
    owner on PostgreSQL). RETURNING, because the driver's rowcount says 1 even when nothing was inserted."""
    keys = [K.c.user_id, K.c.key]
    if dialect == "postgresql":
        return postgresql.insert(K).on_conflict_do_nothing(index_elements=keys).returning(K.c.key)
    return sqlite.insert(K).on_conflict_do_nothing(index_elements=keys).returning(K.c.key)


_RECORD = {name: _record_statement(name) for name in ("postgresql", "sqlite")}


class IdempotencyRepository:
    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def lookup(self, user_id: str, key: str, *, now: datetime) -> StoredAnswer | None:
        """The answer stored under the key; a key older than 24 h is forgotten here and reads as free."""
        row = self.conn.execute(_LOOKUP, {"user_id": user_id, "key": key}).first()
        if row is None:
            return None
        if _aware(row.created_at) <= now - KEEP_FOR:
            self.conn.execute(_FORGET, {"user_id": user_id, "key": key})
            return None
        return StoredAnswer(row.request_hash, row.status_code, row.body)

    def record(self, user_id: str, key: str, request_hash: str, *, status_code: int, body: str, now: datetime) -> bool:
        """Store the answer if the key is free; False when an identical request stored one first."""
        values = {
            "user_id": user_id,
            "key": key,
            "request_hash": request_hash,
            "status_code": status_code,
            "body": body,
            "created_at": now,
        }
        return self.conn.execute(_RECORD[self.conn.dialect.name], values).first() is not None

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


def _aware(at: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were stored in UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
