"""What every entry point is handed: the database, the clock and the settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from tenure.adapters.clock import Clock
from tenure.adapters.db.site import SiteCache
from tenure.adapters.db.statements import runner_for
from tenure.adapters.db.uow import UnitOfWork
from tenure.adapters.destinations import DestinationGuard
from tenure.config import Settings
from tenure.services.hot_path import HotPath


@dataclass
class AppContext:
    engine: Engine
    clock: Clock
    settings: Settings
    destinations: DestinationGuard = field(default_factory=DestinationGuard)
    hot_path: HotPath = field(init=False)
    site_cache: SiteCache = field(default_factory=SiteCache)  # parsed settings, per process, by `site.version`

    def __post_init__(self) -> None:
        self.hot_path = HotPath(self.uow, runner_for(self.engine), self.clock)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine, site_cache=self.site_cache)
