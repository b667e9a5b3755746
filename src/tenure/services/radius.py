"""RADIUS for FreeRADIUS's rlm_rest: keep sessions from accounting, list them.

Authorize is a lookup, answered on the hot path (`services.hot_path.HotPath.radius_user`).

Tenure decides only `internet`; FreeRADIUS checks passwords. Accounting never
fails for a User-Name Tenure does not know: the session is kept without a
service, so the NAS's view and Tenure's stay comparable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from tenure.adapters.db.radius import Accounting, network_holder
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import Caller
from tenure.domain.errors import ValidationFailed
from tenure.domain.radius import SessionState

__all__ = ["Accounting", "SessionView", "list_sessions", "record_accounting"]
STATES = tuple(s.value for s in SessionState)


@dataclass(frozen=True)
class SessionView:
    id: int
    acct_session_id: str
    user_name: str
    nas_ip: str
    framed_ip: str | None
    service_id: str | None
    account_id: str | None
    state: str
    started_at: datetime | None
    last_update_at: datetime
    stopped_at: datetime | None
    disconnect_error: str | None


def record_accounting(uow: UnitOfWork, *, caller: Caller, request: Accounting, now: datetime) -> None:
    """Start, Interim-Update or Stop; repeats change nothing, a Stop without a Start is kept."""
    with uow:
        holder = network_holder(uow.connection, caller, request.user_name)
        uow.radius.record(request, holder=holder, now=now)
        uow.commit()


def list_sessions(
    uow: UnitOfWork, *, caller: Caller, states: Sequence[str], limit: int, cursor: str | None
) -> tuple[list[SessionView], str | None]:
    unknown = set(states) - set(STATES)
    if unknown:
        raise ValidationFailed(f"state must be among {', '.join(STATES)}", field="state")
    with uow.reading():
        rows, next_cursor = uow.radius.page(caller, states=states, limit=limit, cursor=cursor)
    return [_view(r) for r in rows], next_cursor


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
