"""The unit of work: one transaction, with every repository bound to it.

Nothing is written unless the use case calls `commit()`; leaving the block
any other way rolls back, so a change is whole or absent.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Self

from sqlalchemy import Connection, Engine

from tenure.adapters.db.accounts import AccountRepository
from tenure.adapters.db.api_keys import ApiKeyRepository
from tenure.adapters.db.audit import AuditRepository
from tenure.adapters.db.billing import BillingRepository
from tenure.adapters.db.cascades import Cascades
from tenure.adapters.db.clients_csv import ClientsCsv
from tenure.adapters.db.deliveries import DeliveryQueue
from tenure.adapters.db.entitlements import EntitlementLookups
from tenure.adapters.db.idempotency import IdempotencyRepository
from tenure.adapters.db.lines import LineEnding, LineRepository
from tenure.adapters.db.listing import AccountListing
from tenure.adapters.db.nas import NasRepository
from tenure.adapters.db.offices import OfficeRepository
from tenure.adapters.db.outbox import OutboxRepository
from tenure.adapters.db.radius import RadiusSessions
from tenure.adapters.db.retention import FinishedNotices
from tenure.adapters.db.scheduled import DueChanges
from tenure.adapters.db.site import SiteRepository
from tenure.adapters.db.users import UserRepository
from tenure.adapters.db.webhooks import WebhookRepository
from tenure.services.read_models import Site

if TYPE_CHECKING:
    from tenure.adapters.db.batch import BatchUnitOfWork


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
    due: DueChanges
    nas: NasRepository
    finished: FinishedNotices
    deliveries: DeliveryQueue
    webhooks: WebhookRepository
    lines: LineRepository
    listing: AccountListing
    billing: BillingRepository
    entitlements: EntitlementLookups
    clients_csv: ClientsCsv

    def __init__(self, engine: Engine, *, write: bool = True) -> None:
        self.engine = engine
        self.write = write
        self._site: Site | None = None

    def __enter__(self) -> Self:
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
        self.due = DueChanges(connection)
        self.nas = NasRepository(connection)
        self.finished = FinishedNotices(connection)
        self.deliveries = DeliveryQueue(connection)
        self.webhooks = WebhookRepository(connection)
        self.lines = LineRepository(connection)
        self.listing = AccountListing(connection, self.accounts)
        self.billing = BillingRepository(connection)
        self.entitlements = EntitlementLookups(connection)
        self.clients_csv = ClientsCsv(connection)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._transaction.is_active:
                self._transaction.rollback()
        finally:
            self.connection.close()

    def reading(self) -> Self:
        """Use this unit of work for reads only (no write lock on SQLite)."""
        self.write = False
        return self

    def new_batch(self) -> BatchUnitOfWork:
        """A new batch unit of work on the same engine (its own transaction): the worker's scheduled batches."""
        from tenure.adapters.db.batch import BatchUnitOfWork  # here: batch.py builds on this module

        return BatchUnitOfWork(self.engine)

    @property
    def locks_claimed_rows(self) -> bool:
        """PostgreSQL keeps claimed rows locked (SKIP LOCKED); SQLite runs one worker at a time."""
        return self.engine.dialect.name == "postgresql"

    @property
    def site(self) -> Site:
        """The installation's settings, read once per transaction."""
        if self._site is None:
            self._site = self.site_settings.load()
        return self._site

    def commit(self) -> None:
        self._transaction.commit()

    def rollback(self) -> None:
        self._transaction.rollback()
