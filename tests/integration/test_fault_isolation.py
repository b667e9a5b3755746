"""One bad row never stops delivery: a notice that cannot be built or sent fails alone, the pass goes on.

Each poison row sits between two good ones in the same batch, and is stored
the way old data or a bug could have stored it (straight into the table,
past today's input rules). Real SMTP (aiosmtpd) and HTTP receivers on 127.0.0.1.
"""

from __future__ import annotations

from sqlalchemy import select, update
from typer.testing import CliRunner

from tenure.adapters.db.tables import accounts, outbox, webhook_deliveries, webhooks
from tenure.adapters.destinations import DestinationGuard
from tenure.domain.model import HoldReason
from tenure.entrypoints.cli import app
from tenure.services import webhooks as webhook_service
from tests.receivers import http_receiver, smtp_server
from tests.support import Installation
from tests.worker_support import outbox_rows, worker_for


def _three_clients_suspended(site: Installation) -> None:
    channel = site.channel(email="boss@north.example")
    site.client(channel.id, "First Ltd", email="first@example.com")
    poison = site.client(channel.id, "Poison Ltd", email="poison@example.com")
    site.client(channel.id, "Third Ltd", email="third@example.com")
    with site.engine.begin() as connection:
        connection.execute(update(accounts).where(accounts.c.id == poison.id).values(name="Acme\nX: y"))
    site.suspend(channel.id, HoldReason.NON_PAYMENT)
    site.fan_out()  # the channel's cascade expanded (the worker's first step), so its rows can be spoiled


def test_a_line_break_in_a_stored_name_cannot_add_a_header_and_every_email_leaves(site: Installation) -> None:
    _three_clients_suspended(site)
    with smtp_server() as (sink, url):
        worker_for(site, url).one_pass()
    assert {r.recipients[0] for r in sink.received} == {
        "boss@north.example",
        "first@example.com",
        "poison@example.com",
        "third@example.com",
    }
    (mail,) = sink.to("poison@example.com")
    assert mail.subject == "Acme X: y: services suspended"
    assert mail.message["X"] is None  # the name did not become a header
    assert {r.status for r in outbox_rows(site, kind="email")} == {"sent"}


def test_an_email_that_cannot_be_written_fails_alone_and_the_rest_are_sent(site: Installation) -> None:
    _three_clients_suspended(site)
    with site.engine.begin() as connection:
        connection.execute(
            update(outbox)
            .where(outbox.c.recipient == "poison@example.com")
            .values(recipient="poison@example.com\nBcc: everyone@example.com")
        )
    with smtp_server() as (sink, url):
        worker_for(site, url).one_pass()
    assert sink.to("first@example.com") and sink.to("third@example.com") and sink.to("boss@north.example")
    assert not sink.to("everyone@example.com")
    (poison,) = [r for r in outbox_rows(site, kind="email") if r.recipient.startswith("poison@")]
    assert poison.status == "failed" and poison.attempts == 1
    assert "cannot" in poison.last_error
    assert {r.status for r in outbox_rows(site, kind="email") if r.id != poison.id} == {"sent"}


def test_a_webhook_that_cannot_be_signed_fails_alone_and_the_others_are_delivered(site: Installation) -> None:
    client = site.client()
    with http_receiver() as receiver:
        hook_ids = [
            webhook_service.create_webhook(
                site.uow(),
                caller=site.admin,
                request=webhook_service.CreateWebhook(url=f"{receiver.url}/{path}", events=["account.suspended"]),
                now=site.now,
                destinations=DestinationGuard(),
            ).id
            for path in ("first", "poison", "third")
        ]
        with site.engine.begin() as connection:
            connection.execute(update(webhooks).where(webhooks.c.id == hook_ids[1]).values(secret="whsec_!!not-base64"))
        site.suspend(client.id)
        worker_for(site).one_pass()
        assert len(receiver.on("/first")) == 1 and len(receiver.on("/third")) == 1
        assert not receiver.on("/poison")
    with site.engine.connect() as connection:
        deliveries = {d.webhook_id: d for d in connection.execute(select(webhook_deliveries))}
    assert deliveries[hook_ids[0]].status == deliveries[hook_ids[2]].status == "delivered"
    poisoned = deliveries[hook_ids[1]]
    assert poisoned.status == "pending" and poisoned.attempts == 1  # retried on the usual schedule
    assert "cannot post" in poisoned.last_error


def test_the_issue_as_reported_tenure_worker_once_with_smtp_sends_every_email(site: Installation) -> None:
    """Issue 10's reproduction: a client named "Acme\\nX: y", suspended, then `tenure worker --once`."""
    _three_clients_suspended(site)
    database = site.engine.url.render_as_string(hide_password=False)
    with smtp_server() as (sink, url):
        result = CliRunner().invoke(
            app, ["worker", "--once"], env={"TENURE_DATABASE_URL": database, "TENURE_SMTP_URL": url}
        )
        assert result.exit_code == 0, result.output
    assert len(sink.received) == 4
    assert {r.status for r in outbox_rows(site, kind="email")} == {"sent"}
