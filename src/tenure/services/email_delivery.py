"""Emails from the outbox: rendered at send time, sent over SMTP (or to the log), each outcome recorded.

A 5xx answer fails the notice for good with the server's reason; anything
else (a 4xx, a timeout, a server that is down) is retried with capped
backoff, for as long as it takes. When the server accepts nothing, the pass
stops sending email and the rest wait for the next pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from email.message import Message
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from tenure.domain.retries import EMAIL_RETRIES
from tenure.services.cascades import shared_payload
from tenure.services.outbox_batches import DeliveryReport, NewUow, claimed, late
from tenure.services.ports import EmailWriter, Mailer, Outcome, Recipient, SendResult
from tenure.services.read_models import Change
from tenure.services.unit_of_work import DeliveryQueue

log = structlog.get_logger()
EMAIL_BATCH = 50


async def send_due_emails(
    new_uow: NewUow,
    mailer: Mailer,
    writer: EmailWriter,
    mail_from: str,
    report: DeliveryReport,
    *,
    now: datetime,
    zone: ZoneInfo,
    deadline: float | None,
    jitter: Callable[[], float],
) -> bool:
    """Send due emails batch by batch; True when none is left due, False when stopped early."""
    while not late(deadline):
        with claimed(new_uow, lambda q: q.due_emails(now, EMAIL_BATCH)) as (rows, finish):
            if not rows:
                return True
            prepared = [_prepare(writer, row, mail_from, zone) for row in rows]
            sendable = [m for m in prepared if isinstance(m, Message)]
            sent = iter(await mailer.send_all(sendable))
            results = [next(sent) if isinstance(m, Message) else m for m in prepared]
            changes = [_email_change(row, result, now, jitter) for row, result in zip(rows, results, strict=True)]
            finish(partial(_record_emails, changes=[c for c in changes if c is not None]))
        for row, result in zip(rows, results, strict=True):
            report.emails[result.outcome.value] += 1
            _log_email(row, result)
        if not any(r.outcome in (Outcome.SENT, Outcome.LOGGED, Outcome.REFUSED) for r in results):
            log.warning("email delivery paused until the next pass: the SMTP server is not accepting mail")
            return False
    return False


def _prepare(writer: EmailWriter, row: Any, sender: str, zone: ZoneInfo) -> Message | SendResult:
    """The message for one row, or its failure: a notice that can never be built fails alone."""
    try:
        recipient = Recipient(row.account_id, row.name, row.kind, row.billing_ref, row.contact_name, row.recipient)
        payload = shared_payload("email", row.payload, row.shared)
        queued_on = row.created_at.astimezone(zone).date()
        domain = sender.rpartition("@")[2] or "localhost"
        message_id = f"<tenure.{row.id}.{int(row.created_at.timestamp())}@{domain}>"
        return writer.message(row.topic, recipient, payload, queued_on=queued_on, sender=sender, message_id=message_id)
    except Exception as error:  # one bad row must never stop the queue: it fails, the rest go on
        return SendResult(Outcome.REFUSED, f"cannot build the {row.topic!r} email: {type(error).__name__}: {error}")


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


def _record_emails(queue: DeliveryQueue, changes: Sequence[Change]) -> None:
    queue.record_emails(changes)
