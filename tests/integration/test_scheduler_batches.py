"""The worker applies due changes in batches (issue 13 §4): a refusal never blocks its batch."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.model import Stage
from tenure.services import accounts as svc
from tenure.services import scheduler
from tenure.services.scheduler import apply_due_changes
from tests.support import Installation


def test_a_refused_change_is_recorded_and_the_rest_of_its_batch_commits(site: Installation) -> None:
    tomorrow = site.now.date() + timedelta(days=1)
    stuck = site.channel(name="Stuck")
    child = site.client(stuck.id, "Child")
    site.decommission(child.id, on=tomorrow)
    site.decommission(stuck.id, on=tomorrow)
    svc.cancel_decommission(site.uow(), caller=site.admin, account_id=child.id, expected_version=None, now=site.now)
    going = [site.channel(name=f"Going {i}").id for i in range(3)]
    for channel_id in going:
        site.decommission(channel_id, on=tomorrow)
    result = apply_due_changes(site.uow, now=site.now + timedelta(days=1))
    assert set(result.refused) == {stuck.id}
    assert sorted(result.decommissioned) == sorted(going)
    assert all(site.get(c).stage is Stage.DECOMMISSIONED for c in going)
    assert site.get(stuck.id).stage is Stage.ACTIVE and site.get(stuck.id).decommission_on == tomorrow  # still due


def test_batches_smaller_than_the_due_set_apply_each_change_once(
    site: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    tomorrow = site.now.date() + timedelta(days=1)
    clients = [site.client(name=f"Client {i}").id for i in range(5)]
    for client_id in clients:
        site.decommission(client_id, on=tomorrow)
    monkeypatch.setattr(scheduler, "BATCH", 2)  # three batches: 2, 2, 1
    result = apply_due_changes(lambda: UnitOfWork(site.engine), now=site.now + timedelta(days=1))
    again = apply_due_changes(lambda: UnitOfWork(site.engine), now=site.now + timedelta(days=1))
    assert sorted(result.decommissioned) == sorted(clients) and again.decommissioned == []
