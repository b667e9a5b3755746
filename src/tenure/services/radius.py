"""RADIUS for FreeRADIUS's rlm_rest: keep sessions from accounting, list them.

Authorize is a lookup, answered on the hot path (`services.hot_path.HotPath.radius_user`).

Tenure decides only `internet`; FreeRADIUS checks passwords. Accounting never
fails for a User-Name Tenure does not know: the session is kept without a
service, so the NAS's view and Tenure's stay comparable.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tenure.domain.access import Caller
from tenure.domain.errors import ValidationFailed
from tenure.domain.radius import SessionState
from tenure.services.read_models import Accounting, SessionView
from tenure.services.unit_of_work import UnitOfWork

__all__ = ["Accounting", "SessionView", "list_sessions", "record_accounting"]
STATES = tuple(s.value for s in SessionState)


def record_accounting(uow: UnitOfWork, *, caller: Caller, request: Accounting, now: datetime) -> None:
    """Start, Interim-Update or Stop; repeats change nothing, a Stop without a Start is kept."""
    with uow:
        holder = uow.radius.network_holder(caller, request.user_name)
        uow.radius.record(request, holder=holder, now=now)
        uow.commit()


def list_sessions(
    uow: UnitOfWork, *, caller: Caller, states: Sequence[str], limit: int, cursor: str | None
) -> tuple[list[SessionView], str | None]:
    unknown = set(states) - set(STATES)
    if unknown:
        raise ValidationFailed(f"state must be among {', '.join(STATES)}", field="state")
    with uow.reading():
        return uow.radius.page(caller, states=states, limit=limit, cursor=cursor)
