"""A policy change tells integrations which accounts' capabilities it changed (one webhook each)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tenure.adapters.db.tables import outbox, services
from tenure.domain.model import HoldReason
from tenure.services import policy
from tests.integration.catalog_kit import add
from tests.support import Installation


def _changed(site: Installation) -> list[str]:
    query = select(outbox.c.account_id).where(outbox.c.topic == "entitlements.changed")
    with site.uow().reading() as uow:
        return sorted(r.account_id for r in uow.connection.execute(query))


def test_switching_connect_to_metis_notifies_exactly_the_suspended_accounts(site: Installation) -> None:
    channel = site.channel()
    through_channel = site.client(channel.id, "Through channel")
    own_hold = site.client(name="Own hold")
    untouched = site.client(name="Active")
    site.suspend(own_hold.id, HoldReason.FRAUD)
    site.suspend(channel.id)
    before = _changed(site)
    policy.set_policy(site.uow(), caller=site.admin, preset="metis", matrix=None, now=site.now)
    after = _changed(site)
    # metis differs from connect only for suspended accounts (internet on, portal login off)
    for account_id in (channel.id, through_channel.id, own_hold.id):
        assert after.count(account_id) == before.count(account_id) + 1
    for account_id in (untouched.id, site.operator_id):
        assert after.count(account_id) == before.count(account_id)


def test_setting_the_same_policy_again_notifies_nobody(site: Installation) -> None:
    site.suspend(site.client().id)
    before = _changed(site)
    policy.set_policy(site.uow(), caller=site.admin, preset="connect", matrix=None, now=site.now)
    assert _changed(site) == before


def test_decommissioning_ends_a_service_not_yet_started_on_its_start_day_never_before(site: Installation) -> None:
    client = site.client()
    later = site.now.date() + timedelta(days=10)
    service = add(site, client.id, start=later)
    site.decommission(client.id)
    with site.uow().reading() as uow:
        row = uow.connection.execute(select(services).where(services.c.id == service.id)).one()
    assert row.end_date == later
    assert row.end_date >= row.start_date
