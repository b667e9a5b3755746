"""The unit of work: one transaction, with every repository bound to it.

Nothing is written unless the use case calls `commit()`; leaving the block
any other way rolls back, so a change is whole or absent.
"""

from __future__ import annotations

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
from tenure.adapters.db.site import Site, SiteRepository
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

    def __init__(self, engine: Engine, *, write: bool = True) -> None:
        self.engine = engine
        self.write = write
        self._site: Site | None = None

    def __enter__(self) -> UnitOfWork:
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
        try:
            if self._transaction.is_active:
                self._transaction.rollback()
        finally:
            self.connection.close()

    def reading(self) -> UnitOfWork:
        """Use this unit of work for reads only (no write lock on SQLite)."""
        self.write = False
        return self

    @property
    def site(self) -> Site:
        """The installation's settings, read once per transaction."""
        if self._site is None:
            self._site = self.site_settings.load()
        return self._site

    def commit(self) -> None:
        """Apply the clients' stage moves to client_counts last (their row locks are held only
        for the commit itself), then commit."""
        counts.apply(self.connection, self.accounts.count_changes.take())
        self._transaction.commit()
