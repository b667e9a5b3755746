"""Running the worker from tests: in-process passes over a test installation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tenure.adapters.db.tables import outbox
from tenure.adapters.destinations import DestinationGuard
from tenure.adapters.emails import JinjaEmails
from tenure.adapters.radius.disconnect import DisconnectSender
from tenure.adapters.secret_box import SecretBox
from tenure.adapters.smtp import LogMailer, SmtpMailer
from tenure.adapters.webhooks import WebhookSender
from tenure.entrypoints.worker import Worker
from tenure.services.delivery import Channels
from tests.support import Installation

MAIL_FROM = "tenure@meridian.example"


def worker_for(
    site: Installation,
    smtp_url: str | None = None,
    *,
    webhook_timeout: float = 5.0,
    destinations: DestinationGuard | None = None,
) -> Worker:
    """A worker over the test installation; `destinations` replaces the default (no allowed networks, real DNS)."""
    mailer = SmtpMailer.from_url(smtp_url, timeout=5.0) if smtp_url else LogMailer()
    sender = WebhookSender(timeout=webhook_timeout, destinations=destinations)
    return Worker(
        site.engine, Channels(mailer, sender, MAIL_FROM, DisconnectSender(), SecretBox, JinjaEmails()), site.clock
    )


def outbox_rows(site: Installation, **where: Any) -> list[Any]:
    query = select(outbox).order_by(outbox.c.id)
    for column, value in where.items():
        query = query.where(outbox.c[column] == value)
    with site.engine.connect() as connection:
        return list(connection.execute(query))
