"""Claiming a batch of due notices, and the report of what a pass did.

PostgreSQL: the rows stay locked (FOR UPDATE SKIP LOCKED) in the claiming
transaction until `finish` records the results and commits, so other workers
skip them, and a worker that dies takes its locks with it. SQLite: one worker
at a time (adapters/worker_lock.py), so the rows are read, the read
transaction ends before any network traffic, and the results are written in a
short transaction of their own: the API never waits on the database lock
while the worker talks to SMTP.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tenure.adapters.db.deliveries import DeliveryQueue
from tenure.adapters.db.engine import is_sqlite
from tenure.adapters.db.uow import UnitOfWork

LEASE_SECONDS = 300  # longer than any batch can take: SMTP budget + timeouts, webhook timeout
NewUow = Callable[[], UnitOfWork]
Write = Callable[[DeliveryQueue], None]


@dataclass
class DeliveryReport:
    emails: Counter[str] = field(default_factory=Counter)  # outcome -> count
    webhooks: Counter[str] = field(default_factory=Counter)
    disconnects: Counter[str] = field(default_factory=Counter)  # RADIUS Disconnect-Requests, by outcome
    dispatched: int = 0
    cascade_batches: int = 0  # cascade expansion transactions written
    finished: bool = True  # False when the pass stopped early (out of time, SMTP unreachable)


@contextmanager
def claimed(
    new_uow: NewUow, take: Callable[[DeliveryQueue], list[Any]]
) -> Iterator[tuple[list[Any], Callable[[Write], None]]]:
    """A batch of rows and a `finish(write)` that records the results."""
    uow = new_uow()
    if is_sqlite(uow.engine):
        with uow.reading():
            rows = take(DeliveryQueue(uow.connection))

        def write_apart(write: Write) -> None:
            with new_uow() as writer:
                write(DeliveryQueue(writer.connection))
                writer.commit()

        yield rows, write_apart
        return
    with uow:
        queue = DeliveryQueue(uow.connection)
        queue.lease(LEASE_SECONDS)
        rows = take(queue)

        def write_here(write: Write) -> None:
            write(queue)
            uow.commit()

        yield rows, write_here


def late(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline
