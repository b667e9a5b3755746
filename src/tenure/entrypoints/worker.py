"""`tenure worker`: applies due scheduled changes, then delivers the outbox."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import structlog
from sqlalchemy import Engine

from tenure.adapters.clock import Clock, FixedClock, SystemClock
from tenure.adapters.db.uow import UnitOfWork
from tenure.config import Settings
from tenure.services.scheduler import apply_due_changes

log = structlog.get_logger()
INTERVAL_SECONDS = 5.0


def one_pass(engine: Engine, settings: Settings, clock: Clock) -> None:
    result = apply_due_changes(lambda: UnitOfWork(engine), now=clock.now())
    if result.activated or result.decommissioned or result.refused:
        log.info(
            "scheduled changes applied",
            activated=len(result.activated),
            decommissioned=len(result.decommissioned),
            refused=len(result.refused),
        )


def run_worker(engine: Engine, settings: Settings, *, once: bool, as_of: datetime | None) -> None:
    clock: Clock = FixedClock(as_of) if as_of else SystemClock()
    while True:
        one_pass(engine, settings, clock)
        if once:
            return
        time.sleep(INTERVAL_SECONDS)


def start_background_worker(engine: Engine, settings: Settings) -> threading.Thread:
    """The worker inside `tenure serve` (the default on SQLite)."""

    def loop() -> None:
        while True:
            try:
                one_pass(engine, settings, SystemClock())
            except Exception:  # the server must outlive a failed pass; the next pass retries
                log.exception("worker pass failed")
            time.sleep(INTERVAL_SECONDS)

    thread = threading.Thread(target=loop, name="tenure-worker", daemon=True)
    thread.start()
    return thread
