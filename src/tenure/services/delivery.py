"""Delivering the outbox: emails and webhooks leave only from here, after their change committed.

At least once, never lost: a notice is marked done only after the SMTP
server or the endpoint accepted it, in the same transaction that claimed it
(PostgreSQL) or right after (SQLite, one worker at a time). A worker that dies
mid-batch leaves its rows pending, and the next one sends them again; a
webhook keeps its `webhook-id` across those attempts so receivers can
de-duplicate. Without a crash nothing is sent twice: claimed rows are locked
(SKIP LOCKED) or, on SQLite, owned by the only worker.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from tenure.adapters.db.deliveries import Change, DeliveryQueue
from tenure.adapters.db.engine import is_sqlite
from tenure.adapters.db.uow import UnitOfWork
from tenure.adapters.emails import Recipient, as_message, render
from tenure.adapters.smtp import Mailer, Outcome, SendResult
from tenure.adapters.webhooks import PostResult, WebhookMessage, WebhookSender
from tenure.domain.ids import new_id
from tenure.domain.retries import EMAIL_RETRIES, WEBHOOK_RETRIES

log = structlog.get_logger()
EMAIL_BATCH = 50
EVENT_BATCH = 500
DELIVERY_BATCH = 64  # = the sender's concurrency: a batch waits for at most one timeout
LEASE_SECONDS = 300  # longer than any batch can take: SMTP budget + timeouts, webhook timeout
NewUow = Callable[[], UnitOfWork]
Write = Callable[[DeliveryQueue], None]


@dataclass(frozen=True)
class Channels:
    mailer: Mailer
    sender: WebhookSender
    mail_from: str


@dataclass
class DeliveryReport:
    emails: Counter[str] = field(default_factory=Counter)  # outcome -> count
    webhooks: Counter[str] = field(default_factory=Counter)
    dispatched: int = 0
    finished: bool = True  # False when the pass stopped early (out of time, SMTP unreachable)


async def deliver_due(
    new_uow: NewUow,
    channels: Channels,
    *,
    now: datetime,
    deadline: float | None = None,
    jitter: Callable[[], float] = random.random,
) -> DeliveryReport:
    """Send every notice due at `now`, each at most once in this pass; stop at the monotonic `deadline`."""
    report = DeliveryReport()
    with new_uow().reading() as uow:
        zone = uow.site.timezone
    emails_done = await _emails(new_uow, channels, report, now=now, zone=zone, deadline=deadline, jitter=jitter)
    _dispatch(new_uow, report, now=now, deadline=deadline)
    async with channels.sender.session():
        webhooks_done = await _webhooks(new_uow, channels, report, now=now, deadline=deadline, jitter=jitter)
    report.finished = emails_done and webhooks_done and not _late(deadline)
    return report


@contextmanager
def _claimed(
    new_uow: NewUow, take: Callable[[DeliveryQueue], list[Any]]
) -> Iterator[tuple[list[Any], Callable[[Write], None]]]:
    """A batch of rows and a `finish(write)` that records the results.

    PostgreSQL: the rows stay locked in the claiming transaction until finish
    commits. SQLite: the read transaction ends before any network traffic, so
    the API is never kept waiting on the database lock while we talk to SMTP.
    """
    uow = new_uow()
    if is_sqlite(uow.engine):
        with uow.reading():
            rows = take(DeliveryQueue(uow.connection))

        def write_apart(write: Write) -> None:
            with new_uow() as writer:
                write(DeliveryQueue(writer.connection))
                writer.commit()

        yield rows, write_apart
        return
    with uow:
        queue = DeliveryQueue(uow.connection)
        queue.lease(LEASE_SECONDS)
        rows = take(queue)

        def write_here(write: Write) -> None:
            write(queue)
            uow.commit()

        yield rows, write_here


def _late(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


# -- emails ------------------------------------------------------------------
async def _emails(
    new_uow: NewUow,
    channels: Channels,
    report: DeliveryReport,
    *,
    now: datetime,
    zone: ZoneInfo,
    deadline: float | None,
    jitter: Callable[[], float],
) -> bool:
    while not _late(deadline):
        with _claimed(new_uow, lambda q: q.due_emails(now, EMAIL_BATCH)) as (rows, finish):
            if not rows:
                return True
            prepared = [_prepare(row, channels.mail_from, zone) for row in rows]
            sendable = [m for m in prepared if isinstance(m, Message)]
            sent = iter(await channels.mailer.send_all(sendable))
            results = [next(sent) if isinstance(m, Message) else m for m in prepared]
            changes = [_email_change(row, result, now, jitter) for row, result in zip(rows, results, strict=True)]
            finish(partial(DeliveryQueue.record_emails, changes=[c for c in changes if c is not None]))
        for row, result in zip(rows, results, strict=True):
            report.emails[result.outcome.value] += 1
            _log_email(row, result)
        if not any(r.outcome in (Outcome.SENT, Outcome.LOGGED, Outcome.REFUSED) for r in results):
            log.warning("email delivery paused until the next pass: the SMTP server is not accepting mail")
            return False
    return False


def _prepare(row: Any, sender: str, zone: ZoneInfo) -> Message | SendResult:
    recipient = Recipient(row.account_id, row.name, row.kind, row.billing_ref, row.contact_name, row.recipient)
    try:
        rendered = render(row.topic, recipient, dict(row.payload), queued_on=row.created_at.astimezone(zone).date())
    except Exception as error:  # a notice that can never be rendered must not block the queue
        return SendResult(Outcome.REFUSED, f"cannot render the {row.topic!r} email: {error}")
    domain = sender.rpartition("@")[2] or "localhost"
    message_id = f"<tenure.{row.id}.{int(row.created_at.timestamp())}@{domain}>"
    return as_message(rendered, sender=sender, message_id=message_id)


def _email_change(row: Any, result: SendResult, now: datetime, jitter: Callable[[], float]) -> Change | None:
    attempts = row.attempts + 1
    if result.outcome in (Outcome.SENT, Outcome.LOGGED):
        return Change(row.id, result.outcome.value, attempts, now, None, now)
    if result.outcome is Outcome.REFUSED:
        return Change(row.id, "failed", attempts, now, result.detail, None)
    if result.outcome is Outcome.DEFERRED:
        return None
    following = EMAIL_RETRIES.next_attempt(attempts=attempts, queued_at=row.created_at, now=now, jitter=jitter())
    if following is None:
        return Change(row.id, "failed", attempts, now, result.detail, None)
    return Change(row.id, "pending", attempts, following, result.detail, None)


def _log_email(row: Any, result: SendResult) -> None:
    fields = {"outbox_id": row.id, "template": row.topic, "to": row.recipient, "attempt": row.attempts + 1}
    if result.outcome in (Outcome.SENT, Outcome.LOGGED):
        log.info("email delivered", outcome=result.outcome.value, **fields)
    elif result.outcome is not Outcome.DEFERRED:
        log.warning("email not delivered", outcome=result.outcome.value, error=result.detail, **fields)


# -- webhooks ----------------------------------------------------------------
def _dispatch(new_uow: NewUow, report: DeliveryReport, *, now: datetime, deadline: float | None) -> None:
    """Turn each due webhook event into one delivery per subscribed endpoint (none: the event is done)."""
    while not _late(deadline):
        with _claimed(new_uow, lambda q: q.due_webhook_events(now, EVENT_BATCH)) as (rows, finish):
            if not rows:
                return
            finish(lambda q: _fan_out(q, rows, now))
        report.dispatched += len(rows)


def _fan_out(queue: DeliveryQueue, events: Sequence[Any], now: datetime) -> None:
    subscriptions: dict[str, list[Any]] = {}
    for subscription in queue.subscriptions_for([e.account_id for e in events]):
        subscriptions.setdefault(subscription.account_id, []).append(subscription)
    deliveries = []
    for event in events:
        message_id = f"msg_{new_id()}"  # one per event: the same on every attempt and every endpoint
        for subscription in subscriptions.get(event.account_id, []):
            if event.topic in subscription.events and subscription.created_at <= event.created_at:
                deliveries.append(
                    {
                        "webhook_id": subscription.webhook_id,
                        "outbox_id": event.id,
                        "message_id": message_id,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
    queue.add_deliveries(deliveries)
    queue.mark_dispatched([e.id for e in events], now)


def webhook_body(topic: str, account_id: str, payload: dict[str, Any], occurred_at: datetime) -> str:
    """`{"type", "timestamp", "data": {"account_id", …}}`: built from the stored row, identical on every attempt."""
    data = {"account_id": account_id, **payload}
    stamp = occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({"type": topic, "timestamp": stamp, "data": data}, separators=(",", ":"), sort_keys=True)


async def _webhooks(
    new_uow: NewUow,
    channels: Channels,
    report: DeliveryReport,
    *,
    now: datetime,
    deadline: float | None,
    jitter: Callable[[], float],
) -> bool:
    failing: set[str] = set()  # endpoints that did not answer in this pass: their other deliveries wait
    while not _late(deadline):
        with _claimed(new_uow, lambda q: q.due_deliveries(now, DELIVERY_BATCH)) as (rows, finish):
            if not rows:
                return True
            results = await _post(channels.sender, rows, failing)
            failing.update(r.webhook_id for r, result in zip(rows, results, strict=True) if result.unreachable)
            changes = [_delivery_change(r, result, now, jitter) for r, result in zip(rows, results, strict=True)]
            finish(partial(DeliveryQueue.record_deliveries, changes=changes))
        for row, result, change in zip(rows, results, changes, strict=True):
            report.webhooks[change.status] += 1
            _log_delivery(row, result, change)
    return False


async def _post(sender: WebhookSender, rows: Sequence[Any], failing: set[str]) -> list[PostResult]:
    """Post every row at once (a batch costs at most one timeout), except to endpoints already failing."""
    skipped = PostResult(False, "not sent: the endpoint did not answer earlier in this pass")
    to_send = [r for r in rows if r.webhook_id not in failing]
    messages = [
        WebhookMessage(
            r.url, r.secret, r.message_id, webhook_body(r.topic, r.account_id, dict(r.payload), r.occurred_at)
        )
        for r in to_send
    ]
    sent = iter(await sender.post_all(messages))
    return [skipped if r.webhook_id in failing else next(sent) for r in rows]


def _delivery_change(row: Any, result: PostResult, now: datetime, jitter: Callable[[], float]) -> Change:
    attempts = row.attempts + 1
    if result.ok:
        return Change(row.id, "delivered", attempts, now, None, now)
    following = WEBHOOK_RETRIES.next_attempt(attempts=attempts, queued_at=row.created_at, now=now, jitter=jitter())
    if following is None:
        return Change(row.id, "failed", attempts, now, result.detail, None)
    return Change(row.id, "pending", attempts, following, result.detail, None)


def _log_delivery(row: Any, result: PostResult, change: Change) -> None:
    fields = {
        "delivery_id": row.id,
        "webhook_id": row.webhook_id,
        "webhook_message_id": row.message_id,
        "event_type": row.topic,
        "url": row.url,
        "attempt": change.attempts,
    }
    if result.ok:
        log.info("webhook delivered", status=result.status_code, **fields)
    elif change.status == "failed":
        log.error("webhook failed for good after 24 hours of retries", error=result.detail, **fields)
    else:
        log.warning(
            "webhook attempt failed", error=result.detail, retry_at=change.next_attempt_at.isoformat(), **fields
        )
