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
from typing import TYPE_CHECKING, Self

from sqlalchemy import Connection, Engine

from tenure.adapters.db import counts
from tenure.adapters.db.accounts import AccountRepository
from tenure.adapters.db.api_keys import ApiKeyRepository
from tenure.adapters.db.audit import AuditRepository
from tenure.adapters.db.billing import BillingRepository
from tenure.adapters.db.cascades import Cascades
from tenure.adapters.db.clients_csv import ClientsCsv
from tenure.adapters.db.counts import ClientCounters
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
from tenure.adapters.db.site import SiteCache, SiteRepository
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
    client_counts: ClientCounters

    def __init__(self, engine: Engine, *, write: bool = True, site_cache: SiteCache | None = None) -> None:
        self.engine = engine
        self.write = write
        self._site: Site | None = None
        self._site_cache = site_cache
        self._site_seen: tuple[int, str | None] | None = None  # the version the token check read
        self._depth = 0  # how many `with` blocks are open on this unit of work

    def __enter__(self) -> Self:
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
        self._site_seen = None
        self.users = UserRepository(connection, saw_site=self._saw_site)
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
        self.client_counts = ClientCounters(connection)
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

    def reading(self) -> Self:
        """Use this unit of work for reads only (no write lock on SQLite); no effect once it is open."""
        if not self._depth:
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
        """The installation's settings, read once per transaction (through the process's cache when given)."""
        if self._site is None:
            cache = self._site_cache
            self._site = cache.current(self.site_settings, seen=self._site_seen) if cache else self.site_settings.load()
        return self._site

    def _saw_site(self, version: tuple[int, str | None]) -> None:
        self._site_seen = version

    def commit(self) -> None:
        """Commit, unless this block joined an outer one: then the outer block commits or rolls back.

        The clients' stage moves go to client_counts last (their row locks are held only for the
        commit itself)."""
        if self._depth > 1:
            return
        counts.apply(self.connection, self.accounts.count_changes.take(), self.accounts.known_lineages)
        self._transaction.commit()

    def rollback(self) -> None:
        self._transaction.rollback()
