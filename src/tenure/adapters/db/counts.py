"""Clients per (ancestor, stage), kept with every creation and stage move: counts that do not scan.

Writers record `(client, stage, ±1)` in the unit of work (`CountChanges`, filled by the
account repositories) and `apply` turns them into `UPDATE client_counts SET n = n + d` on the
rows of every ancestor of each client, once, just before the commit: in one sorted order
(ancestor, stage, slot), so two transactions never wait on each other's rows in a cycle, and
the row locks are held only for the commit itself.

Suspension is not counted here. It is derived at read time from the holds in force
(`by_status`): a hold on a partner suspends every client below it, which is that partner's own
counters, so a channel cascade costs one hold, never a rewrite of 100,000 counters.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import ColumnElement, Connection, and_, bindparam, delete, exists, func, insert, literal, select, update

from tenure.adapters.db import sql, status_sql
from tenure.adapters.db.buffer import Buffer
from tenure.adapters.db.tables import account_ancestors as AA
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import client_counts as C
from tenure.adapters.db.tables import holds as H
from tenure.domain.model import Kind, Stage, Status
from tenure.services.read_models import Drift

SLOTS = 8  # rows per (ancestor, stage): concurrent writers under one partner rarely share one
CHUNK = 500
_UP = AA.alias("up")
_ABOVE = H.alias("above")
_ADD = (
    update(C)
    .where(
        C.c.ancestor_id == bindparam("b_ancestor"), C.c.stage == bindparam("b_stage"), C.c.slot == bindparam("b_slot")
    )
    .values(n=C.c.n + bindparam("b_delta"))
)


def slot_of(account_id: str) -> int:
    """The slot a client's changes always go to (stable across processes, unlike `hash`)."""
    return zlib.crc32(account_id.encode()) % SLOTS


class CountChanges(Buffer):
    """The stage moves of clients in this transaction, as `(client id, stage, ±1)` rows."""

    def move(self, account_id: str, before: Stage | None, after: Stage | None) -> None:
        if before == after:
            return
        if before is not None:
            self.rows.append((account_id, before.value, -1))
        if after is not None:
            self.rows.append((account_id, after.value, 1))


def apply(conn: Connection, changes: Sequence[tuple[str, str, int]], lineages: Mapping[str, Sequence[str]]) -> None:
    """Add the changes to the counters of every ancestor of each client, in one lock order.

    `lineages`: those the transaction already read (root first, the account last), so only the
    clients it never loaded (new ones) have their ancestors read here.
    """
    if not changes:
        return
    moved = {account_id for account_id, _, _ in changes}
    ancestors = {account_id: list(lineages[account_id][:-1]) for account_id in moved if account_id in lineages}
    ancestors |= _ancestors(conn, sorted(moved - set(ancestors)))
    deltas: Counter[tuple[str, str, int]] = Counter()
    for account_id, stage, delta in changes:
        slot = slot_of(account_id)
        for ancestor in ancestors.get(account_id, ()):
            deltas[(ancestor, stage, slot)] += delta
    rows = [
        {"b_ancestor": ancestor, "b_stage": stage, "b_slot": slot, "b_delta": delta}
        for (ancestor, stage, slot), delta in sorted(deltas.items())
        if delta
    ]
    if rows:
        conn.execute(_ADD, rows)


