"""The worker's side of the outbox: claiming due notices in small batches and recording what happened.

On PostgreSQL a batch is claimed with `SELECT … FOR UPDATE SKIP LOCKED` (only
the queue's own rows are locked, never the accounts), so any number of
workers take disjoint batches. The locks live as long as the claiming
transaction; `lease()` bounds that with PostgreSQL's
idle_in_transaction_session_timeout, so a worker that hangs mid-batch loses
its claim and the rows come back, as they do at once when a worker dies.
SQLite has one worker at a time (see adapters/worker_lock.py) and needs no claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, insert, select, update

from tenure.adapters.db.tables import account_ancestors as AA
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import outbox as O
from tenure.adapters.db.tables import webhook_deliveries as D
from tenure.adapters.db.tables import webhooks as W

JOB = O.alias("job")  # a notice's cascade job, whose payload holds the context the notice shares


@dataclass(frozen=True)
class Change:
    """The new state of one claimed row after an attempt."""

    id: int
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    done_at: datetime | None


@dataclass(frozen=True)
class Subscription:
    webhook_id: str
    account_id: str  # the account below (or at) the subscription's account the event is about
    events: Sequence[str]
    created_at: datetime


class DeliveryQueue:
    def __init__(self, connection: Connection) -> None:
        self.conn = connection
        self.postgres = connection.dialect.name == "postgresql"

    def lease(self, seconds: int) -> None:
        """PostgreSQL ends a session idle in its claiming transaction this long, releasing its rows."""
        if self.postgres:
            self.conn.exec_driver_sql(f"SET LOCAL idle_in_transaction_session_timeout = '{int(seconds)}s'")

    def claim(self, query: Select[Any], table: Any) -> list[Any]:
        """Rows of `query`, locked in `table` and skipped by other workers (PostgreSQL)."""
        return self._claim(query, table)

    def _claim(self, query: Select[Any], table: Any) -> list[Any]:
        if self.postgres:
            query = query.with_for_update(skip_locked=True, of=table)
        return list(self.conn.execute(query))

    # -- emails ----------------------------------------------------------
    def due_emails(self, now: datetime, limit: int) -> list[Any]:
        """Due email rows with the account as it is now (its current name goes in the subject)."""
        query = (
            select(
                O.c.id,
                O.c.topic,
                O.c.account_id,
                O.c.recipient,
                O.c.payload,
                O.c.created_at,
                O.c.attempts,
                A.c.name,
                A.c.kind,
                A.c.billing_ref,
                A.c.contact_name,
                JOB.c.payload.label("shared"),
            )
            .join(A, A.c.id == O.c.account_id)
            .outerjoin(JOB, JOB.c.id == O.c.cascade_id)
            .where(O.c.status == "pending", O.c.kind == "email", O.c.next_attempt_at <= now)
            .order_by(O.c.next_attempt_at, O.c.id)
            .limit(limit)
        )
        return self._claim(query, O)

    def record_emails(self, changes: Sequence[Change]) -> None:
        self._record(O, changes, done_column="sent_at")

    def record_notices(self, changes: Sequence[Change]) -> None:
        """The outcome of outbox notices sent directly (RADIUS disconnects)."""
        self._record(O, changes, done_column="sent_at")

    # -- webhooks: one delivery per subscribed endpoint --------------------
    def due_webhook_events(self, now: datetime, limit: int) -> list[Any]:
        query = (
            select(O.c.id, O.c.topic, O.c.account_id, O.c.created_at, O.c.cascade_id)
            .where(O.c.status == "pending", O.c.kind == "webhook", O.c.next_attempt_at <= now)
            .order_by(O.c.next_attempt_at, O.c.id)
            .limit(limit)
        )
        return self._claim(query, O)

    def subscriptions_for(self, account_ids: Sequence[str]) -> list[Subscription]:
        """Endpoints subscribed on each account or any of its ancestors: a subscription sees its subtree."""
        if not account_ids:
            return []
        query = (
            select(AA.c.account_id, W.c.id, W.c.events, W.c.created_at)
            .join(W, W.c.account_id == AA.c.ancestor_id)
            .where(AA.c.account_id.in_(sorted(set(account_ids))))
        )
        return [Subscription(r.id, r.account_id, list(r.events or []), r.created_at) for r in self.conn.execute(query)]

    def add_deliveries(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(D), list(rows))

    def mark_dispatched(self, outbox_ids: Sequence[int], now: datetime) -> None:
        if outbox_ids:
            self.conn.execute(update(O).where(O.c.id.in_(list(outbox_ids))).values(status="dispatched", sent_at=now))

    def due_deliveries(self, now: datetime, limit: int) -> list[Any]:
        query = (
            select(
                D.c.id,
                D.c.webhook_id,
                D.c.message_id,
                D.c.attempts,
                D.c.created_at,
                W.c.url,
                W.c.secret,
                W.c.public_only,
                O.c.topic,
                O.c.account_id,
                O.c.payload,
                O.c.created_at.label("occurred_at"),
                JOB.c.payload.label("shared"),
            )
            .join(W, W.c.id == D.c.webhook_id)
            .join(O, O.c.id == D.c.outbox_id)
            .outerjoin(JOB, JOB.c.id == O.c.cascade_id)
            .where(D.c.status == "pending", D.c.next_attempt_at <= now)
            .order_by(D.c.next_attempt_at, D.c.id)
            .limit(limit)
        )
        return self._claim(query, D)

    def record_deliveries(self, changes: Sequence[Change]) -> None:
        self._record(D, changes, done_column="delivered_at")

    def _record(self, table: Any, changes: Sequence[Change], *, done_column: str) -> None:
        if not changes:
            return
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                {
                    "status": bindparam("b_status"),
                    "attempts": bindparam("b_attempts"),
                    "next_attempt_at": bindparam("b_next", type_=table.c.next_attempt_at.type),
                    "last_error": bindparam("b_error"),
                    done_column: bindparam("b_done", type_=table.c[done_column].type),
                }
            )
        )
        self.conn.execute(
            statement,
            [
                {
                    "b_id": c.id,
                    "b_status": c.status,
                    "b_attempts": c.attempts,
                    "b_next": c.next_attempt_at,
                    "b_error": c.last_error[:2000] if c.last_error else None,
                    "b_done": c.done_at,
                }
                for c in changes
            ],
        )

    # -- what the metrics show -----------------------------------------------
    def backlog(self) -> dict[str, tuple[int, datetime | None]]:
        """Per queue: how many notices wait, and since when the oldest (both from the partial 'due' indexes)."""
        queues = {
            "email": (O, O.c.kind == "email"),
            "webhook_event": (O, O.c.kind == "webhook"),
            "webhook_delivery": (D, None),
            "radius_disconnect": (O, O.c.kind == "radius"),
            "cascade": (O, O.c.kind == "cascade"),  # partners' cascades not yet expanded
        }
        found: dict[str, tuple[int, datetime | None]] = {}
        for name, (table, where) in queues.items():
            query = select(func.count(), func.min(table.c.created_at)).where(table.c.status == "pending")
            if where is not None:
                query = query.where(where)
            count, oldest = self.conn.execute(query).one()
            found[name] = (int(count), oldest)
        return found
