"""The worker's expansion of cascade jobs into per-account notices (adapters/db/cascades.py).

One batch of accounts per transaction, the job locked (PostgreSQL: SKIP
LOCKED, so a second worker moves on instead of waiting) and its cursor advanced
in that same transaction: a worker killed mid-way leaves the job where its last
committed batch put it, and the next pass carries on from there.
"""

from __future__ import annotations

from datetime import datetime

from tenure.services.outbox_batches import NewUow, late

CASCADE_BATCH = 5000  # accounts per transaction: big enough to be set-based, short enough to hold no lock long


def expand_cascades(
    new_uow: NewUow, *, now: datetime, deadline: float | None = None, batch: int = CASCADE_BATCH
) -> tuple[int, bool]:
    """Expand pending jobs batch by batch: (batches written, True when no job is left pending)."""
    batches = 0
    while not late(deadline):
        with new_uow() as uow:
            job = uow.cascades.claim_next()
            if job is None:
                return batches, True
            uow.cascades.expand_batch(job, batch, now=now)
            uow.commit()
        batches += 1
    return batches, False
