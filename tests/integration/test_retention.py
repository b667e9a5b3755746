"""Retention: finished notices older than the period go, in batches; pending ones and the audit trail stay.

The notices are made the real way (suspensions, a worker pass to a real HTTP
receiver) on both databases: one old event still has a delivery pending (its
endpoint keeps failing), so it and that delivery must survive the prune.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, update
from typer.testing import CliRunner

from tenure.adapters.db.tables import events, outbox, webhook_deliveries
from tenure.adapters.destinations import DestinationGuard
from tenure.domain.errors import ValidationFailed
from tenure.entrypoints.cli import app
from tenure.services import retention
from tenure.services import webhooks as webhook_service
from tenure.services.read_models import Finished
from tests.receivers import http_receiver
from tests.support import START, Installation
from tests.worker_support import worker_for

OLD = START - timedelta(days=100)


def _subscribe(site: Installation, url: str, account_id: str | None = None) -> None:
    request = webhook_service.CreateWebhook(url=url, events=["account.suspended"], account_id=account_id)
    webhook_service.create_webhook(
        site.uow(), caller=site.admin, request=request, now=site.now, destinations=DestinationGuard()
    )


def _history(site: Installation) -> dict[str, str]:
    """Old notices (100 days ago), finished except one delivery; then a fresh suspension left pending."""
    site.clock.set(OLD)
    failing_channel = site.channel(name="Failing Sales")
    kept = site.client(failing_channel.id, "Kept Ltd")
    gone = site.client(name="Gone Ltd")
    with http_receiver(lambda n, path: (500 if path == "/failing" else 204, 0.0)) as receiver:
        _subscribe(site, receiver.url + "/all")
        _subscribe(site, receiver.url + "/failing", failing_channel.id)  # hears Kept Ltd only
        site.suspend(kept.id)
        site.suspend(gone.id)
        worker_for(site).one_pass()  # emails logged, events dispatched, 3 deliveries: 2 delivered, 1 pending
    site.clock.set(START)
    fresh = site.client(name="Fresh Ltd")
    site.suspend(fresh.id)  # a pending email and a pending event, five minutes old
    return {"kept": kept.id, "gone": gone.id, "fresh": fresh.id}


def _rows(site: Installation) -> Counter[tuple[str, str, str]]:
    """(table, kind or '', status) -> count."""
    with site.engine.connect() as connection:
        notices = connection.execute(select(outbox.c.kind, outbox.c.status, outbox.c.account_id))
        found = Counter(("outbox", n.kind, n.status) for n in notices)
        for status in connection.execute(select(webhook_deliveries.c.status)).scalars():
            found["delivery", "", status] += 1
    return found


def _audit_rows(site: Installation) -> int:
    with site.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(events)).scalar_one())


def test_prune_deletes_finished_notices_past_retention_and_keeps_the_rest(site: Installation) -> None:
    _history(site)
    before, audit = _rows(site), _audit_rows(site)
    assert before["delivery", "", "delivered"] == 2 and before["delivery", "", "pending"] == 1
    dispatched = before["outbox", "webhook", "dispatched"]  # suspensions, and creations nobody hears
    assert dispatched >= 2 and before["outbox", "email", "logged"] >= 2
    pruned = retention.prune(site.uow, older_than=timedelta(days=90), now=site.now, batch=1)  # one row a batch
    assert pruned == {
        Finished.WEBHOOK_DELIVERIES: 2,
        Finished.WEBHOOK_EVENTS: dispatched - 1,  # Kept Ltd's suspension still has its pending delivery
        Finished.EMAILS: before["outbox", "email", "logged"],
        Finished.RADIUS_DISCONNECTS: 0,
        Finished.CASCADES: 0,
    }
    after = _rows(site)
    assert after["delivery", "", "pending"] == 1 and after["delivery", "", "delivered"] == 0
    assert after["outbox", "webhook", "dispatched"] == 1
    assert after["outbox", "email", "logged"] == 0
    assert after["outbox", "email", "pending"] == before["outbox", "email", "pending"] >= 1  # the fresh one
    assert after["outbox", "webhook", "pending"] == before["outbox", "webhook", "pending"] >= 1
    assert _audit_rows(site) == audit  # the audit trail is never pruned
    again = retention.prune(site.uow, older_than=timedelta(days=90), now=site.now)
    assert sum(again.values()) == 0


def test_nothing_younger_than_the_period_is_pruned(site: Installation) -> None:
    _history(site)
    before = _rows(site)
    assert sum(retention.prune(site.uow, older_than=timedelta(days=101), now=site.now).values()) == 0
    assert _rows(site) == before


def test_the_worker_prunes_on_its_first_pass_and_then_once_a_day(site: Installation) -> None:
    _history(site)
    worker = worker_for(site)
    worker.retention = timedelta(days=90)
    worker.one_pass()
    assert _rows(site)["outbox", "email", "logged"] == 1  # the fresh email, just logged; the old ones gone
    site.clock.set(START + timedelta(days=91))
    worker.pruned_at = site.now - timedelta(hours=1)  # pruned an hour ago: this pass does not
    worker.one_pass()
    assert _rows(site)["outbox", "email", "logged"] == 1
    worker.pruned_at = site.now - timedelta(days=1)
    worker.one_pass()
    assert _rows(site)["outbox", "email", "logged"] == 0


def test_the_prune_command(site: Installation) -> None:
    _history(site)  # "old" is 100 days before START, START is within days of today's real date
    dispatched = _rows(site)["outbox", "webhook", "dispatched"]
    url = site.engine.url.render_as_string(hide_password=False)
    refused = CliRunner().invoke(app, ["prune", "--older-than", "ninety"], env={"TENURE_DATABASE_URL": url})
    assert refused.exit_code == 2 and "90d" in refused.output
    result = CliRunner().invoke(app, ["prune", "--older-than", "90d"], env={"TENURE_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert f"2 webhook deliveries, {dispatched - 1} webhook events" in result.output
    assert _rows(site)["delivery", "", "pending"] == 1


@pytest.mark.parametrize("text", ["90", "0d", "-1d", "90 days", "1e3d"])
def test_a_period_is_a_number_of_days(text: str) -> None:
    with pytest.raises(ValidationFailed, match="90d"):
        retention.parse_period(text)


def test_finished_radius_disconnects_are_pruned_and_pending_ones_kept(site: Installation) -> None:
    """A disconnect that was sent, failed or skipped is done; one still pending is not."""
    client = site.client(name="Dialled Ltd")
    rows = [
        {"status": status, "created_at": created, "next_attempt_at": created}
        for status, created in [("sent", OLD), ("failed", OLD), ("skipped", OLD), ("pending", OLD), ("sent", START)]
    ]
    with site.engine.begin() as connection:
        for row in rows:
            connection.execute(
                insert(outbox).values(kind="radius", topic="radius.disconnect", account_id=client.id, payload={}, **row)
            )
    pruned = retention.prune(site.uow, older_than=timedelta(days=90), now=site.now, batch=2)
    assert pruned[Finished.RADIUS_DISCONNECTS] == 3
    left = _rows(site)
    assert left["outbox", "radius", "pending"] == 1 and left["outbox", "radius", "sent"] == 1


def test_an_expanded_cascade_job_goes_only_once_no_notice_points_to_it(site: Installation) -> None:
    """Expanded notices read their shared context from their job, so the job outlives every one of them."""
    site.clock.set(OLD)
    channel = site.channel(name="Old Sales")
    for name in ("Ann Ltd", "Bob Ltd"):
        site.client(channel.id, name)
    site.suspend(channel.id)
    worker_for(site).one_pass()  # the job expanded, its emails logged
    unexpanded = site.channel(name="Still Waiting")
    site.suspend(unexpanded.id)  # an old job nobody expanded yet: never pruned
    site.clock.set(START)
    with site.engine.begin() as connection:
        job = connection.execute(select(outbox.c.id).where(outbox.c.status == "expanded")).scalar_one()
        held_back = connection.execute(select(func.min(outbox.c.id)).where(outbox.c.cascade_id == job)).scalar_one()
        connection.execute(update(outbox).where(outbox.c.id == held_back).values(status="pending"))
    first = retention.prune(site.uow, older_than=timedelta(days=90), now=site.now, batch=1)
    assert first[Finished.CASCADES] == 0  # one of its notices is still pending
    assert _rows(site)["outbox", "cascade", "expanded"] == 1
    with site.engine.begin() as connection:
        connection.execute(update(outbox).where(outbox.c.id == held_back).values(status="logged"))
    second = retention.prune(site.uow, older_than=timedelta(days=90), now=site.now, batch=1)
    assert second[Finished.CASCADES] == 1  # its last notice went in this same prune, just before it
    left = _rows(site)
    assert left["outbox", "cascade", "expanded"] == 0 and left["outbox", "cascade", "pending"] == 1
