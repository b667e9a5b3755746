"""The per-status counts above the Clients table agree with every account's derived status."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from tenure.adapters.db.listing import count_by_status
from tenure.domain.access import Caller, Role
from tenure.domain.model import ActivateMode, HoldReason, Kind, Status
from tenure.services.read_models import AccountFilter
from tests.support import Installation


def _expected(site: Installation, caller: Caller, kind: Kind | None) -> dict[Status, int]:
    """Derive each visible account's status in Python, one by one (the slow, obvious way)."""
    with site.uow().reading() as uow:
        ids = [row.id for row in uow.connection.exec_driver_sql("SELECT id FROM accounts")]
        visible = []
        for account_id in ids:
            try:
                visible.append(uow.accounts.get(account_id, caller=caller))
            except Exception:
                continue
    tally = Counter(a.status for a in visible if kind is None or a.kind is kind)
    return {status: tally.get(status, 0) for status in Status}


def _counts(site: Installation, caller: Caller, kind: Kind | None) -> dict[Status, int]:
    with site.uow().reading() as uow:
        return count_by_status(uow.connection, caller, AccountFilter(kind=kind))


def test_counts_match_the_derived_status_of_every_account(site: Installation) -> None:
    reseller = site.reseller()
    channel = site.channel(reseller.id)
    other = site.reseller("Southwind")
    doubly = site.client(channel.id, "Own hold under a held channel")
    site.suspend(doubly.id, HoldReason.FRAUD)
    site.suspend(doubly.id, HoldReason.NON_PAYMENT)
    site.client(channel.id, "Through the channel")
    site.client(channel.id, "Scheduled under the channel", start_date=site.now.date() + timedelta(days=5))
    site.client(reseller.id, "New", activate=ActivateMode.MANUAL)
    site.decommission(site.client(reseller.id, "Gone").id)
    site.client(other.id, "Other tenant")
    site.suspend(site.client(other.id, "Other tenant, held").id)
    site.suspend(channel.id)
    partner = site.user(reseller.id, Role.ADMIN, "admin@northwind.example")
    for caller in (site.admin, partner):
        for kind in (Kind.CLIENT, None):
            assert _counts(site, caller, kind) == _expected(site, caller, kind)
    assert _counts(site, partner, Kind.CLIENT)[Status.SUSPENDED] == 3
