"""API keys, scoped by the one visibility rule (sql.visible_to); only the key's SHA-256 is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from tenure.adapters.db import sql
from tenure.adapters.db.listing import decode_cursor, encode_cursor
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import api_keys as K
from tenure.adapters.db.tables import site
from tenure.domain.access import Caller, Scope
from tenure.domain.errors import NotFound
from tenure.domain.model import Kind, Stage


@dataclass(frozen=True)
class ApiKey:
    id: str
    account_id: str
    name: str
    scopes: frozenset[Scope]
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class KeyHolder:
    """A key in force, with what a request needs to act as it: its account's kind and stage."""

    key: ApiKey
    account_kind: Kind
    account_stage: Stage


class ApiKeyRepository:
    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def add(self, key: ApiKey, *, key_hash: str) -> None:
        values = {**key.__dict__, "scopes": sorted(scope.value for scope in key.scopes)}
        self.conn.execute(insert(K).values(**values, key_hash=key_hash))

    def get(self, key_id: str, *, caller: Caller) -> ApiKey:
        """A key on an account the caller sees, revoked or not; otherwise 404."""
        row = self.conn.execute(select(K).where(K.c.id == key_id, sql.visible_to(caller, K.c.account_id))).first()
        if row is None:
            raise NotFound(f"API key {key_id} not found")
        return _key(row)

    def page(self, caller: Caller, *, limit: int, cursor: str | None) -> tuple[list[ApiKey], str | None]:
        """Keys in force on accounts the caller sees, by id (revoked ones live on in the audit trail)."""
        query = select(K).where(sql.visible_to(caller, K.c.account_id), K.c.revoked_at.is_(None))
        if cursor:
            (after,) = decode_cursor(cursor, 1)
            query = query.where(K.c.id > str(after))
        rows = [_key(r) for r in self.conn.execute(query.order_by(K.c.id).limit(limit + 1))]
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, encode_cursor([rows[-1].id]) if more else None

    def holder(self, key_hash: str) -> KeyHolder | None:
        """The key in force with this hash, and its account's kind and stage: one statement."""
        query = (
            select(K, A.c.kind.label("account_kind"), A.c.stage.label("account_stage"))
            .join(A, A.c.id == K.c.account_id)
            .where(K.c.key_hash == key_hash, K.c.revoked_at.is_(None))
        )
        row = self.conn.execute(query).first()
        if row is None:
            return None
        return KeyHolder(_key(row), Kind(row.account_kind), Stage(row.account_stage))

    def revoke(self, key_id: str, *, by: str, now: datetime) -> None:
        """Revoke, and move the credentials version so every process's cache forgets what it holds."""
        self.conn.execute(update(K).where(K.c.id == key_id).values(revoked_at=now, revoked_by=by))
        bump_credentials_version(self.conn)

    def touch(self, key_id: str, now: datetime) -> None:
        self.conn.execute(update(K).where(K.c.id == key_id).values(last_used_at=now))


def bump_credentials_version(conn: Connection) -> None:
    """Every revocation calls this in its own transaction: caches compare the version on each use."""
    conn.execute(update(site).where(site.c.id == 1).values(credentials_version=site.c.credentials_version + 1))


def _key(row: Row[Any]) -> ApiKey:
    return ApiKey(
        row.id,
        row.account_id,
        row.name,
        frozenset(Scope(scope) for scope in row.scopes),
        row.created_at,
        row.created_by,
        row.last_used_at,
        row.revoked_at,
    )
