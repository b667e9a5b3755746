"""Helpers for RADIUS tests: internet services with network ids, sessions from accounting, a NAS, the queue."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tenure.adapters.db.tables import outbox, radius_sessions
from tenure.adapters.phone import E164Numbers
from tenure.adapters.radius.disconnect import DisconnectSender
from tenure.adapters.secret_box import SecretBox
from tenure.domain.catalog import Line, LineKind
from tenure.domain.radius import AcctStatus, NasSpec
from tenure.entrypoints.worker import Worker
from tenure.services import lines, nas, radius
from tenure.services.read_models import Accounting
from tests.support import Installation
from tests.worker_support import worker_for

NAS_SECRET = "nas-s3cret"


def internet(site: Installation, account_id: str, network_id: str, kind: LineKind = LineKind.INTERNET) -> Line:
    return lines.add_service(
        site.uow(),
        numbers=E164Numbers(),
        caller=site.admin,
        account_id=account_id,
        kind=kind,
        label=f"{kind.label} {network_id}",
        monthly_price="30.00",
        start_date=None,
        now=site.now,
        network_id=network_id,
    )


def account(
    site: Installation,
    status: AcctStatus,
    session_id: str,
    user_name: str,
    *,
    nas_ip: str = "127.0.0.1",
    at: datetime | None = None,
) -> None:
    request = Accounting(status, session_id, nas_ip, user_name, "100.64.0.10", at or site.now)
    radius.record_accounting(site.uow(), caller=site.admin, request=request, now=site.now)


def start(site: Installation, session_id: str, user_name: str, *, nas_ip: str = "127.0.0.1") -> None:
    account(site, AcctStatus.START, session_id, user_name, nas_ip=nas_ip)


def register_nas(site: Installation, port: int, *, ip: str = "127.0.0.1", name: str = "bng1") -> None:
    nas.add_nas(
        site.uow(),
        caller=site.admin,
        spec=NasSpec(name, ip, NAS_SECRET, port),
        boxes=SecretBox,
        secret_key=None,
        now=site.now,
    )


def sessions(site: Installation) -> dict[str, Any]:
    """Sessions by Acct-Session-Id."""
    with site.engine.connect() as connection:
        return {r.acct_session_id: r for r in connection.execute(select(radius_sessions))}


def notices(site: Installation) -> list[Any]:
    """`radius.disconnect` notices, oldest first, each with its session's Acct-Session-Id."""
    query = (
        select(outbox, radius_sessions.c.acct_session_id)
        .join(radius_sessions, radius_sessions.c.id == outbox.c.radius_session_id)
        .where(outbox.c.kind == "radius")
        .order_by(outbox.c.id)
    )
    with site.engine.connect() as connection:
        return list(connection.execute(query))


def radius_worker(site: Installation) -> Worker:
    """A worker whose Disconnect-Requests give up on a silent NAS quickly (0.2 s, one try per attempt)."""
    worker = worker_for(site)
    worker.channels = replace(worker.channels, radius=DisconnectSender(timeout=0.2, tries=1))
    return worker
