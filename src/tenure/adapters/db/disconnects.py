"""The worker's side of `radius.disconnect` notices: each with its session and the NAS to send it to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update

from tenure.adapters.db.deliveries import DeliveryQueue
from tenure.adapters.db.tables import nas as N
from tenure.adapters.db.tables import outbox as O
from tenure.adapters.db.tables import radius_sessions as RS
from tenure.domain.radius import SessionState


@dataclass(frozen=True)
class SessionOutcome:
    session_id: int
    state: str
    error: str | None


def due_disconnects(queue: DeliveryQueue, now: datetime, limit: int) -> list[Any]:
    """Due notices, oldest first, with the session and (if registered) the NAS at its NAS-IP-Address."""
    query = (
        select(
            O.c.id,
            O.c.attempts,
            O.c.created_at,
            O.c.radius_session_id,
            RS.c.user_name,
            RS.c.acct_session_id,
            RS.c.nas_ip,
            RS.c.state,
            N.c.coa_port,
            N.c.secret_encrypted,
        )
        .join(RS, RS.c.id == O.c.radius_session_id)
        .outerjoin(N, N.c.ip == RS.c.nas_ip)
        .where(O.c.status == "pending", O.c.kind == "radius", O.c.next_attempt_at <= now)
        .order_by(O.c.next_attempt_at, O.c.id)
        .limit(limit)
    )
    return queue.claim(query, O)


def record_sessions(queue: DeliveryQueue, outcomes: Sequence[SessionOutcome]) -> None:
    if not outcomes:
        return
    statement = (
        update(RS)
        .where(RS.c.id == bindparam("b_id"), RS.c.state == SessionState.DISCONNECTING.value)  # a Stop wins
        .values(state=bindparam("b_state"), disconnect_error=bindparam("b_error"))
    )
    queue.conn.execute(statement, [{"b_id": o.session_id, "b_state": o.state, "b_error": o.error} for o in outcomes])
