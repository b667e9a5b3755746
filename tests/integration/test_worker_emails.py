"""Emails leave from the outbox through a real SMTP server (aiosmtpd on 127.0.0.1), on both databases."""

from __future__ import annotations

from datetime import timedelta

from tenure.domain.model import HoldReason
from tests.receivers import MailSink, free_port, smtp_server
from tests.support import Installation
from tests.worker_support import MAIL_FROM, outbox_rows, worker_for


def test_a_channel_suspension_emails_every_client_and_the_channel_with_both_parts(site: Installation) -> None:
    channel = site.channel(name="North Sales", email="boss@north.example")
    acme = site.client(channel.id, "Acme Ltd", email="ops@acme.example")
    site.client(channel.id, "Beta Co", email="it@beta.example")
    site.suspend(channel.id, HoldReason.NON_PAYMENT)
    with smtp_server() as (sink, url):
        worker_for(site, url).one_pass()
    assert sorted(r.recipients[0] for r in sink.received) == [
        "boss@north.example",
        "it@beta.example",
        "ops@acme.example",
    ]
    (mail,) = sink.to("ops@acme.example")
    assert mail.subject == "Acme Ltd: services suspended"
    assert mail.message["From"] == MAIL_FROM
    text, html = mail.part("plain"), mail.part("html")
    for part in (text, html):
        assert "North Sales" in part and "Non-payment".lower() in part.lower()  # why: the channel's hold
        assert "outbound calls" in part  # what stops (connect preset)
        assert "inbound calls" in part and "billing" in part  # what goes on
    assert "<li>" in html and "<li>" not in text
    (partner,) = sink.to("boss@north.example")
    assert partner.subject == "North Sales: services suspended"
    assert "Every account below North Sales is suspended" in partner.part("plain")
    assert {r.status for r in outbox_rows(site, kind="email")} == {"sent"}
    assert acme.id in {r.account_id for r in outbox_rows(site, kind="email")}


def test_decommission_emails_name_the_client_and_the_date_as_it_is_at_delivery(site: Installation) -> None:
    client = site.client(name="Acme Ltd", email="ops@acme.example")
    day = site.now.date() + timedelta(days=8)
    site.decommission(client.id, on=day)
    with smtp_server() as (sink, url):
        worker_for(site, url).one_pass()
        (scheduled,) = sink.to("ops@acme.example")
        assert scheduled.subject == f"Acme Ltd: decommission scheduled for {day.isoformat()}"
        assert day.isoformat() in scheduled.part("plain") and day.isoformat() in scheduled.part("html")
        site.clock.set(site.now + timedelta(days=9))
        worker_for(site, url).one_pass()  # applies the decommission, then mails it
    subjects = [r.subject for r in sink.to("ops@acme.example")]
    assert subjects == [scheduled.subject, "Acme Ltd: services decommissioned"]


def test_without_smtp_emails_are_logged_and_kept_as_sent_to_log(site: Installation) -> None:
    client = site.client(email="ops@acme.example")
    site.suspend(client.id)
    worker_for(site, None).one_pass()
    (row,) = outbox_rows(site, kind="email")
    assert (row.status, row.recipient, row.attempts) == ("logged", "ops@acme.example", 1)
    assert row.sent_at is not None


def test_emails_wait_while_smtp_is_down_and_go_out_when_it_is_back(site: Installation) -> None:
    port = free_port()  # nothing listens here yet
    client = site.client(email="ops@acme.example")
    site.suspend(client.id)
    worker_for(site, f"smtp://127.0.0.1:{port}").one_pass()
    (row,) = outbox_rows(site, kind="email")
    assert row.status == "pending" and row.attempts == 1 and "unreachable" in row.last_error
    assert row.next_attempt_at > site.now  # backed off, not hammering a dead server
    with smtp_server(port=port) as (sink, url):
        worker_for(site, url).one_pass()
        assert sink.count == 0  # not due yet
        site.clock.set(row.next_attempt_at)
        worker_for(site, url).one_pass()
    assert [r.subject for r in sink.to("ops@acme.example")] == ["Acme Ltd: services suspended"]
    assert outbox_rows(site, kind="email")[0].status == "sent"


def test_a_permanently_refused_address_is_failed_with_the_reason_and_blocks_nobody(site: Installation) -> None:
    channel = site.channel()
    site.client(channel.id, "Gone Ltd", email="nobody@gone.example")
    site.client(channel.id, "Acme Ltd", email="ops@acme.example")
    site.suspend(channel.id)
    with smtp_server(MailSink(reject={"nobody@gone.example"})) as (sink, url):
        worker_for(site, url).one_pass()
    assert sink.to("ops@acme.example") and not sink.to("nobody@gone.example")
    by_recipient = {r.recipient: r for r in outbox_rows(site, kind="email")}
    refused = by_recipient["nobody@gone.example"]
    assert refused.status == "failed" and "550" in refused.last_error and "mailbox unavailable" in refused.last_error
    assert by_recipient["ops@acme.example"].status == "sent"


def test_smtp_authentication_from_the_url(site: Installation) -> None:
    client = site.client(email="ops@acme.example")
    site.suspend(client.id)
    with smtp_server(login=("mailer", "s3cret pass")) as (sink, url):
        worker_for(site, url.replace("s3cret pass", "wrong")).one_pass()
        assert sink.count == 0 and outbox_rows(site, kind="email")[0].status == "pending"
        site.clock.set(site.now + timedelta(hours=1))
        worker_for(site, url.replace(" ", "%20")).one_pass()
    assert sink.to("ops@acme.example")
