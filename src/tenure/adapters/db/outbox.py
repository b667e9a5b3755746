"""The outbox: notifications written in the same transaction as the change.

Emails and webhooks leave only from here, after commit, so a change and its
notifications are never separated. A cascade (a channel suspended) queues one
job here that the worker expands after the commit (adapters/db/cascades.py).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, insert, literal, select, type_coerce
from sqlalchemy.types import JSON

from tenure.adapters.db import status_sql
from tenure.adapters.db.tables import account_ancestors as AA
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import outbox as O
from tenure.domain.model import Stage, Status
from tenure.domain.notifications import ENTITLEMENTS_CHANGED

_COLUMNS = ["kind", "topic", "account_id", "recipient", "payload", "created_at", "next_attempt_at"]


_ADD = insert(O)  # built once: every change queues its notices


class OutboxRepository:
    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def webhook(self, topic: str, account_id: str, data: dict[str, Any], *, now: datetime) -> None:
        self._add("webhook", topic, account_id, None, {"account_id": account_id, **data}, now)

    def email(self, template: str, account_id: str, recipient: str, context: dict[str, Any], *, now: datetime) -> None:
        if recipient:
            self._add("email", template, account_id, recipient, context, now)

    def _add(
        self, kind: str, topic: str, account_id: str, recipient: str | None, payload: dict[str, Any], now: datetime
    ) -> None:
        row = {"kind": kind, "topic": topic, "account_id": account_id, "recipient": recipient, "payload": payload}
        self.conn.execute(_ADD, {**row, "created_at": now, "next_attempt_at": now})

    def entitlements_changed_for_states(
        self, states: Collection[tuple[Stage, Status]], data: dict[str, Any], *, now: datetime
    ) -> None:
        """One `entitlements.changed` per account in any of `states` (stage, derived status): set-based."""
        if states:
            self.entitlements_changed(status_sql.in_states(states), data, now=now)

    def entitlements_changed(self, where: Any, data: dict[str, Any], *, now: datetime) -> None:
        """Queue `entitlements.changed` for every account matching `where`, in one INSERT … SELECT."""
        rows = select(
            literal("webhook"),
            literal(ENTITLEMENTS_CHANGED),
            A.c.id,
            literal(None, O.c.recipient.type),
            type_coerce(literal(data, JSON), JSON),
            literal(now, O.c.created_at.type),
            literal(now, O.c.next_attempt_at.type),
        ).where(where)
        self.conn.execute(insert(O).from_select(_COLUMNS, rows))


def flipped(
    root: str, ignore_hold: str | None, as_of: datetime | None = None, ids: tuple[str, str | None] | None = None
) -> ColumnElement[bool]:
    """Accounts at or below `root`, not decommissioned, with no hold in force but `ignore_hold`.

    `as_of` None: holds in force now (in the change's own transaction). An
    instant: holds as they were then, and only accounts that existed then (a
    cascade expanded after its commit, adapters/db/cascades.py). `ids`: only
    account ids after the first and up to the second (None: no end), a range
    walked on the closure index below `root`, so a batch reads only its own accounts.
    """
    closure = [AA.c.ancestor_id == root]
    if ids is not None:
        closure.append(AA.c.account_id > ids[0])
        if ids[1] is not None:
            closure.append(AA.c.account_id <= ids[1])
    below = A.c.id.in_(select(AA.c.account_id).where(*closure))
    existed = [A.c.created_at <= as_of] if as_of is not None else []
    ignoring = literal(ignore_hold) if ignore_hold else None
    return and_(below, status_sql.unsuspended_by_lifting(ignoring, as_of), *existed)
