"""The unit of work: one transaction, with every repository bound to it.

Nothing is written unless the use case calls `commit()`; leaving the block
any other way rolls back, so a change is whole or absent.

A unit of work already open can be entered again: the inner block joins the
outer one's transaction, and its `commit()` leaves the commit to the outer
block. That is how an API change request runs its credential check, the use
case (`services.accounts.suspend(uow, …)`, unchanged), the answer's read and
its idempotency record as one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from sqlalchemy import Connection, Engine

from tenure.adapters.db import counts
from tenure.adapters.db.accounts import AccountRepository
from tenure.adapters.db.api_keys import ApiKeyRepository
from tenure.adapters.db.audit import AuditRepository
from tenure.adapters.db.cascades import Cascades
from tenure.adapters.db.idempotency import IdempotencyRepository
from tenure.adapters.db.lines import LineEnding
from tenure.adapters.db.offices import OfficeRepository
from tenure.adapters.db.outbox import OutboxRepository
from tenure.adapters.db.radius import RadiusSessions
from tenure.adapters.db.site import Site, SiteCache, SiteRepository
from tenure.adapters.db.users import UserRepository


class UnitOfWork:
    """`with UnitOfWork(engine) as uow: ...; uow.commit()`.

    `write=True` (the default) takes SQLite's write lock at BEGIN, so writers
    queue instead of failing on a lock upgrade; reads use `write=False`.
    """

    connection: Connection
    accounts: AccountRepository
    audit: AuditRepository
    outbox: OutboxRepository
    cascades: Cascades
    users: UserRepository
    api_keys: ApiKeyRepository
    site_settings: SiteRepository
    idempotency: IdempotencyRepository
    offices: OfficeRepository
    line_ending: LineEnding
    radius: RadiusSessions

    def __init__(self, engine: Engine, *, write: bool = True, site_cache: SiteCache | None = None) -> None:
        self.engine = engine
        self.write = write
        self._site: Site | None = None
        self._site_cache = site_cache
        self._depth = 0  # how many `with` blocks are open on this unit of work

    def __enter__(self) -> UnitOfWork:
        self._depth += 1
        if self._depth > 1:  # joined: the outermost block owns the transaction
            return self
        connection = self.engine.connect()
        if self.write:
            connection = connection.execution_options(sqlite_begin="IMMEDIATE")
        self.connection = connection
        self._transaction = connection.begin()
        self.accounts = AccountRepository(connection)
        self.audit = AuditRepository(connection)
        self.outbox = OutboxRepository(connection)
        self.cascades = Cascades(connection)
        self.users = UserRepository(connection)
        self.api_keys = ApiKeyRepository(connection)
        self.site_settings = SiteRepository(connection)
        self.idempotency = IdempotencyRepository(connection)
        self.offices = OfficeRepository(connection)
        self.line_ending = LineEnding(connection)
        self.radius = RadiusSessions(connection)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._depth -= 1
        if self._depth:  # an inner block: what happens to the transaction is the outer block's call
            return
        try:
            if self._transaction.is_active:
                self._transaction.rollback()
        finally:
            self.connection.close()

    @contextmanager
    def nested(self) -> Iterator[None]:
        """A nested transaction undone alone when its block raises: its rows and its clients'
        stage moves (else the commit would count a move that was rolled back)."""
        moves = self.accounts.count_changes.rows
        mark = len(moves)
        try:
            with self.connection.begin_nested():
                yield
        except BaseException:
            del moves[mark:]
            raise

    def reading(self) -> UnitOfWork:
        """Use this unit of work for reads only (no write lock on SQLite); no effect once it is open."""
        if not self._depth:
            self.write = False
        return self

    @property
    def site(self) -> Site:
        """The installation's settings, read once per transaction (through the process's cache when given)."""
        if self._site is None:
            cache = self._site_cache
            self._site = cache.current(self.site_settings) if cache else self.site_settings.load()
        return self._site

    def commit(self) -> None:
        """Commit, unless this block joined an outer one: then the outer block commits or rolls back.

        The clients' stage moves go to client_counts last (their row locks are held only for the
        commit itself)."""
        if self._depth > 1:
            return
        counts.apply(self.connection, self.accounts.count_changes.take())
        self._transaction.commit()
