"""On PostgreSQL: a batch holds its accounts' row locks, taken in id order, until it commits."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tenure.adapters.db.batch import BatchUnitOfWork
from tenure.domain.errors import AlreadySuspended
from tenure.domain.model import HoldReason
from tenure.services import accounts as svc
from tenure.services.bulk import BulkAction, BulkRequest, run_bulk
from tests.integration.test_races_pg import _wait_until_someone_waits_on_a_lock
from tests.support import Installation

pytestmark = pytest.mark.postgres_only
SUSPEND = BulkRequest(BulkAction.SUSPEND, HoldReason.NON_PAYMENT)


def test_a_single_change_waits_for_the_batch_and_then_sees_it(pg_site: Installation) -> None:
    site = pg_site
    client = site.client()
    with ThreadPoolExecutor(max_workers=1) as pool, BatchUnitOfWork(site.engine) as batch:
        batch.accounts.preload([client.id], site.admin)
        with batch.item() as uow:
            svc.suspend(
                uow,
                caller=site.admin,
                account_id=client.id,
                reason=HoldReason.NON_PAYMENT,
                note="",
                expected_version=None,
                now=site.now,
            )
        single = pool.submit(site.suspend, client.id, HoldReason.NON_PAYMENT)
        _wait_until_someone_waits_on_a_lock(site.engine)
        batch.commit()
        with pytest.raises(AlreadySuspended):
            single.result(timeout=60)
    assert len(site.get(client.id).holds) == 1


def test_overlapping_batches_in_opposite_orders_queue_instead_of_deadlocking(pg_site: Installation) -> None:
    site = pg_site
    ids = [site.client(name=f"Client {i}").id for i in range(20)]

    def batch(order: list[str]) -> list[bool]:
        results = run_bulk(BatchUnitOfWork(site.engine), caller=site.admin, request=SUSPEND, ids=order, now=site.now)
        return [r.ok for r in results]

    with ThreadPoolExecutor(max_workers=2) as pool:
        forward, backward = pool.submit(batch, ids), pool.submit(batch, ids[::-1])
        outcomes = [forward.result(timeout=120), backward.result(timeout=120)[::-1]]
    assert all(a != b for a, b in zip(*outcomes, strict=True))  # each account suspended by exactly one
    assert all(len(site.get(account_id).holds) == 1 for account_id in ids)
