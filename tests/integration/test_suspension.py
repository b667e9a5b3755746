"""Suspension as holds (lifecycle.md §3), through the service layer, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tenure.adapters.db.tables import holds, outbox
from tenure.domain.errors import AlreadySuspended, InheritedSuspension, NotSuspended
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


def test_unsuspending_the_channel_restores_each_client_to_its_own_state(site: Installation) -> None:
    channel = site.channel()
    plain = site.client(channel.id, "Plain")
    fraudster = site.client(channel.id, "Fraudster")
    site.suspend(fraudster.id, HoldReason.FRAUD)
    site.suspend(channel.id, HoldReason.NON_PAYMENT)
    site.unsuspend(channel.id)
    assert site.get(plain.id).status is Status.ACTIVE
    assert site.get(fraudster.id).status is Status.SUSPENDED
    assert [h.reason for h in site.get(fraudster.id).holds] == [HoldReason.FRAUD]


def test_a_second_hold_with_the_same_reason_is_refused(site: Installation) -> None:
    client = site.client()
    site.suspend(client.id, HoldReason.FRAUD)
    with pytest.raises(AlreadySuspended):
        site.suspend(client.id, HoldReason.FRAUD)
    site.suspend(client.id, HoldReason.NON_PAYMENT)
    assert {h.reason for h in site.get(client.id).holds} == {HoldReason.FRAUD, HoldReason.NON_PAYMENT}


def test_unsuspend_names_the_ancestor_when_suspension_is_only_inherited(site: Installation) -> None:
    channel = site.channel(name="North Sales")
    client = site.client(channel.id)
    site.suspend(channel.id)
    with pytest.raises(InheritedSuspension) as raised:
        site.unsuspend(client.id)
    assert "North Sales" in raised.value.detail
    other = site.client(name="Other")
    with pytest.raises(NotSuspended):
        site.unsuspend(other.id)


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


def test_unsuspend_of_one_of_two_holds_sends_nothing(site: Installation) -> None:
    client = site.client()
    site.suspend(client.id, HoldReason.FRAUD)
    site.suspend(client.id, HoldReason.NON_PAYMENT)
    site.unsuspend(client.id, HoldReason.FRAUD)
    assert _outbox(site, "email", "unsuspended") == []
    assert site.get(client.id).status is Status.SUSPENDED
    site.unsuspend(client.id)
    assert _outbox(site, "email", "unsuspended") == [client.id]


def test_a_channel_suspension_rewrites_no_descendant_row(site: Installation) -> None:
    channel = site.channel()
    clients = [site.client(channel.id, f"C{i}") for i in range(5)]
    site.suspend(channel.id)
    assert all(site.get(c.id).version == 1 for c in clients)
    with site.uow().reading() as uow:
        assert uow.connection.execute(select(func.count()).select_from(outbox)).scalar_one() > 0


def test_the_nearest_held_ancestor_is_named_and_each_level_restores_on_its_own(site: Installation) -> None:
    reseller = site.reseller("Northwind")
    channel = site.channel(reseller.id, "North Sales")
    client = site.client(channel.id)
    site.suspend(reseller.id, HoldReason.NON_PAYMENT)
    inherited = site.get(client.id).inherited
    assert inherited is not None and inherited.account_id == reseller.id
    site.suspend(channel.id, HoldReason.FRAUD)  # an active channel takes a hold while suspended through its reseller
    inherited = site.get(client.id).inherited
    assert inherited is not None and (inherited.account_id, inherited.reason) == (channel.id, HoldReason.FRAUD)
    site.unsuspend(reseller.id)
    assert site.get(channel.id).status is Status.SUSPENDED and site.get(client.id).status is Status.SUSPENDED
    site.unsuspend(channel.id)
    assert site.get(client.id).status is Status.ACTIVE and site.get(client.id).inherited is None


def test_lifting_one_of_two_channel_holds_keeps_its_clients_suspended(site: Installation) -> None:
    channel = site.channel()
    client = site.client(channel.id)
    site.suspend(channel.id, HoldReason.FRAUD)
    site.suspend(channel.id, HoldReason.NON_PAYMENT)
    site.unsuspend(channel.id, HoldReason.FRAUD)
    assert site.get(client.id).status is Status.SUSPENDED
    assert _outbox(site, "email", "unsuspended") == []


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
