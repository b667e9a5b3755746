"""Suspension as holds (lifecycle.md §3), through the service layer, on both databases.

What only the databases can show lives here: status and the cascade derived in SQL, hold rows
kept as records. The rules and events of suspend and unsuspend run on the in-memory unit of
work in tests/unit/test_lifecycle_use_cases.py.
"""

from __future__ import annotations

from sqlalchemy import func, select

from tenure.adapters.db.tables import holds, outbox
from tenure.domain.model import HoldReason, Status
from tests.support import Installation


def _outbox(site: Installation, kind: str, topic: str) -> list[str]:
    with site.uow().reading() as uow:
        query = select(outbox.c.account_id).where(outbox.c.kind == kind, outbox.c.topic == topic)
        return sorted(r.account_id for r in uow.connection.execute(query))


def test_suspending_a_channel_suspends_every_client_below_it(site: Installation) -> None:
    reseller = site.reseller()
    channel = site.channel(reseller.id)
    clients = [site.client(channel.id, f"Client {i}") for i in range(3)]
    site.suspend(channel.id, HoldReason.FRAUD)
    for client in clients:
        account = site.get(client.id)
        assert account.status is Status.SUSPENDED
        assert account.holds == []
        assert account.inherited is not None and account.inherited.account_id == channel.id
    assert site.get(reseller.id).status is Status.ACTIVE


def test_cascade_queues_one_email_per_client_whose_status_flipped(site: Installation) -> None:
    channel = site.channel()
    flipped = [site.client(channel.id, f"Client {i}").id for i in range(3)]
    already = site.client(channel.id, "Already suspended")
    site.suspend(already.id, HoldReason.FRAUD)
    site.suspend(channel.id, HoldReason.NON_PAYMENT)
    site.fan_out()  # the cascade's notices are written by the worker after the commit
    emails = _outbox(site, "email", "suspended")
    # the earlier own suspension sent one email; the cascade one to each flipped client and the channel
    assert emails.count(already.id) == 1
    assert sorted(set(emails) - {already.id}) == sorted([*flipped, channel.id])
    changed = _outbox(site, "webhook", "entitlements.changed")
    assert set(flipped) <= set(changed)
    assert changed.count(already.id) == 1


def test_a_channel_suspension_rewrites_no_descendant_row(site: Installation) -> None:
    channel = site.channel()
    clients = [site.client(channel.id, f"C{i}") for i in range(5)]
    site.suspend(channel.id)
    assert all(site.get(c.id).version == 1 for c in clients)
    with site.uow().reading() as uow:
        assert uow.connection.execute(select(func.count()).select_from(outbox)).scalar_one() > 0


def test_holds_stay_as_records_with_the_time_they_were_lifted(site: Installation) -> None:
    client = site.client()
    site.suspend(client.id, HoldReason.FRAUD)
    site.suspend(client.id, HoldReason.OTHER)
    site.unsuspend(client.id, HoldReason.FRAUD)
    site.decommission(client.id)
    with site.uow().reading() as uow:
        rows = {r.reason: r for r in uow.connection.execute(select(holds).where(holds.c.account_id == client.id))}
    assert set(rows) == {"fraud", "other"}
    assert rows["fraud"].lifted_at == site.now and rows["fraud"].lifted_by == site.admin.email
    assert rows["other"].lifted_at is None  # decommissioning lifts nothing; the account is simply inactive
    assert site.get(client.id).status is Status.INACTIVE


def test_a_lifted_reason_can_be_held_again(site: Installation) -> None:
    client = site.client()
    site.suspend(client.id, HoldReason.FRAUD)
    site.unsuspend(client.id)
    site.suspend(client.id, HoldReason.FRAUD)
    assert [h.reason for h in site.get(client.id).holds] == [HoldReason.FRAUD]
    with site.uow().reading() as uow:
        assert uow.connection.execute(select(func.count()).select_from(holds)).scalar_one() == 2
