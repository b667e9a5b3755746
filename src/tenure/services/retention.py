"""Retention (operations.md): finished notices are deleted once older than the retention period.

`tenure prune --older-than 90d` and the worker's daily task both come here.
Deliveries go first, then the webhook events they came from, then emails and
RADIUS disconnects, and last the expanded cascade jobs no notice points to any
more (a notice's shared context lives in its job); pending notices and the
audit trail are never touched. Each batch is its own short transaction, so
the API and the worker never wait long behind a prune.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from tenure.adapters.db.retention import Finished, delete_batch
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.errors import ValidationFailed

BATCH = 1000  # rows per transaction: short locks, few round trips
_PERIOD = re.compile(r"(\d{1,5})d")


def parse_period(text: str) -> timedelta:
    """`90d` -> 90 days; at least one day."""
    match = _PERIOD.fullmatch(text.strip())
    if match is None or int(match.group(1)) < 1:
        raise ValidationFailed(f"a retention period is a number of days such as 90d, not {text!r}", field="older_than")
    return timedelta(days=int(match.group(1)))


def prune(
    new_uow: Callable[[], UnitOfWork], *, older_than: timedelta, now: datetime, batch: int = BATCH
) -> dict[Finished, int]:
    """Delete every finished notice created before `now - older_than`; how many of each kind went."""
    before = now - older_than
    pruned: dict[Finished, int] = {}
    for what in Finished:
        pruned[what], after = 0, None
        while True:
            with new_uow() as uow:
                ids = delete_batch(uow.connection, what, before=before, after=after, batch=batch)
                uow.commit()
            pruned[what] += len(ids)
            if len(ids) < batch:
                break
            after = ids[-1]
    return pruned
