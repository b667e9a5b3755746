"""Pure parts of the worker: the retry schedule, SMTP URLs, email rendering, the webhook body."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from tenure.adapters.emails import Recipient, render
from tenure.adapters.smtp import SmtpMailer
from tenure.domain.retries import EMAIL_RETRIES, WEBHOOK_RETRIES, RetryPolicy
from tenure.services.webhook_delivery import webhook_body

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_backoff_doubles_up_to_its_cap_and_jitter_spreads_it() -> None:
    policy = RetryPolicy(base=timedelta(seconds=10), cap=timedelta(minutes=5), give_up_after=None)
    middle = [policy.delay(n, 0.5) for n in range(1, 8)]
    assert middle[:4] == [timedelta(seconds=s) for s in (10, 20, 40, 80)]
    assert middle[-1] == timedelta(minutes=5)
    assert policy.delay(3, 0.0) == timedelta(seconds=20) and policy.delay(3, 0.999) < timedelta(seconds=60)


def test_webhooks_are_retried_for_24_hours_the_last_try_on_the_mark_then_given_up() -> None:
    now, attempts = T0, 0
    while True:
        attempts += 1
        following = WEBHOOK_RETRIES.next_attempt(attempts=attempts, queued_at=T0, now=now, jitter=0.5)
        if following is None:
            break
        assert following > now
        now = following
    assert now == T0 + timedelta(hours=24) and 10 <= attempts <= 40


def test_emails_wait_out_an_outage_however_long() -> None:
    late = T0 + timedelta(days=30)
    following = EMAIL_RETRIES.next_attempt(attempts=500, queued_at=T0, now=late, jitter=0.5)
    assert following == late + timedelta(minutes=15)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example:2525", ("mail.example", 2525, False, None, None)),
        ("smtp://mail.example", ("mail.example", 25, False, None, None)),
        ("smtps://u%40x:p%3Ass@mail.example", ("mail.example", 465, True, "u@x", "p:ss")),
    ],
)
def test_smtp_urls(url: str, expected: tuple[object, ...]) -> None:
    mailer = SmtpMailer.from_url(url)
    assert (mailer.hostname, mailer.port, mailer.use_tls, mailer.username, mailer.password) == expected


@pytest.mark.parametrize("url", ["http://mail.example", "smtp://", "mail.example:25"])
def test_a_bad_smtp_url_is_refused_with_the_expected_shape(url: str) -> None:
    with pytest.raises(ValueError, match="smtp://"):
        SmtpMailer.from_url(url)


ACME = Recipient("acme", "Acme Ltd", "client", "TEN-000042", "Ada", "ops@acme.example")
SUSPENSION = {
    "reason": "fraud",
    "reason_label": "fraud",
    "held_account": {"id": "acme", "name": "Acme Ltd", "kind": "client"},
    "stops": ["outbound_calls", "internet"],
    "goes_on": ["inbound_calls"],
}


def test_an_own_suspension_says_why_what_stops_and_what_goes_on() -> None:
    email = render("suspended", ACME, SUSPENSION, queued_on=date(2026, 11, 23))
    assert email.subject == "Acme Ltd: services suspended" and email.to == "ops@acme.example"
    assert "Hello Ada," in email.text and "Why: fraud." in email.text
    stops, goes_on = email.text.split("What stops:")[1].split("What goes on:")
    assert "outbound calls" in stops and "internet" in stops and "inbound calls" not in stops
    assert "inbound calls" in goes_on and "billing" in goes_on


def test_a_suspension_through_a_channel_names_the_channel() -> None:
    payload = {**SUSPENSION, "held_account": {"id": "north", "name": "North <Sales>", "kind": "channel"}}
    email = render("suspended", ACME, payload, queued_on=date(2026, 11, 23))
    assert "North <Sales>, through which Acme Ltd receives its services" in email.text
    assert "North &lt;Sales&gt;" in email.html  # HTML is escaped, text is not


def test_every_template_has_its_subject() -> None:
    payload = {**SUSPENSION, "decommission_on": "2026-12-01", "decommissioned_on": "2026-12-01"}
    subjects = {
        t: render(t, ACME, payload, queued_on=date(2026, 11, 23)).subject
        for t in ("suspended", "unsuspended", "decommission_scheduled", "decommission_cancelled", "decommissioned")
    }
    assert subjects["decommission_scheduled"] == "Acme Ltd: decommission scheduled for 2026-12-01"
    assert all(s.startswith("Acme Ltd: ") for s in subjects.values())


def test_the_webhook_body_is_the_standard_shape_and_the_same_every_time() -> None:
    body = webhook_body("entitlements.changed", "acme", {"reason": "fraud", "via": None}, T0)
    assert body == webhook_body("entitlements.changed", "acme", {"via": None, "reason": "fraud"}, T0)
    assert json.loads(body) == {
        "type": "entitlements.changed",
        "timestamp": "2026-11-23T10:00:00Z",
        "data": {"account_id": "acme", "reason": "fraud", "via": None},
    }
