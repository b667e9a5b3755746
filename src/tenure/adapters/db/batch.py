"""Many changes in one transaction, each through the ordinary use case (api.md "Bulk actions").

`BatchUnitOfWork` opens one transaction for a whole batch. Each item runs the
same service function as a single call, handed an `ItemUnitOfWork`: its
`with uow:` marks the item's start, its `commit()` keeps the item, and leaving
it any other way undoes the item alone. So every rule, authority check, event
and notification of the single path applies to each item unchanged, while the
batch pays for I/O once where it can (adapters/db/batch_repos.py):

- the batch's accounts are loaded (on PostgreSQL row-locked, in id order) in
  a few queries up front, and `accounts.get` answers from them;
- audit events and single outbox rows, which nothing reads back inside a
  change, are written at the end with one `executemany` per table;
- a partner's cascade job is one gathered outbox row (the worker expands it
  after the commit, adapters/db/cascades.py);
- when no account is in the batch twice and none is below another, no item
  can change what another reads: holds and account rows are then gathered too
  and written the same way, holds first, then each client's notices, which
  are decided from the holds in force; so are a decommission's service
  endings, room releases (rooms read for the batch by `offices.preload_held`)
  and session cuts;
- a SAVEPOINT is opened only when an item writes to the database directly, so
  an item refused by the rules, or one whose writes are all gathered, costs
  no statement of its own.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, NestedTransaction, event

from tenure.adapters.db.batch_repos import (
    BufferedAudit,
    BufferedCascades,
    BufferedLineEnding,
    BufferedOffices,
    BufferedOutbox,
    BufferedRadius,
    PreloadedAccounts,
)
from tenure.adapters.db.buffer import Buffer
from tenure.adapters.db.scheduled import DueChanges
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.model import Kind


class BatchUnitOfWork(UnitOfWork):
    """`with BatchUnitOfWork(engine) as batch: …; with batch.item() as uow: service(uow, …); batch.commit()`."""

    accounts: PreloadedAccounts
    audit: BufferedAudit
    outbox: BufferedOutbox
    cascades: BufferedCascades
    offices: BufferedOffices
    line_ending: BufferedLineEnding
    radius: BufferedRadius

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, write=True)
        self.current: ItemUnitOfWork | None = None
        self.savepoints = 0

    def __enter__(self) -> BatchUnitOfWork:
        super().__enter__()
        self.accounts = PreloadedAccounts(self.connection)
        self.due = DueChanges(self.connection, claimer=self.accounts.claim)
        self.audit = BufferedAudit(self.connection)
        self.outbox = BufferedOutbox(self.connection)
        self.cascades = BufferedCascades(self.connection, self.accounts, self.outbox)
        self.offices = BufferedOffices(self.connection, self.accounts)
        self.line_ending = BufferedLineEnding(self.connection, self.accounts)
        self.radius = BufferedRadius(self.connection, self.accounts)
        event.listen(self.connection, "before_execute", self._before_execute)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        event.remove(self.connection, "before_execute", self._before_execute)
        super().__exit__(exc_type, exc, tb)

    @property
    def buffers(self) -> list[Buffer]:
        gathered = [self.outbox.buffer, self.cascades.gathered, self.offices.buffer, self.line_ending.buffer]
        return [*self.accounts.buffers, self.audit.buffer, *gathered, self.radius.buffer]

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
        self.current = None
        self.accounts.flush()
        self.cascades.flush()
        self.outbox.flush()
        self.audit.flush()
        self.line_ending.flush()
        self.offices.flush()
        self.radius.flush()
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
        for buffer in self.batch.buffers:
            buffer.mark()
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
            if not batch.accounts.independent and any(a.kind is not Kind.CLIENT for a in touched):
                batch.accounts.forget_all()  # a partner's change may alter what the accounts below it inherit
            return
        if self.savepoint is not None:
            self.savepoint.rollback()
        for buffer in batch.buffers:
            buffer.undo()
        batch.accounts.forget(touched)

    def commit(self) -> None:
        """Keep the item; it is released when its outermost `with` ends without an error."""
        self.committed = True