def _ancestors(conn: Connection, ids: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for start in range(0, len(ids), CHUNK):
        query = select(AA.c.account_id, AA.c.ancestor_id).where(
            sql.among(conn.dialect.name, AA.c.account_id, "ids", ids[start : start + CHUNK]), AA.c.depth > 0
        )
        for row in conn.execute(query):
            found.setdefault(row.account_id, []).append(row.ancestor_id)
    return found


def open_counters(conn: Connection, ancestor_id: str) -> None:
    """A new partner (or the operator) gets its zeroed rows, which later changes only add to."""
    rows = [
        {"ancestor_id": ancestor_id, "stage": s.value, "slot": slot, "n": 0} for s in Stage for slot in range(SLOTS)
    ]
    conn.execute(insert(C), rows)


# -- reading ---------------------------------------------------------------------------------


def by_status(conn: Connection, root: str) -> dict[Status, int]:
    """Clients below the partner `root` per derived status, from its counters and the holds in force.

    `root` suspended (a hold on it or above): every client below it that is not decommissioned is.
    Otherwise the suspended ones are those below the topmost held accounts under `root`: a held
    partner's own counters, a held client itself. The cost follows the holds in force below
    `root`, never the number of clients.
    """
    per_stage = _sums(conn, C.c.ancestor_id == root)
    if conn.execute(select(status_sql.suspended(literal(root)))).scalar():
        return status_sql.counts_by_status(
            per_stage, {s: n for s, n in per_stage.items() if s != Stage.DECOMMISSIONED.value}
        )
    return status_sql.counts_by_status(per_stage, _held_below(conn, root))


def _sums(conn: Connection, which: ColumnElement[bool]) -> dict[str, int]:
    query = select(C.c.stage, func.sum(C.c.n)).where(which).group_by(C.c.stage)
    return {row[0]: int(row[1] or 0) for row in conn.execute(query)}


def _held_below(conn: Connection, root: str) -> dict[str, int]:
    """Clients suspended below `root` (itself not suspended), per stage, not decommissioned."""
    held_above = exists().where(
        _UP.c.account_id == H.c.account_id,
        _UP.c.depth > 0,
        _ABOVE.c.account_id == _UP.c.ancestor_id,
        _ABOVE.c.lifted_at.is_(None),
    )
    topmost = (
        select(H.c.account_id)
        .join(AA, and_(AA.c.account_id == H.c.account_id, AA.c.ancestor_id == root, AA.c.depth > 0))
        .where(H.c.lifted_at.is_(None), ~held_above)
    )
    held = Counter(_sums(conn, C.c.ancestor_id.in_(topmost)))
    clients = (
        select(A.c.stage, func.count()).where(A.c.id.in_(topmost), A.c.kind == Kind.CLIENT.value).group_by(A.c.stage)
    )
    held.update({row[0]: int(row[1]) for row in conn.execute(clients)})
    held.pop(Stage.DECOMMISSIONED.value, None)
    return dict(held)


# -- checking ----------------------------------------------------------------------------------


def drift(conn: Connection, *, then_fix: bool = False) -> list[Drift]:
    """Every counter against a recount from the accounts and the closure table
    (`then_fix`: writers are held back until the commit, for a `rebuild` in the same transaction)."""
    _hold_writers(conn, "EXCLUSIVE" if then_fix else "SHARE")
    actual = _recount(conn)
    counted: dict[tuple[str, str], int] = {}
    for row in conn.execute(select(C.c.ancestor_id, C.c.stage, func.sum(C.c.n)).group_by(C.c.ancestor_id, C.c.stage)):
        counted[(row[0], row[1])] = int(row[2])
    keys = {(p, s.value) for p in _counting_accounts(conn) for s in Stage} | set(counted)
    found = [Drift(a, s, counted.get((a, s)), actual.get((a, s), 0)) for a, s in sorted(keys)]
    return [d for d in found if d.counted != d.actual]


def rebuild(conn: Connection) -> None:
    """Set every counter to the recount: the backfill of loaded data, and `tenure check counts --fix`."""
    _hold_writers(conn, "EXCLUSIVE")
    actual = _recount(conn)
    conn.execute(delete(C))
    rows = [
        {"ancestor_id": p, "stage": s.value, "slot": slot, "n": actual.get((p, s.value), 0) if slot == 0 else 0}
        for p in _counting_accounts(conn)
        for s in Stage
        for slot in range(SLOTS)
    ]
    for start in range(0, len(rows), CHUNK):
        conn.execute(insert(C), rows[start : start + CHUNK])


def _hold_writers(conn: Connection, mode: str) -> None:
    """On PostgreSQL, wait for writers with counter changes in flight and hold new ones back, so the
    recount and the counters are of the same moment (SQLite has one writer at a time anyway)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"LOCK TABLE client_counts IN {mode} MODE")


def _recount(conn: Connection) -> dict[tuple[str, str], int]:
    query = (
        select(AA.c.ancestor_id, A.c.stage, func.count())
        .join(AA, and_(AA.c.account_id == A.c.id, AA.c.depth > 0))
        .where(A.c.kind == Kind.CLIENT.value)
        .group_by(AA.c.ancestor_id, A.c.stage)
    )
    return {(row[0], row[1]): int(row[2]) for row in conn.execute(query)}


def _counting_accounts(conn: Connection) -> Iterable[str]:
    """Accounts that keep counters: every one but clients (nothing is below a client)."""
    return list(conn.execute(select(A.c.id).where(A.c.kind != Kind.CLIENT.value).order_by(A.c.id)).scalars())


class ClientCounters:
    """`uow.client_counts`: the Clients page's counters checked against a recount (`tenure check counts`)."""

    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def drift(self, *, then_fix: bool = False) -> list[Drift]:
        return drift(self.conn, then_fix=then_fix)

    def rebuild(self) -> None:
        rebuild(self.conn)
