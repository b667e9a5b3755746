"""The worker's Prometheus metrics (issue 4 "Observability"), on the shared `/metrics`.

Counters are kept by the process that runs the worker (`serve --with-worker`,
or `tenure worker --metrics-port`). The backlog gauges are read from the
database at scrape time, so any API process shows the queue of every worker:
how many notices wait, and how old the oldest one is.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from prometheus_client import REGISTRY, Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from tenure.adapters.clock import Clock, SystemClock
from tenure.domain.radius import SessionState
from tenure.entrypoints.context import unit_of_work
from tenure.services.delivery import DeliveryReport
from tenure.services.read_models import NotInitialised
from tenure.services.scheduler import PassResult

CHANGES_APPLIED = Counter("tenure_worker_changes_applied_total", "Scheduled changes the worker applied", ["change"])
CHANGES_REFUSED = Counter("tenure_worker_changes_refused_total", "Due scheduled changes the rules refused")
ATTEMPTS = Counter(
    "tenure_notice_attempts_total",
    "Delivery attempts of emails, webhooks and RADIUS disconnects, by outcome",
    ["channel", "outcome"],
)
FAILURES = Counter("tenure_notice_failures_total", "Notices given up on (refused for good or retried out)", ["channel"])
DISPATCHED = Counter("tenure_webhook_events_dispatched_total", "Webhook events fanned out to their subscriptions")


def count_pass(changes: PassResult, report: DeliveryReport) -> None:
    CHANGES_APPLIED.labels("activated").inc(len(changes.activated))
    CHANGES_APPLIED.labels("decommissioned").inc(len(changes.decommissioned))
    CHANGES_REFUSED.inc(len(changes.refused))
    for outcome, count in report.emails.items():
        if outcome != "deferred":
            ATTEMPTS.labels("email", outcome).inc(count)
    FAILURES.labels("email").inc(report.emails.get("refused", 0))
    for status, count in report.webhooks.items():
        ATTEMPTS.labels("webhook", status).inc(count)
    FAILURES.labels("webhook").inc(report.webhooks.get("failed", 0))
    for status, count in report.disconnects.items():
        ATTEMPTS.labels("radius", status).inc(count)
    FAILURES.labels("radius").inc(report.disconnects.get("failed", 0))
    DISPATCHED.inc(report.dispatched)


class _DatabaseCollector(Collector):
    """A collector read from the database when scraped; silent until `engine` is set (at startup)."""

    def __init__(self) -> None:
        self.engine: Engine | None = None

    def describe(self) -> Iterable[Metric]:
        return []  # nothing to describe ahead of a scrape: the families depend on the database


class BacklogCollector(_DatabaseCollector):
    """`tenure_outbox_depth` and `tenure_outbox_oldest_undelivered_seconds`, per queue, read when scraped."""

    def collect(self) -> Iterator[Metric]:
        if self.engine is None:
            return
        try:
            with unit_of_work(self.engine).reading() as uow:
                backlog = uow.deliveries.backlog()
                sessions = uow.radius.counts_by_state()
        except SQLAlchemyError:
            return  # not initialised or unreachable: /readyz says so, /metrics stays up
        depth = GaugeMetricFamily("tenure_outbox_depth", "Notices waiting to be delivered", labels=["queue"])
        age = GaugeMetricFamily(
            "tenure_outbox_oldest_undelivered_seconds", "Age of the oldest notice still waiting", labels=["queue"]
        )
        now = time.time()
        for queue, (count, oldest) in backlog.items():
            depth.add_metric([queue], count)
            age.add_metric([queue], max(0.0, now - oldest.timestamp()) if oldest else 0.0)
        yield depth
        yield age
        states = GaugeMetricFamily(
            "tenure_radius_sessions", "RADIUS sessions by state (failed: a disconnect never answered)", labels=["state"]
        )
        for state in SessionState:
            states.add_metric([state.value], sessions.get(state.value, 0))
        yield states


class StuckCollector(_DatabaseCollector):
    """`tenure_stuck_decommissions`: partners whose due decommission the worker refuses (issue 10).

    The worker only logs each refusal; this gauge lets an alert say that a
    person must decommission the children, or cancel the partner's decommission.
    """

    def __init__(self) -> None:
        super().__init__()
        self.clock: Clock = SystemClock()

    def collect(self) -> Iterator[Metric]:
        if self.engine is None:
            return
        try:
            with unit_of_work(self.engine).reading() as uow:
                zone = uow.site.timezone
                stuck = uow.accounts.stuck_decommissions(self.clock.now().astimezone(zone).date())
        except (SQLAlchemyError, NotInitialised):
            return
        yield GaugeMetricFamily(
            "tenure_stuck_decommissions",
            "Partners whose scheduled decommission is due but refused because children remain",
            value=stuck,
        )


BACKLOG = BacklogCollector()
REGISTRY.register(BACKLOG)
STUCK = StuckCollector()
REGISTRY.register(STUCK)


def observe(engine: Engine, clock: Clock | None = None) -> None:
    """Report the backlog and stuck decommissions of this database on /metrics (the latest app created wins)."""
    BACKLOG.engine = engine
    STUCK.engine, STUCK.clock = engine, clock or SystemClock()
