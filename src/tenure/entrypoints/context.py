"""The composition root: the one entry-point module that builds adapters.db objects.

Every other entry point (routes, pages, the CLI, the worker) asks this module for an
engine or a unit of work, and hands the unit of work to services typed against
`services.unit_of_work.UnitOfWork`; import-linter's contract in pyproject.toml keeps
`tenure.adapters.db` out of the rest of `entrypoints` (issue 15 §4).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from tenure.adapters.clock import Clock
from tenure.adapters.db.batch import BatchUnitOfWork
from tenure.adapters.db.engine import make_engine
from tenure.adapters.db.entitlements import AsyncLookups
from tenure.adapters.db.migrate import upgrade
from tenure.adapters.db.site import SiteCache
from tenure.adapters.db.statements import runner_for
from tenure.adapters.db.uow import UnitOfWork
from tenure.adapters.destinations import DestinationGuard
from tenure.adapters.phone import E164Numbers
from tenure.adapters.secret_box import SecretBox
from tenure.config import Settings, load_settings
from tenure.services.hot_path import HotPath


def engine_for(database_url: str) -> Engine:
    """The engine for a database URL (pool, pragmas and dialect settings in `adapters.db.engine`)."""
    return make_engine(database_url)


def configured_engine() -> Engine:
    """The engine for the database named by the settings (environment): what the CLI uses."""
    return engine_for(load_settings().database_url)


def unit_of_work(engine: Engine) -> UnitOfWork:
    """A new SQLAlchemy unit of work on `engine` (it satisfies `services.unit_of_work.UnitOfWork`)."""
    return UnitOfWork(engine)


def batch_unit_of_work(engine: Engine) -> BatchUnitOfWork:
    """The unit of work of a bulk request: one transaction, a savepoint per item."""
    return BatchUnitOfWork(engine)


def secret_box(secret_key: str) -> SecretBox:
    """The box NAS secrets are sealed in (Fernet, key derived from `secret_key`): `services.ports.SecretBoxes`."""
    return SecretBox(secret_key)


def phone_numbers() -> E164Numbers:
    """Phone numbers to E.164 (`services.ports.PhoneNumbers`), for entry points without an `AppContext`."""
    return E164Numbers()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    upgrade(engine)


@dataclass
class AppContext:
    engine: Engine
    clock: Clock
    settings: Settings
    destinations: DestinationGuard = field(default_factory=DestinationGuard)
    numbers: E164Numbers = field(default_factory=E164Numbers)  # services.ports.PhoneNumbers
    hot_path: HotPath = field(init=False)
    site_cache: SiteCache = field(default_factory=SiteCache)  # parsed settings, per process, by `site.version`

    def __post_init__(self) -> None:
        self.hot_path = HotPath(self.uow, AsyncLookups(runner_for(self.engine)), self.clock, self.numbers)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine, site_cache=self.site_cache)

    def batch_uow(self) -> BatchUnitOfWork:
        return BatchUnitOfWork(self.engine)
