"""RADIUS sessions from accounting, and the `radius.disconnect` notices that cut them.

Accounting is idempotent per (NAS address, Acct-Session-Id): a retransmitted
Start or a duplicate Stop changes nothing, and a Stop without a Start is kept
as a stopped session. When an account loses `internet`, every open session of
it is marked `disconnecting` and gets one notice in the outbox, set-based and
in the change's own transaction: on PostgreSQL in ONE statement (an UPDATE …
RETURNING feeding the INSERT), so a session opened by a concurrent Start is
either marked and queued, or left open — never marked without its notice.
SQLite has one writer at a time, so its two statements see the same rows.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    and_,
    exists,
    func,
    insert,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import JSON

from tenure.adapters.db import sql, status_sql
from tenure.adapters.db.entitlements import radius_service
from tenure.adapters.db.listing import decode_cursor, encode_cursor
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import outbox as O
from tenure.adapters.db.tables import radius_sessions as RS
from tenure.adapters.db.tables import services as S
from tenure.domain.access import Caller
from tenure.domain.errors import ValidationFailed
from tenure.domain.model import Stage, Status
from tenure.domain.radius import DISCONNECT_NOTICE, AcctStatus, SessionState
from tenure.services.read_models import Accounting, SessionView

_NOTICE_COLUMNS = [
    "kind",
    "topic",
    "account_id",
    "recipient",
    "payload",
    "created_at",
    "next_attempt_at",
    "radius_session_id",
    "cascade_id",
]
_OPEN = SessionState.OPEN.value


class RadiusSessions:
    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    # -- accounting ---------------------------------------------------------
    def record(self, request: Accounting, *, holder: tuple[str, str] | None, now: datetime) -> None:
        """Apply one Start / Interim-Update / Stop; `holder` is the (service, account) of its User-Name."""
        row = self._find(request)
        if row is None:
            try:
                with self.conn.begin_nested():
                    self._insert(request, holder, now)
                return
            except IntegrityError:  # the same packet, retransmitted and racing: the other one inserted it
                row = self._find(request)
                assert row is not None
        self._update(row, request, holder, now)

    def _find(self, request: Accounting) -> Row[Any] | None:
        query = select(RS).where(RS.c.nas_ip == request.nas_ip, RS.c.acct_session_id == request.acct_session_id)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return self.conn.execute(query).first()

    def _insert(self, request: Accounting, holder: tuple[str, str] | None, now: datetime) -> None:
        stop = request.status is AcctStatus.STOP
        self.conn.execute(
            insert(RS).values(
                acct_session_id=request.acct_session_id,
                nas_ip=request.nas_ip,
                user_name=request.user_name,
                framed_ip=request.framed_ip,
                service_id=holder[0] if holder else None,
                account_id=holder[1] if holder else None,
                state=SessionState.STOPPED.value if stop else _OPEN,
                started_at=request.at if request.status is AcctStatus.START else None,
                last_update_at=now,
                stopped_at=request.at if stop else None,
            )
        )

    def _update(self, row: Row[Any], request: Accounting, holder: tuple[str, str] | None, now: datetime) -> None:
        values: dict[str, Any] = {}
        if row.account_id is None and holder is not None:
            values.update(service_id=holder[0], account_id=holder[1])
        if request.status is AcctStatus.STOP:
            if row.stopped_at is None:
                values.update(stopped_at=request.at, last_update_at=now)
                if row.state in (_OPEN, SessionState.DISCONNECTING.value):
                    values["state"] = SessionState.STOPPED.value
        elif row.state == _OPEN:
            values["last_update_at"] = now
            if request.framed_ip:
                values["framed_ip"] = request.framed_ip
            if row.started_at is None and request.status is AcctStatus.START:
                values["started_at"] = request.at
        if values:
            self.conn.execute(update(RS).where(RS.c.id == row.id).values(**values))

    # -- cutting sessions -----------------------------------------------------
    def disconnect_accounts(
        self, accounts_where: ColumnElement[bool], reason: str, *, now: datetime, cascade_id: int | None = None
    ) -> None:
        """Queue a disconnect for every open session of the accounts matching `accounts_where` (over `accounts`).

        `cascade_id`: the notices belong to that cascade job, which holds their reason once.
        """
        self._disconnect(RS.c.account_id.in_(select(A.c.id).where(accounts_where)), reason, now, cascade_id)

    def online(self, account_ids: Sequence[str]) -> set[str]:
        """Which of `account_ids` have an open session: one read, so a batch cuts only where there is any."""
        return set(self.conn.execute(_online(self.conn.dialect.name), {"ids": list(account_ids)}).scalars())

    def disconnect_states(self, states: Collection[tuple[Stage, Status]], reason: str, *, now: datetime) -> None:
        """Cut the sessions of every account in any of `states` (stage, derived status): a policy change."""
        if states:
            self.disconnect_accounts(status_sql.in_states(states), reason, now=now)

    def disconnect_account(self, account_id: str, reason: str, *, now: datetime) -> None:
        self._disconnect(RS.c.account_id == account_id, reason, now)

    def disconnect_service(self, service_id: str, reason: str, *, now: datetime) -> None:
        self._disconnect(RS.c.service_id == service_id, reason, now)

    def _disconnect(
        self, where: ColumnElement[bool], reason: str, now: datetime, cascade_id: int | None = None
    ) -> None:
        chosen = and_(RS.c.state == _OPEN, RS.c.account_id.is_not(None), where)
        if not self.conn.execute(select(exists().where(chosen))).scalar():
            return  # the usual case: nobody is online; a read, so a bulk item needs no savepoint for it
        mark = update(RS).where(chosen).values(state=SessionState.DISCONNECTING.value)
        if self.conn.dialect.name == "postgresql":
            marked = mark.returning(RS.c.id, RS.c.account_id).cte("marked")
            rows = select(*_notice(marked.c.account_id, marked.c.id, reason, now, cascade_id))
            self.conn.execute(insert(O).from_select(_NOTICE_COLUMNS, rows))
            return
        rows = select(*_notice(RS.c.account_id, RS.c.id, reason, now, cascade_id)).where(chosen)
        self.conn.execute(insert(O).from_select(_NOTICE_COLUMNS, rows))
        self.conn.execute(mark)

    # -- reading ----------------------------------------------------------------
    def page(
        self, caller: Caller, *, states: Sequence[str], limit: int, cursor: str | None
    ) -> tuple[list[SessionView], str | None]:
        """Sessions of accounts the caller sees, newest first; sessions of no known service only to the operator."""
        query = select(RS).where(sql.visible_to(caller, RS.c.account_id))
        if states:
            query = query.where(RS.c.state.in_(list(states)))
        if cursor:
            (last_id,) = decode_cursor(cursor, 1)
            if not isinstance(last_id, int) or isinstance(last_id, bool):
                raise ValidationFailed("cursor is not valid", field="cursor")
            query = query.where(RS.c.id < last_id)
        rows = list(self.conn.execute(query.order_by(RS.c.id.desc()).limit(limit + 1)))
        next_cursor = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
        return [_view(row) for row in rows[:limit]], next_cursor

    def network_holder(self, caller: Caller, user_name: str) -> tuple[str, str] | None:
        """The (service, account) whose internet or Wi-Fi service holds `user_name`, if the caller sees it."""
        return network_holder(self.conn, caller, user_name)

    def counts_by_state(self) -> dict[str, int]:
        query = select(RS.c.state, func.count()).group_by(RS.c.state)
        return {state: int(count) for state, count in self.conn.execute(query)}


def _notice(account_id: Any, session_id: Any, reason: str, now: datetime, cascade_id: int | None) -> list[Any]:
    """The columns of one `radius.disconnect` outbox row, in `_NOTICE_COLUMNS` order."""
    return [
        literal("radius"),
        literal(DISCONNECT_NOTICE),
        account_id,
        literal(None, O.c.recipient.type),
        type_coerce(literal({"reason": reason} if cascade_id is None else {}, JSON), JSON),
        literal(now, O.c.created_at.type),
        literal(now, O.c.next_attempt_at.type),
        session_id,
        literal(cascade_id, O.c.cascade_id.type),
    ]


def network_holder(conn: Connection, caller: Caller, user_name: str) -> tuple[str, str] | None:
    """The (service, account) whose internet or Wi-Fi service holds `user_name`, if the caller sees it."""
    query = select(S.c.id, S.c.account_id).where(S.c.id == radius_service(caller))
    found = conn.execute(query, {"network_id": user_name}).first()
    return (found.id, found.account_id) if found is not None else None


def _view(row: Row[Any]) -> SessionView:
    return SessionView(
        id=int(row.id),
        acct_session_id=row.acct_session_id,
        user_name=row.user_name,
        nas_ip=row.nas_ip,
        framed_ip=row.framed_ip,
        service_id=row.service_id,
        account_id=row.account_id,
        state=row.state,
        started_at=row.started_at,
        last_update_at=row.last_update_at,
        stopped_at=row.stopped_at,
        disconnect_error=row.disconnect_error,
    )


@functools.cache
def _online(dialect: str) -> Select[Any]:
    """Which of the accounts `ids` have an open session: built once, every suspension asks it."""
    return select(RS.c.account_id).where(RS.c.state == _OPEN, sql.among(dialect, RS.c.account_id, "ids")).distinct()
