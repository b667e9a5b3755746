"""Webhooks from the outbox: one delivery per subscribed endpoint, posted signed, retried for 24 hours.

Each event is fanned out once to the subscriptions on its account or above
(a subscription hears its subtree), with one `webhook-id` that every attempt
to every endpoint repeats. A batch is posted all at once, so it waits for at
most one timeout; an endpoint that does not answer is left alone for the rest
of the pass, so it never holds up the others.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

import structlog

from tenure.domain.destinations import redact
from tenure.domain.ids import cascade_message_id, new_id
from tenure.domain.retries import WEBHOOK_RETRIES
from tenure.services.cascades import shared_payload
from tenure.services.outbox_batches import DeliveryReport, NewUow, claimed, late
from tenure.services.ports import PostResult, WebhookMessage, WebhookSender
from tenure.services.read_models import Change
from tenure.services.unit_of_work import DeliveryQueue

log = structlog.get_logger()
EVENT_BATCH = 500
DELIVERY_BATCH = 64  # = the sender's concurrency: a batch waits for at most one timeout


def dispatch_events(new_uow: NewUow, report: DeliveryReport, *, now: datetime, deadline: float | None) -> None:
    """Turn each due webhook event into one delivery per subscribed endpoint (none: the event is done)."""
    while not late(deadline):
        with claimed(new_uow, lambda q: q.due_webhook_events(now, EVENT_BATCH)) as (rows, finish):
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
        message_id = _message_id(event)  # one per event: the same on every attempt and every endpoint
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


def _message_id(event: Any) -> str:
    """A new id per event; for a cascade's notice, derived from the job and the account.

    So an expansion repeated after a crash (which writes the rows again) gives the same `webhook-id`.
    """
    if event.cascade_id is not None:
        return cascade_message_id(int(event.cascade_id), event.account_id)
    return f"msg_{new_id()}"


def webhook_body(topic: str, account_id: str, payload: dict[str, Any], occurred_at: datetime) -> str:
    """`{"type", "timestamp", "data": {"account_id", …}}`: built from the stored row, identical on every attempt."""
    data = {"account_id": account_id, **payload}
    stamp = occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({"type": topic, "timestamp": stamp, "data": data}, separators=(",", ":"), sort_keys=True)


async def send_due_webhooks(
    new_uow: NewUow,
    sender: WebhookSender,
    report: DeliveryReport,
    *,
    now: datetime,
    deadline: float | None,
    jitter: Callable[[], float],
) -> bool:
    """Post due deliveries batch by batch; True when none is left due, False when out of time."""
    failing: set[str] = set()  # endpoints that did not answer in this pass: their other deliveries wait
    while not late(deadline):
        with claimed(new_uow, lambda q: q.due_deliveries(now, DELIVERY_BATCH)) as (rows, finish):
            if not rows:
                return True
            results = await _post(sender, rows, failing)
            failing.update(r.webhook_id for r, result in zip(rows, results, strict=True) if result.unreachable)
            changes = [_delivery_change(r, result, now, jitter) for r, result in zip(rows, results, strict=True)]
            finish(partial(_record_deliveries, changes=changes))
        for row, result, change in zip(rows, results, changes, strict=True):
            report.webhooks[change.status] += 1
            _log_delivery(row, result, change)
    return False


async def _post(sender: WebhookSender, rows: Sequence[Any], failing: set[str]) -> list[PostResult]:
    """Post every row at once (a batch costs at most one timeout), except to endpoints already failing."""
    skipped = PostResult(False, "not sent: the endpoint did not answer earlier in this pass")
    prepared = [skipped if r.webhook_id in failing else _message(r) for r in rows]
    messages = [m for m in prepared if isinstance(m, WebhookMessage)]
    sent = iter(await sender.post_all(messages))
    return [next(sent) if isinstance(m, WebhookMessage) else m for m in prepared]


def _message(row: Any) -> WebhookMessage | PostResult:
    """The signed-to-be message for one row, or why it cannot be built (that delivery alone fails)."""
    try:
        payload = shared_payload("webhook", row.payload, row.shared)
        body = webhook_body(row.topic, row.account_id, payload, row.occurred_at)
        return WebhookMessage(row.url, row.secret, row.message_id, body, public_only=bool(row.public_only))
    except Exception as error:  # one bad row must never stop the queue
        return PostResult(False, f"cannot build the webhook: {type(error).__name__}: {error}")


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
        "url": redact(row.url),  # credentials in a URL are never logged
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


def _record_deliveries(queue: DeliveryQueue, changes: Sequence[Change]) -> None:
    queue.record_deliveries(changes)
