"""What every entry point is handed: the database, the clock and the settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from tenure.adapters.clock import Clock
from tenure.adapters.db.uow import UnitOfWork
from tenure.adapters.destinations import DestinationGuard
from tenure.config import Settings


@dataclass
class AppContext:
    engine: Engine
    clock: Clock
    settings: Settings
    destinations: DestinationGuard = field(default_factory=DestinationGuard)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine)
