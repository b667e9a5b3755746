"""Users, API tokens and failed sign-ins (the throttle shared by API and console)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from tenure.adapters.db import sql, status_sql
from tenure.adapters.db.api_keys import bump_credentials_version
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import api_tokens as T
from tenure.adapters.db.tables import login_failures as F
from tenure.adapters.db.tables import site as S
from tenure.adapters.db.tables import users as U
from tenure.domain.access import Caller, Role
from tenure.domain.errors import NotFound, ValidationFailed
from tenure.domain.model import Kind, Stage, Status
from tenure.services.read_models import TokenHolder, User

_USER = select(U, A.c.kind.label("account_kind"), A.c.is_management.label("account_is_management")).join(
    A, A.c.id == U.c.account_id
)
# Asked on every authenticated request: built once, the token's hash and `now` bound at each call.
_HOLDER_OF_TOKEN = (
    _USER.add_columns(
        T.c.id.label("token_id"),
        T.c.expires_at,
        A.c.name.label("account_name"),
        A.c.stage.label("account_stage"),
        status_sql.status().label("account_status"),
        select(S.c.version).where(S.c.id == 1).scalar_subquery().label("site_version"),
        select(S.c.operator_id).where(S.c.id == 1).scalar_subquery().label("site_operator"),
    )
    .join(T, T.c.user_id == U.c.id)
    .where(
        T.c.token_hash == bindparam("token_hash"),
        T.c.revoked_at.is_(None),
        T.c.expires_at > bindparam("now", type_=T.c.expires_at.type),
    )
)


SiteVersion = tuple[int, str | None]


class UserRepository:
    def __init__(self, connection: Connection, *, saw_site: Callable[[SiteVersion], None] | None = None) -> None:
        """`saw_site`: told the site's version the token check read with the token (the unit of work's
        settings then need no statement of their own, `SiteCache.current`)."""
        self.conn = connection
        self._saw_site = saw_site

    def _select(self) -> Any:
        return select(U, A.c.kind.label("account_kind"), A.c.is_management.label("account_is_management")).join(
            A, A.c.id == U.c.account_id
        )

    def by_email(self, email: str) -> User | None:
        row = self.conn.execute(self._select().where(U.c.email == email.lower())).first()
        return _user(row) if row else None

    def by_id(self, user_id: str) -> User | None:
        row = self.conn.execute(self._select().where(U.c.id == user_id)).first()
        return _user(row) if row else None

    def get(self, user_id: str, *, caller: Caller | None = None) -> User:
        query = self._select().where(U.c.id == user_id)
        if caller is not None:
            query = query.where(sql.visible_to(caller, U.c.account_id))
        row = self.conn.execute(query).first()
        if row is None:
            raise NotFound(f"user {user_id} not found")
        return _user(row)

    def list(self, caller: Caller, *, account_id: str | None, limit: int, after: str | None) -> list[User]:
        query = self._select().where(sql.visible_to(caller, U.c.account_id))
        if account_id is not None:
            query = query.where(U.c.account_id == account_id)
        if after is not None:
            query = query.where(U.c.id > after)
        return [_user(r) for r in self.conn.execute(query.order_by(U.c.id).limit(limit + 1))]

    def add(self, *, user_id: str, email: str, password_hash: str, account_id: str, role: Role, now: datetime) -> None:
        try:
            self.conn.execute(
                insert(U).values(
                    id=user_id,
                    email=email.lower(),
                    password_hash=password_hash,
                    account_id=account_id,
                    role=role.value,
                    created_at=now,
                )
            )
        except IntegrityError as error:
            raise ValidationFailed(f"a user with email {email} already exists", field="email") from error

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self.conn.execute(update(U).where(U.c.id == user_id).values(password_hash=password_hash))

    def replace_password_hash(self, user_id: str, *, old_hash: str, new_hash: str) -> bool:
        """Set a new hash only if the old one is still there, and end the user's sessions.

        One conditional UPDATE, so of two uses of one set-password link at the
        same moment exactly one finds the old hash: the link is single-use.
        """
        result = self.conn.execute(
            update(U)
            .where(U.c.id == user_id, U.c.password_hash == old_hash)
            .values(password_hash=new_hash, session_generation=U.c.session_generation + 1)
        )
        return result.rowcount == 1

    def end_sessions(self, user_id: str) -> None:
        """Move the user's session generation on: every console cookie signed in before stops working."""
        self.conn.execute(update(U).where(U.c.id == user_id).values(session_generation=U.c.session_generation + 1))

    def revoke_tokens_of(self, user_id: str, *, now: datetime) -> None:
        """A new password ends the user's API tokens too; the version tells every process's cache."""
        self.conn.execute(update(T).where(T.c.user_id == user_id, T.c.revoked_at.is_(None)).values(revoked_at=now))
        bump_credentials_version(self.conn)

    def admins_of(self, account_id: str, *, lock: bool) -> tuple[str, ...]:
        """The ids of an account's admins; `lock` holds their rows (PostgreSQL) until the transaction ends,
        so two deletions of the last two admins cannot both see the other one still there."""
        query = select(U.c.id).where(U.c.account_id == account_id, U.c.role == Role.ADMIN.value).order_by(U.c.id)
        if lock:
            query = query.with_for_update()
        return tuple(self.conn.execute(query).scalars())

    def delete(self, user_id: str) -> None:
        self.conn.execute(delete(T).where(T.c.user_id == user_id))
        self.conn.execute(delete(U).where(U.c.id == user_id))
        bump_credentials_version(self.conn)

    # -- tokens ----------------------------------------------------------
    def add_token(self, *, token_id: str, user_id: str, token_hash: str, now: datetime, ttl: timedelta) -> None:
        self.conn.execute(
            insert(T).values(id=token_id, user_id=user_id, token_hash=token_hash, created_at=now, expires_at=now + ttl)
        )

    def by_token(self, token_hash: str, *, now: datetime) -> tuple[User, str] | None:
        """The user of a live token, and the token's id."""
        query = (
            self._select()
            .add_columns(T.c.id.label("token_id"))
            .join(T, T.c.user_id == U.c.id)
            .where(T.c.token_hash == token_hash, T.c.revoked_at.is_(None), T.c.expires_at > now)
        )
        row = self.conn.execute(query).first()
        return (_user(row), row.token_id) if row else None

    def holder_of_token(self, token_hash: str, *, now: datetime) -> TokenHolder | None:
        """`by_token` and the account's stage and derived status, in one statement: every request asks this."""
        row = self.conn.execute(_HOLDER_OF_TOKEN, {"token_hash": token_hash, "now": now}).first()
        if row is None:
            return None
        if self._saw_site is not None and row.site_version is not None:
            self._saw_site((int(row.site_version), row.site_operator))
        stage, status = Stage(row.account_stage), Status(row.account_status)
        return TokenHolder(_user(row), row.token_id, row.account_name, stage, status, row.expires_at)

    def revoke_token(self, token_id: str, *, now: datetime) -> None:
        self.conn.execute(update(T).where(T.c.id == token_id).values(revoked_at=now))
        bump_credentials_version(self.conn)

    # -- throttle --------------------------------------------------------
    def record_failure(self, email: str, *, now: datetime) -> None:
        self.conn.execute(insert(F).values(email=email.lower(), at=now))

    def failures_since(self, email: str, since: datetime) -> int:
        query = select(func.count()).where(F.c.email == email.lower(), F.c.at > since)
        return int(self.conn.execute(query).scalar_one())

    def forget_failures_before(self, before: datetime) -> None:
        self.conn.execute(delete(F).where(F.c.at < before))


def _user(row: Row[Any]) -> User:
    return User(
        row.id,
        row.email,
        row.account_id,
        Role(row.role),
        row.password_hash,
        Kind(row.account_kind),
        bool(row.account_is_management),
        int(row.session_generation),
    )
