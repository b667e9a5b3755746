"""Many changes in one transaction, each through the ordinary use case (api.md "Bulk actions").

`BatchUnitOfWork` opens one transaction for a whole batch. Each item runs the
same service function as a single call, handed an `ItemUnitOfWork`: its
`with uow:` marks the item's start, its `commit()` keeps the item, and leaving
it any other way undoes the item alone. So every rule, authority check, event
and notification of the single path applies to each item unchanged, while the
batch pays for I/O once where it can:

- the batch's accounts are loaded (and on PostgreSQL row-locked, in id order)
  in a few queries up front, and `accounts.get` answers from them;
- audit events and single outbox rows, which nothing reads back inside a
  change, are kept in memory per item and written at the end with one
  `executemany` per table;
- a SAVEPOINT is opened only when an item first writes to the database
  directly (a hold, the account row, a cascade's INSERT … SELECT), so an item
  refused by the rules costs no statement at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, NestedTransaction, event, insert, select

from tenure.adapters.db import sql
from tenure.adapters.db.accounts import AccountRepository
from tenure.adapters.db.audit import AuditRepository
from tenure.adapters.db.outbox import OutboxRepository
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import events as E
from tenure.adapters.db.tables import outbox as O
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import Caller
from tenure.domain.errors import NotFound
from tenure.domain.events import Event
from tenure.domain.model import Account, Kind

PRELOAD_CHUNK = 500  # ids per IN (…) list: well under every driver's parameter limit


class PreloadedAccounts(AccountRepository):
    """Accounts answered from a batch-wide load; anything else goes to the database as usual.

    Only a load by the same caller is answered from memory, so scoping is the
    one of `preload` (the same `sql.visible_to` as every other load).
    """

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._caller: Caller | None = None
        self._loaded: dict[str, Account] = {}
        self._unseen: set[str] = set()
        self.touched: list[Account] = []

    def preload(self, ids: Sequence[str], caller: Caller) -> None:
        """Load (and lock) every visible account among `ids`; the rest are remembered as not found."""
        wanted = sorted(set(ids))
        rows = []
        for start in range(0, len(wanted), PRELOAD_CHUNK):
            chunk = wanted[start : start + PRELOAD_CHUNK]
            query = select(A).where(A.c.id.in_(chunk), sql.visible_to(caller)).order_by(A.c.id)
            if self._for_update:
                query = query.with_for_update()
            rows += list(self.conn.execute(query))
        self._caller = caller
        self._loaded = {account.id: account for account in self.hydrate(rows)}
        self._unseen = set(wanted) - set(self._loaded)

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

    def forget(self, accounts: Sequence[Account]) -> None:
        """Drop accounts whose in-memory state may be stale; the next `get` reads them again."""
        for account in accounts:
            self._loaded.pop(account.id, None)

    def forget_all(self) -> None:
        self._loaded.clear()


class _Buffer:
    """Rows kept per item: `mark()` at an item's start, `undo()` drops that item's rows."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self._mark = 0

    def mark(self) -> None:
        self._mark = len(self.rows)

    def undo(self) -> None:
        del self.rows[self._mark :]


class BufferedAudit(AuditRepository):
    """Audit events written in one `executemany` at the end of the batch, in the order appended."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self.buffer = _Buffer()

    def append(self, event: Event, *, actor: str, at: datetime) -> None:
        self.buffer.rows.append(
            {
                "account_id": event.account_id,
                "at": at,
                "actor": actor,
                "action": event.action.value,
                "reason": event.reason,
                "before": event.before,
                "after": event.after,
            }
        )

    def flush(self) -> None:
        if self.buffer.rows:
            self.conn.execute(insert(E), self.buffer.rows)
            self.buffer.rows.clear()


class BufferedOutbox(OutboxRepository):
    """Single outbox rows (an email, a webhook) written in one `executemany` at the end of the batch.

    Set-based cascades (`suspension_changed`, …) still run at once: they read
    the holds and accounts as the item left them.
    """

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self.buffer = _Buffer()

    def _add(
        self, kind: str, topic: str, account_id: str, recipient: str | None, payload: dict[str, Any], now: datetime
    ) -> None:
        self.buffer.rows.append(
            {
                "kind": kind,
                "topic": topic,
                "account_id": account_id,
                "recipient": recipient,
                "payload": payload,
                "created_at": now,
                "next_attempt_at": now,
            }
        )

    def flush(self) -> None:
        if self.buffer.rows:
            self.conn.execute(insert(O), self.buffer.rows)
            self.buffer.rows.clear()


class BatchUnitOfWork(UnitOfWork):
    """`with BatchUnitOfWork(engine) as batch: …; with batch.item() as uow: service(uow, …); batch.commit()`."""

    accounts: PreloadedAccounts
    audit: BufferedAudit
    outbox: BufferedOutbox

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, write=True)
        self.current: ItemUnitOfWork | None = None
        self.savepoints = 0

    def __enter__(self) -> BatchUnitOfWork:
        super().__enter__()
        self.accounts = PreloadedAccounts(self.connection)
        self.audit = BufferedAudit(self.connection)
        self.outbox = BufferedOutbox(self.connection)
        event.listen(self.connection, "before_execute", self._before_execute)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        event.remove(self.connection, "before_execute", self._before_execute)
        super().__exit__(exc_type, exc, tb)

    def item(self) -> ItemUnitOfWork:
        """A unit of work for one item, to hand to an ordinary use case."""
        return ItemUnitOfWork(self)

    def _before_execute(self, _conn: Connection, clause: Any, *_args: Any) -> None:
        """Open the current item's SAVEPOINT just before its first direct write."""
        item = self.current
        if item is not None and item.savepoint is None and getattr(clause, "is_dml", False):
            item.savepoint = self.connection.begin_nested()
            self.savepoints += 1

    def commit(self) -> None:
        self.audit.flush()
        self.outbox.flush()
        super().commit()


class ItemUnitOfWork(UnitOfWork):
    """One item of a batch: the batch's connection and repositories, and its own undo."""

    def __init__(self, batch: BatchUnitOfWork) -> None:  # no super().__init__: nothing of its own to open
        self.batch = batch
        self.engine = batch.engine
        self.write = True
        self._site = batch.site
        for name in UnitOfWork.__annotations__:
            setattr(self, name, getattr(batch, name))
        self.savepoint: NestedTransaction | None = None
        self.committed = False
        self._depth = 0

    def __enter__(self) -> ItemUnitOfWork:
        """The outermost `with` (the batch's, around the use case's own) opens and closes the item."""
        self._depth += 1
        if self._depth > 1:
            return self
        if self.batch.current is not None:
            raise RuntimeError("one item at a time")
        self.batch.current = self
        self.batch.accounts.touched = []
        self.batch.audit.buffer.mark()
        self.batch.outbox.buffer.mark()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._depth -= 1
        if self._depth:
            return
        batch = self.batch
        batch.current = None
        touched = batch.accounts.touched
        if self.committed and exc_type is None:
            if self.savepoint is not None:
                self.savepoint.commit()
            if any(account.kind is not Kind.CLIENT for account in touched):
                # A partner's change may alter what the accounts below it inherit.
                batch.accounts.forget_all()
            return
        if self.savepoint is not None:
            self.savepoint.rollback()
        batch.audit.buffer.undo()
        batch.outbox.buffer.undo()
        batch.accounts.forget(touched)

    def commit(self) -> None:
        """Keep the item; it is released when its outermost `with` ends without an error."""
        self.committed = True
