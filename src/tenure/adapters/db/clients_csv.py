"""Reads for importing and exporting clients: parents by billing ref, refs in use, clients in batches."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Row, false, func, select

from tenure.adapters.db import sql, status_sql
from tenure.adapters.db.accounts import AccountRepository
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import services as S
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


def network_ids_in_use(conn: Connection, pairs: Collection[tuple[Any, str]]) -> set[tuple[Any, str]]:
    """The (kind, network id) pairs already held by a service that has not ended."""
    if not pairs:
        return set()
    wanted = {(str(kind), network_id): (kind, network_id) for kind, network_id in pairs}
    query = select(S.c.kind, S.c.network_id).where(
        S.c.network_id.in_(sorted({n for _, n in wanted})), S.c.end_date.is_(None)
    )
    return {wanted[(r.kind, r.network_id)] for r in conn.execute(query) if (r.kind, r.network_id) in wanted}


def network_ids_of(conn: Connection, account_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """(kind, network id) of each account's services that have not ended, in the order they were added."""
    found: dict[str, list[tuple[str, str]]] = {}
    if not account_ids:
        return found
    query = (
        select(S.c.account_id, S.c.kind, S.c.network_id)
        .where(S.c.account_id.in_(list(account_ids)), S.c.network_id.is_not(None), S.c.end_date.is_(None))
        .order_by(S.c.id)
    )
    for row in conn.execute(query):
        found.setdefault(row.account_id, []).append((row.kind, row.network_id))
    return found


def _clients(caller: Caller, include_inactive: bool) -> list[Any]:
    where = [A.c.kind == "client", A.c.is_management == false(), sql.visible_to(caller)]
    if not include_inactive:
        where.append(status_sql.not_inactive())
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
