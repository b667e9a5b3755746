"""Reads for importing and exporting clients: parents by billing ref, refs in use, clients in batches."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Row, false, func, select

from tenure.adapters.db import sql
from tenure.adapters.db.accounts import AccountRepository
from tenure.adapters.db.tables import accounts as A
from tenure.domain.access import Caller
from tenure.domain.model import Account

BATCH = 500


def accounts_by_ref(conn: Connection, caller: Caller, refs: Collection[str]) -> dict[str, Account]:
    """The accounts with these billing refs that the caller may see, in two queries."""
    if not refs:
        return {}
    rows = list(conn.execute(select(A).where(A.c.billing_ref.in_(sorted(refs)), sql.visible_to(caller))))
    return {account.billing_ref: account for account in AccountRepository(conn).hydrate(rows)}


def refs_in_use(conn: Connection, refs: Collection[str]) -> set[str]:
    """Billing refs already taken, in any letter case, by any account of the installation (seen or not)."""
    if not refs:
        return set()
    lowered = sorted({ref.lower() for ref in refs})
    query = select(func.lower(A.c.billing_ref)).where(func.lower(A.c.billing_ref).in_(lowered))
    taken = set(conn.execute(query).scalars())
    return {ref for ref in refs if ref.lower() in taken}


def _clients(caller: Caller, include_inactive: bool) -> list[Any]:
    where = [A.c.kind == "client", A.c.is_management == false(), sql.visible_to(caller)]
    if not include_inactive:
        where.append(A.c.stage != "decommissioned")
    return where


def count_clients(conn: Connection, caller: Caller, *, include_inactive: bool) -> int:
    return int(conn.execute(select(func.count()).where(*_clients(caller, include_inactive))).scalar_one())


def client_batches(conn: Connection, caller: Caller, *, include_inactive: bool) -> Iterator[Sequence[Row[Any]]]:
    """Clients by name with their parent's billing ref and kind, streamed from one statement."""
    parent = A.alias("parent")
    query = (
        select(A, parent.c.billing_ref.label("parent_ref"), parent.c.kind.label("parent_kind"))
        .join(parent, parent.c.id == A.c.parent_id)
        .where(*_clients(caller, include_inactive))
        .order_by(A.c.sort_key, A.c.id)
    )
    yield from conn.execution_options(yield_per=BATCH).execute(query).partitions()
