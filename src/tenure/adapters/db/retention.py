"""Deleting finished notices, one small batch per call (the caller gives each batch its own transaction).

Only rows that are done are touched (emails sent, logged or failed; RADIUS disconnects sent, failed or skipped; webhook
deliveries delivered or failed; webhook events dispatched with no delivery
left; cascade jobs expanded with no notice left that points to them, since a
notice reads its shared context from its job), so the worker, which claims only pending rows, never waits on them.
A batch walks the primary key on from where the last one stopped, so a long
prune never scans the table again from the start. The audit trail (`events`)
is not here: it is never pruned.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, exists, select

from tenure.adapters.db.tables import outbox as O
from tenure.adapters.db.tables import webhook_deliveries as D


class Finished(enum.StrEnum):
    """What may be pruned, in the order it must go (a delivery before the event it came from)."""

    WEBHOOK_DELIVERIES = "webhook_deliveries"
    WEBHOOK_EVENTS = "webhook_events"
    EMAILS = "emails"
    RADIUS_DISCONNECTS = "radius_disconnects"
    CASCADES = "cascades"  # last: a job goes once the notices it holds the context of have gone


def _table_and_filter(what: Finished, before: datetime) -> tuple[Any, tuple[Any, ...]]:
    if what is Finished.WEBHOOK_DELIVERIES:
        return D, (D.c.status.in_(("delivered", "failed")), D.c.created_at < before)
    if what is Finished.WEBHOOK_EVENTS:
        undelivered = exists().where(D.c.outbox_id == O.c.id)
        return O, (O.c.kind == "webhook", O.c.status == "dispatched", O.c.created_at < before, ~undelivered)
    if what is Finished.CASCADES:
        notice = O.alias("notice")
        referenced = exists().where(notice.c.cascade_id == O.c.id)
        return O, (O.c.kind == "cascade", O.c.status == "expanded", O.c.created_at < before, ~referenced)
    if what is Finished.RADIUS_DISCONNECTS:
        return O, (O.c.kind == "radius", O.c.status.in_(("sent", "failed", "skipped")), O.c.created_at < before)
    return O, (O.c.kind == "email", O.c.status.in_(("sent", "logged", "failed")), O.c.created_at < before)


def delete_batch(conn: Connection, what: Finished, *, before: datetime, after: int | None, batch: int) -> list[int]:
    """Delete up to `batch` finished rows created before `before`, with ids above `after`; their ids."""
    table, conditions = _table_and_filter(what, before)
    query = select(table.c.id).where(*conditions).order_by(table.c.id).limit(batch)
    if after is not None:
        query = query.where(table.c.id > after)
    ids = [int(i) for i in conn.execute(query).scalars()]
    if ids:
        conn.execute(delete(table).where(table.c.id.in_(ids)))
    return ids
