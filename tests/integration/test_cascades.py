"""A partner's (un)suspension fans out after the commit (issue 13 §3), on SQLite and PostgreSQL.

The change commits its hold, its event and ONE cascade job; the worker expands
the job batch by batch into the same notices a client's own change writes at
once. These tests pin what the deferral must not change.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from tenure.adapters.db.cascades import shared_payload
from tenure.adapters.db.tables import outbox
from tenure.domain.ids import cascade_message_id
from tenure.domain.model import HoldReason, Status
from tenure.services.cascades import expand_cascades
from tests.support import Installation


def _rows(site: Installation) -> list[Any]:
    with site.engine.connect() as connection:
        return list(connection.execute(select(outbox).order_by(outbox.c.id)))


def _notices(site: Installation, topic: str) -> Counter[str]:
    return Counter(r.account_id for r in _rows(site) if r.topic == topic and r.kind != "cascade")


def test_a_channel_suspension_commits_one_job_and_is_in_force_at_once(site: Installation) -> None:
    channel = site.channel()
    clients = [site.client(channel.id, f"Client {i}").id for i in range(4)]
    before = len(_rows(site))
    site.suspend(channel.id)
    added = [(r.kind, r.topic, r.account_id) for r in _rows(site)[before:]]
    assert sorted(added) == [("cascade", "suspended", channel.id), ("webhook", "account.suspended", channel.id)]
    assert all(site.get(c).status is Status.SUSPENDED for c in clients)  # derived: no notice needed for that
    site.fan_out()
    assert _notices(site, "suspended") == Counter([*clients, channel.id])
    assert [r.status for r in _rows(site) if r.kind == "cascade"] == ["expanded"]


def test_small_batches_write_the_same_notices_as_one(site: Installation) -> None:
    channel = site.channel()
    for i in range(7):
        site.client(channel.id, f"Client {i}")
    site.suspend(channel.id)
    batches, done = expand_cascades(site.uow, now=site.now, batch=2)
    assert done and batches == 5  # 8 accounts at and below the channel, two per transaction, then none left
    emails, hooks = _notices(site, "suspended"), _notices(site, "entitlements.changed")
    assert len(emails) == 8 and set(emails.values()) == {1}
    assert len(hooks) == 8 and set(hooks.values()) == {1}


def test_a_crash_mid_expansion_repeats_only_the_uncommitted_batch(site: Installation) -> None:
    channel = site.channel()
    clients = [site.client(channel.id, f"Client {i}").id for i in range(5)]
    site.suspend(channel.id)
    with site.uow() as uow:  # a worker writes one batch and dies before committing it
        job = uow.cascades.claim_next()
        assert job is not None
        uow.cascades.expand_batch(job, 3, now=site.now)
    assert _notices(site, "suspended") == Counter()
    expand_cascades(site.uow, now=site.now, batch=3)
    assert _notices(site, "suspended") == Counter([*clients, channel.id])


def test_recipients_are_those_who_flipped_at_the_commit_not_at_the_expansion(site: Installation) -> None:
    channel = site.channel()
    plain = site.client(channel.id, "Plain").id
    held_before = site.client(channel.id, "Held before").id
    held_after = site.client(channel.id, "Held after").id
    site.suspend(held_before, HoldReason.FRAUD)
    site.clock.set(site.now.replace(hour=11))
    site.suspend(channel.id)
    site.clock.set(site.now.replace(hour=12))
    site.suspend(held_after, HoldReason.FRAUD)  # under a suspended channel: no flip, no email of its own
    late = site.client(channel.id, "Created after").id  # never active under an active channel
    site.fan_out()
    emails = _notices(site, "suspended")
    assert emails == Counter([held_before, plain, held_after, channel.id])  # held_before: its own email only
    assert late not in emails


def test_a_suspension_and_its_lifting_expand_in_order(site: Installation) -> None:
    channel = site.channel()
    client = site.client(channel.id).id
    site.suspend(channel.id)
    site.clock.set(site.now.replace(hour=11))
    site.unsuspend(channel.id)
    site.fan_out()
    mine = [r.topic for r in _rows(site) if r.account_id == client and r.kind == "email"]
    assert mine == ["suspended", "unsuspended"]


def test_expanded_notices_share_the_jobs_context_and_derive_their_webhook_id(site: Installation) -> None:
    channel = site.channel(name="North Sales")
    client = site.client(channel.id, "Acme Ltd").id
    site.suspend(channel.id, HoldReason.FRAUD)
    site.fan_out()
    rows = _rows(site)
    job = next(r for r in rows if r.kind == "cascade")
    email = next(r for r in rows if r.kind == "email" and r.account_id == client)
    assert email.payload == {} and email.cascade_id == job.id  # stored once, on the job
    context = shared_payload("email", email.payload, job.payload)
    assert context["held_account"]["name"] == "North Sales" and context["reason"] == "fraud"
    hook = next(r for r in rows if r.kind == "webhook" and r.account_id == client)
    assert shared_payload("webhook", hook.payload, job.payload) == {
        "reason": "fraud",
        "via": {"id": channel.id, "name": "North Sales", "kind": "channel"},
    }
    assert cascade_message_id(job.id, client) == cascade_message_id(job.id, client)
    assert cascade_message_id(job.id, client) != cascade_message_id(job.id, channel.id)


@pytest.mark.postgres_only
def test_a_second_worker_skips_a_job_being_expanded(pg_site: Installation) -> None:
    site = pg_site
    channel = site.channel()
    site.client(channel.id)
    site.suspend(channel.id)
    with site.uow() as first:
        assert first.cascades.claim_next() is not None
        with site.uow() as second:
            assert second.cascades.claim_next() is None  # locked: skipped, not waited for
