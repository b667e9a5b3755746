"""Webhook subscriptions and their deliveries, scoped by the one visibility rule (sql.visible_to).

A subscription belongs to an account; the caller sees those on accounts it
sees, so a partner admin manages its own tree's endpoints and never learns
another tenant's exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from tenure.adapters.db import sql
from tenure.adapters.db.listing import decode_cursor, encode_cursor
from tenure.adapters.db.tables import outbox as O
from tenure.adapters.db.tables import webhook_deliveries as D
from tenure.adapters.db.tables import webhooks as W
from tenure.domain.access import Caller
from tenure.domain.errors import NotFound, ValidationFailed
from tenure.services.read_models import DeliveryRecord, WebhookSubscription


class WebhookRepository:
    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def add(self, subscription: WebhookSubscription) -> None:
        self.conn.execute(insert(W).values(**subscription.__dict__))

    def get(self, webhook_id: str, *, caller: Caller) -> WebhookSubscription:
        row = self.conn.execute(select(W).where(W.c.id == webhook_id, sql.visible_to(caller, W.c.account_id))).first()
        if row is None:
            raise NotFound(f"webhook {webhook_id} not found")
        return _subscription(row)

    def page(self, caller: Caller, *, limit: int, cursor: str | None) -> tuple[list[WebhookSubscription], str | None]:
        query = select(W).where(sql.visible_to(caller, W.c.account_id)).order_by(W.c.id).limit(limit + 1)
        if cursor:
            (after,) = decode_cursor(cursor, 1)
            query = query.where(W.c.id > str(after))
        rows = [_subscription(r) for r in self.conn.execute(query)]
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, encode_cursor([rows[-1].id]) if more else None

    def delete(self, webhook_id: str) -> None:
        # deliveries go with it (ON DELETE CASCADE); the events themselves stay in the outbox
        self.conn.execute(delete(D).where(D.c.webhook_id == webhook_id))
        self.conn.execute(delete(W).where(W.c.id == webhook_id))

    def deliveries(
        self, webhook_id: str, *, statuses: Sequence[str], limit: int, cursor: str | None
    ) -> tuple[list[DeliveryRecord], str | None]:
        """Newest event first, keyed on the outbox row (the (webhook_id, outbox_id) unique index serves it)."""
        query = (
            select(D, O.c.topic, O.c.account_id)
            .join(O, O.c.id == D.c.outbox_id)
            .where(D.c.webhook_id == webhook_id)
            .order_by(D.c.outbox_id.desc())
            .limit(limit + 1)
        )
        if statuses:
            query = query.where(D.c.status.in_(list(statuses)))
        if cursor:
            (before,) = decode_cursor(cursor, 1)
            if not isinstance(before, int):
                raise ValidationFailed("cursor is not valid", field="cursor")
            query = query.where(D.c.outbox_id < before)
        rows = list(self.conn.execute(query))
        more = len(rows) > limit
        rows = rows[:limit]
        return [_delivery(r) for r in rows], encode_cursor([rows[-1].outbox_id]) if more else None

    def delivery(self, webhook_id: str, delivery_id: int) -> DeliveryRecord | None:
        query = (
            select(D, O.c.topic, O.c.account_id)
            .join(O, O.c.id == D.c.outbox_id)
            .where(D.c.webhook_id == webhook_id, D.c.id == delivery_id)
        )
        row = self.conn.execute(query).first()
        return _delivery(row) if row is not None else None

    def requeue(self, delivery_id: int, now: datetime) -> None:
        """Due again now, with a fresh 24-hour window; the webhook-id stays, so receivers can de-duplicate."""
        self.conn.execute(
            update(D)
            .where(D.c.id == delivery_id)
            .values(status="pending", next_attempt_at=now, created_at=now, delivered_at=None)
        )


def _subscription(row: Any) -> WebhookSubscription:
    return WebhookSubscription(
        row.id,
        row.account_id,
        row.url,
        list(row.events),
        row.secret,
        row.created_at,
        row.created_by,
        bool(row.public_only),
    )


def _delivery(row: Any) -> DeliveryRecord:
    return DeliveryRecord(
        id=row.id,
        event_type=row.topic,
        account_id=row.account_id,
        message_id=row.message_id,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
        delivered_at=row.delivered_at,
    )
