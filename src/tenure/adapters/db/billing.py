"""What billing reads: every service of every visible client for a period, set-based and streamed.

One statement per period, whatever the number of clients; rows come back in
batches (`yield_per`, a server-side cursor on PostgreSQL) so a month of a
million services never sits in memory at once.

"Has the account been activated?" (lifecycle.md §5) is whether it has an
`activated_on` (`status_sql.was_active`), set on every way into `active` and
kept when it is decommissioned.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, Select, literal_column, or_, select

from tenure.adapters.db import sql, status_sql
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import services as S
from tenure.domain.access import Caller
from tenure.domain.charges import BillingAccount, LineTerm
from tenure.domain.model import Stage

BATCH = 1000


@dataclass(frozen=True)
class BillableLine:
    billing_ref: str
    client_name: str
    account_id: str
    account: BillingAccount
    service: LineTerm


def charge_query(caller: Caller, *, first: date, last: date, account_id: str | None = None) -> Select[Any]:
    """Services overlapping [first, last] on clients that may be billed in it, visible to the caller."""
    query = (
        select(
            S.c.id,
            S.c.kind,
            S.c.label,
            S.c.monthly_price_cents,
            S.c.start_date,
            S.c.end_date,
            A.c.id.label("account_id"),
            A.c.name,
            A.c.billing_ref,
            A.c.start_date.label("account_start"),
            A.c.decommissioned_on,
            status_sql.was_active().label("activated"),
        )
        .join(A, A.c.id == S.c.account_id)
        .where(
            sql.visible_to(caller, S.c.account_id),
            A.c.kind == literal_column("'client'"),
            A.c.stage.in_([Stage.ACTIVE.value, Stage.DECOMMISSIONED.value]),
            A.c.start_date <= last,
            or_(A.c.decommissioned_on.is_(None), A.c.decommissioned_on >= first),
            S.c.start_date <= last,
            or_(S.c.end_date.is_(None), S.c.end_date >= first),
        )
    )
    if account_id is not None:
        query = query.where(S.c.account_id == account_id)
    return query.order_by(A.c.sort_key, A.c.id, S.c.start_date, S.c.id)


def billable_services(
    conn: Connection, caller: Caller, *, first: date, last: date, account_id: str | None = None
) -> Iterator[Sequence[BillableLine]]:
    """Batches of billable services, streamed from one statement."""
    result = conn.execution_options(yield_per=BATCH).execute(
        charge_query(caller, first=first, last=last, account_id=account_id)
    )
    for partition in result.partitions():
        yield [_billable(row) for row in partition]


def _billable(row: Row[Any]) -> BillableLine:
    return BillableLine(
        billing_ref=row.billing_ref,
        client_name=row.name,
        account_id=row.account_id,
        account=BillingAccount(row.account_start, bool(row.activated), row.decommissioned_on),
        service=LineTerm(row.id, row.kind, row.label, int(row.monthly_price_cents), row.start_date, row.end_date),
    )
