"""`tenure worker`: applies due scheduled changes, then delivers the outbox.

One pass = every due change (each in its own transaction), then every due
email and webhook. The loop runs a pass every few seconds; a pass's delivery
is cut short after DELIVERY_BUDGET_SECONDS so a backlog never delays the next
day's scheduled changes. `--once` runs one pass to the end and exits. On
SQLite passes take turns through the worker lock; on PostgreSQL any number of
workers run side by side.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Engine

from tenure.adapters.clock import Clock, FixedClock, SystemClock
from tenure.adapters.destinations import DestinationGuard
from tenure.adapters.emails import JinjaEmails
from tenure.adapters.radius.disconnect import DisconnectSender
from tenure.adapters.smtp import mailer_for
from tenure.adapters.webhooks import WebhookSender
from tenure.adapters.worker_lock import WorkerLock
from tenure.config import Settings
from tenure.entrypoints import worker_metrics
from tenure.entrypoints.context import secret_box, unit_of_work
from tenure.services import retention
from tenure.services.delivery import Channels, DeliveryReport, deliver_due
from tenure.services.read_models import NotInitialised
from tenure.services.scheduler import PassResult, apply_due_changes
from tenure.services.unit_of_work import UnitOfWork

log = structlog.get_logger()
INTERVAL_SECONDS = 5.0
DELIVERY_BUDGET_SECONDS = 30.0
PRUNE_EVERY = timedelta(days=1)


def retention_of(settings: Settings) -> timedelta:
    return timedelta(days=settings.retention_days)


def channels_for(settings: Settings) -> Channels:
    sender = WebhookSender(destinations=DestinationGuard(settings.allowed_networks))
    return Channels(
        mailer_for(settings.smtp_url),
        sender,
        settings.mail_from,
        DisconnectSender(),
        secret_box,
        JinjaEmails(),
        secret_key=settings.secret_key,
        cascade_batch=settings.cascade_batch,
    )


@dataclass
class Worker:
    engine: Engine
    channels: Channels
    clock: Clock = field(default_factory=SystemClock)
    retention: timedelta | None = None  # prune finished notices older than this, once a day; None: never

    def __post_init__(self) -> None:
        self.lock = WorkerLock(self.engine)
        self.pruned_at: datetime | None = None

    def new_uow(self) -> UnitOfWork:
        return unit_of_work(self.engine)

    def one_pass(self, *, budget: float | None = None) -> tuple[PassResult, DeliveryReport]:
        """Apply due changes, then deliver; `budget` (seconds) bounds the delivery part."""
        with self.lock.held():
            changes = apply_due_changes(self.new_uow, now=self.clock.now())
            deadline = time.monotonic() + budget if budget is not None else None
            report = asyncio.run(deliver_due(self.new_uow, self.channels, now=self.clock.now(), deadline=deadline))
            self.prune_if_due()
        worker_metrics.count_pass(changes, report)
        if changes.activated or changes.decommissioned or changes.refused:
            log.info(
                "scheduled changes applied",
                activated=len(changes.activated),
                decommissioned=len(changes.decommissioned),
                refused=len(changes.refused),
            )
        if report.emails or report.webhooks or report.disconnects:
            log.info(
                "notices delivered",
                emails=dict(report.emails),
                webhooks=dict(report.webhooks),
                disconnects=dict(report.disconnects),
            )
        return changes, report

    def prune_if_due(self) -> None:
        """The daily retention task: the first pass of a worker prunes, then one pass a day."""
        now = self.clock.now()
        if self.retention is None or (self.pruned_at is not None and now - self.pruned_at < PRUNE_EVERY):
            return
        pruned = retention.prune(self.new_uow, older_than=self.retention, now=now)
        self.pruned_at = now
        if any(pruned.values()):
            log.info(
                "finished notices pruned",
                older_than_days=self.retention.days,
                **{k.value: n for k, n in pruned.items()},
            )

    def loop(self, stop: threading.Event | None = None) -> None:
        """Pass after pass until `stop` is set; a failed pass is logged and the next one retries."""
        stop = stop or threading.Event()
        while not stop.is_set():
            finished = True
            try:
                _, report = self.one_pass(budget=DELIVERY_BUDGET_SECONDS)
                finished = report.finished
            except NotInitialised as error:
                log.warning("worker waiting for the database to be initialised", detail=str(error))
            except Exception:  # the database may be briefly away: the next pass picks everything up
                log.exception("worker pass failed")
            if finished:
                stop.wait(INTERVAL_SECONDS)


def run_worker(engine: Engine, settings: Settings, *, once: bool, as_of: datetime | None) -> None:
    clock: Clock = FixedClock(as_of) if as_of else SystemClock()
    worker = Worker(engine, channels_for(settings), clock, retention_of(settings))
    if once:
        worker.one_pass()
    else:
        worker.loop()


def start_background_worker(
    engine: Engine, settings: Settings, *, stop: threading.Event | None = None
) -> threading.Thread:
    """The worker inside `tenure serve` (the default on SQLite); set `stop` to end it after its pass."""
    worker = Worker(engine, channels_for(settings), retention=retention_of(settings))
    thread = threading.Thread(target=worker.loop, args=(stop,), name="tenure-worker", daemon=True)
    thread.start()
    return thread
