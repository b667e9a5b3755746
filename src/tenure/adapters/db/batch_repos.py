"""The repositories of a batch (adapters/db/batch.py): accounts from memory, writes gathered.

Every gathered write is kept per item (`Buffer.mark`/`undo`), so an item
refused half-way leaves nothing behind, and is written at the end of the batch
with one `executemany` per statement, in the order the items made them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Update, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from tenure.adapters.db import sql
from tenure.adapters.db.accounts import AccountRepository, _columns, hold_row
from tenure.adapters.db.audit import AuditRepository
from tenure.adapters.db.buffer import Buffer
from tenure.adapters.db.outbox import Cascade, OutboxRepository
from tenure.adapters.db.tables import account_ancestors as AA
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import events as E
from tenure.adapters.db.tables import holds as H
from tenure.adapters.db.tables import outbox as O
from tenure.domain.access import Caller
from tenure.domain.errors import AlreadySuspended, NotFound, VersionConflict
from tenure.domain.events import Event
from tenure.domain.model import Account, Hold, Kind

CHUNK = 500  # ids per IN (…) list: well under every driver's parameter limit
_LIFT = update(H).where(H.c.id == bindparam("b_id")).values(lifted_at=bindparam("b_at"), lifted_by=bindparam("b_by"))


class PreloadedAccounts(AccountRepository):
    """Accounts answered from a batch-wide load; anything else goes to the database as usual.

    Only a load by the same caller is answered from memory, so scoping is the
    one of `preload` (the same `sql.visible_to` as every other load). When the
    batch is `independent` (no account twice, none below another), no item can
    change what another reads, so holds and account rows are gathered too.
    """

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._caller: Caller | None = None
        self._loaded: dict[str, Account] = {}
        self._unseen: set[str] = set()
        self.touched: list[Account] = []
        self.independent = False
        self.holds_added, self.holds_lifted, self.saved = Buffer(), Buffer(), Buffer()

    @property
    def buffers(self) -> list[Buffer]:
        return [self.holds_added, self.holds_lifted, self.saved, self.count_changes]

    def preload(self, ids: Sequence[str], caller: Caller) -> None:
        """Load (and lock, in id order) every visible account among `ids`; the rest are not found."""
        wanted = sorted(set(ids))
        rows = []
        for chunk in _chunks(wanted):
            query = select(A).where(A.c.id.in_(chunk), sql.visible_to(caller)).order_by(A.c.id)
            rows += list(self.conn.execute(query.with_for_update() if self._for_update else query))
        self._caller = caller
        self._loaded = {account.id: account for account in self.hydrate(rows)}
        self._unseen = set(wanted) - set(self._loaded)
        self.independent = len(wanted) == len(ids) and not self._nested(list(self._loaded))

    def _nested(self, ids: list[str]) -> bool:
        """Is any of `ids` an ancestor of another?"""
        present = set(ids)
        for chunk in _chunks(ids):
            query = select(AA.c.ancestor_id).where(AA.c.account_id.in_(chunk), AA.c.depth > 0)
            if any(ancestor in present for ancestor in self.conn.execute(query).scalars()):
                return True
        return False

    def get(self, account_id: str, *, caller: Caller | None = None, lock: bool = False) -> Account:
        if caller is not None and caller == self._caller:
            if account_id in self._unseen:
                raise NotFound(f"account {account_id} not found")
            account = self._loaded.get(account_id)
            if account is not None:
                self.touched.append(account)
                return account
        account = super().get(account_id, caller=caller, lock=lock)
        self.touched.append(account)
        return account

    def forget(self, accounts: Iterable[Account]) -> None:
        """Drop accounts whose in-memory state may be stale; the next `get` reads them again."""
        for account in accounts:
            self._loaded.pop(account.id, None)
            self._stages.pop(account.id, None)

    def forget_all(self) -> None:
        self._loaded.clear()
        self._stages.clear()

    # -- writes: gathered when independent, else at once -------------------
    def save(self, account: Account, *, now: datetime) -> None:
        if not self.independent:
            return super().save(account, now=now)
        before = self.stage_as_read(account) if account.kind is Kind.CLIENT else None
        values = {f"b_{name}": value for name, value in _columns(account).items()}
        self.saved.rows.append({**values, "b_version": account.version, "b_updated_at": now})
        account.version += 1
        if account.kind is Kind.CLIENT:
            self.counted(account, before=before)
        return None

    def add_hold(self, hold: Hold) -> None:
        if not self.independent:
            return super().add_hold(hold)
        self.holds_added.rows.append(hold_row(hold))
        return None

    def lift_holds(self, lifted: Iterable[Hold]) -> None:
        if not self.independent:
            return super().lift_holds(lifted)
        self.holds_lifted.rows += [{"b_id": h.id, "b_at": h.lifted_at, "b_by": h.lifted_by} for h in lifted]
        return None

    def flush(self) -> None:
        """Holds, then account rows; a saved row must still be at the version it was read at."""
        if added := self.holds_added.take():
            try:
                self.conn.execute(insert(H), added)
            except IntegrityError as error:  # only a writer that skipped the account's row lock gets here
                raise AlreadySuspended("a hold of the batch was placed meanwhile; nothing was kept") from error
        if lifted := self.holds_lifted.take():
            self.conn.execute(_LIFT, lifted)
        if saved := self.saved.take():
            result = self.conn.execute(_save_statement(saved[0]), saved)
            if result.rowcount != len(saved):
                raise VersionConflict("an account of the batch was changed by someone else; nothing was kept")


def _save_statement(row: dict[str, Any]) -> Update:
    columns = [key[2:] for key in row if key not in ("b_id", "b_version")]
    return (
        update(A)
        .where(A.c.id == bindparam("b_id"), A.c.version == bindparam("b_version"))
        .values({**{name: bindparam(f"b_{name}") for name in columns}, "version": A.c.version + 1})
    )


def ids_for_tokens(conn: Connection, caller: Caller, tokens: Sequence[str]) -> dict[str, str]:
    """{token: account id} for tokens that are the id or billing ref of an account `caller` sees."""
    found: dict[str, str] = {}
    for chunk in _chunks(sorted(set(tokens))):
        query = select(A.c.id, A.c.billing_ref).where(
            or_(A.c.id.in_(chunk), A.c.billing_ref.in_(chunk)), sql.visible_to(caller)
        )
        for row in conn.execute(query):
            found.setdefault(row.billing_ref, row.id)
            found[row.id] = row.id  # an id wins over an equal billing ref
    return found


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


class BufferedAudit(AuditRepository):
    """Audit events, which nothing reads back inside a change, written in one `executemany`."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self.buffer = Buffer()

    def append(self, event: Event, *, actor: str, at: datetime) -> None:
        row = {"account_id": event.account_id, "at": at, "actor": actor, "action": event.action.value}
        self.buffer.rows.append({**row, "reason": event.reason, "before": event.before, "after": event.after})

    def flush(self) -> None:
        if rows := self.buffer.take():
            self.conn.execute(insert(E), rows)


class BufferedOutbox(OutboxRepository):
    """Single outbox rows gathered always; cascades gathered when the batch is independent."""

    def __init__(self, connection: Connection, accounts: PreloadedAccounts) -> None:
        super().__init__(connection)
        self.accounts = accounts
        self.buffer = Buffer()
        self.pending = Buffer()

    def _add(
        self, kind: str, topic: str, account_id: str, recipient: str | None, payload: dict[str, Any], now: datetime
    ) -> None:
        row = {"kind": kind, "topic": topic, "account_id": account_id, "recipient": recipient, "payload": payload}
        self.buffer.rows.append({**row, "created_at": now, "next_attempt_at": now})

    def cascades(self, cascades: Sequence[Cascade]) -> None:
        if self.accounts.independent:
            self.pending.rows += cascades
        else:
            super().cascades(cascades)

    def flush(self) -> None:
        """Cascades first (they read the holds just written), then the single rows."""
        if pending := self.pending.take():
            super().cascades(pending)
        if rows := self.buffer.take():
            self.conn.execute(insert(O), rows)
