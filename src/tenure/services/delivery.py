"""Delivering the outbox: emails and webhooks leave only from here, after their change committed.

A pass first expands pending cascade jobs (services/cascades.py) into their notices.

At least once, never lost: a notice is marked done only after the SMTP
server or the endpoint accepted it, in the same transaction that claimed it
(PostgreSQL) or right after (SQLite, one worker at a time). A worker that dies
mid-batch leaves its rows pending, and the next one sends them again; a
webhook keeps its `webhook-id` across those attempts so receivers can
de-duplicate. Without a crash nothing is sent twice: claimed rows are locked
(SKIP LOCKED) or, on SQLite, owned by the only worker.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tenure.services.cascades import CASCADE_BATCH, expand_cascades
from tenure.services.disconnect_delivery import send_due_disconnects
from tenure.services.email_delivery import send_due_emails
from tenure.services.outbox_batches import DeliveryReport, NewUow, late
from tenure.services.ports import DisconnectSender, EmailWriter, Mailer, SecretBoxes, WebhookSender
from tenure.services.webhook_delivery import dispatch_events, send_due_webhooks

__all__ = ["Channels", "DeliveryReport", "deliver_due"]


@dataclass(frozen=True)
class Channels:
    """The senders a pass delivers through; the worker builds them from adapters/ (and the NAS secrets box)."""

    mailer: Mailer
    sender: WebhookSender
    mail_from: str
    radius: DisconnectSender
    boxes: SecretBoxes  # opens the NAS secrets the disconnects are signed with
    writer: EmailWriter  # writes each email from its template when it leaves
    secret_key: str | None = None  # TENURE_SECRET_KEY, to open NAS secrets (else the one in the database)
    cascade_batch: int = CASCADE_BATCH  # TENURE_CASCADE_BATCH: accounts per cascade expansion transaction


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
    # Cascades first: their notices then leave in this same pass.
    report.cascade_batches, cascades_done = expand_cascades(
        new_uow, now=now, deadline=deadline, batch=channels.cascade_batch
    )
    with new_uow().reading() as uow:
        zone = uow.site.timezone
    emails_done = await send_due_emails(
        new_uow,
        channels.mailer,
        channels.writer,
        channels.mail_from,
        report,
        now=now,
        zone=zone,
        deadline=deadline,
        jitter=jitter,
    )
    dispatch_events(new_uow, report, now=now, deadline=deadline)
    async with channels.sender.session():
        webhooks_done = await send_due_webhooks(
            new_uow, channels.sender, report, now=now, deadline=deadline, jitter=jitter
        )
    # pyrad blocks; nothing else runs on this loop meanwhile, so the pass simply waits for it.
    disconnects_done = send_due_disconnects(
        new_uow,
        channels.radius,
        report,
        boxes=channels.boxes,
        secret_key=channels.secret_key,
        now=now,
        deadline=deadline,
        jitter=jitter,
    )
    report.finished = cascades_done and emails_done and webhooks_done and disconnects_done and not late(deadline)
    return report
