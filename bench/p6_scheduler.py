"""P6: the worker applying N due scheduled decommissions, against bare UPDATE batches.

Ours: N clients of one channel have `decommission_on` = yesterday; the time of
`tenure.services.scheduler.apply_due_changes` (the worker's pass) applying
them all: each through the decommission use case, with its audit event, its
services ended, its offices released and its notifications queued.
Bare: the same number of clients of another channel decommissioned by plain
`UPDATE accounts SET stage, decommissioned_on, decommission_on, version,
updated_at WHERE id IN (…200 ids…)`, one transaction per batch of 200.
"""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import bindparam, text

from bench.data import Dataset, operator_today
from bench.harness import Result, peak_rss_mb, reset_peak_rss
from tenure.adapters.clock import SystemClock
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.uow import UnitOfWork
from tenure.services.scheduler import apply_due_changes

BATCH = 200


def run(ds: Dataset, *, channel: int, bare_channel: int, count: int) -> list[Result]:
    engine = ds.engine
    now = SystemClock().now()
    today = operator_today(now)
    due = ds.client_ids(channel, count)
    with engine.begin() as conn:
        statement = text("UPDATE accounts SET decommission_on = :day WHERE id IN :ids").bindparams(
            bindparam("day", today - timedelta(days=1), type_=A.c.decommission_on.type),
            bindparam("ids", expanding=True),
        )
        for start in range(0, count, 5000):
            conn.execute(statement, {"ids": due[start : start + 5000]})
    bare_ids = ds.client_ids(bare_channel, count)
    update = text(
        "UPDATE accounts SET stage = 'decommissioned', decommissioned_on = :day, decommission_on = NULL, "
        "version = version + 1, updated_at = :now WHERE id IN :ids"
    ).bindparams(
        bindparam("day", today, type_=A.c.decommissioned_on.type),
        bindparam("now", now, type_=A.c.updated_at.type),
        bindparam("ids", expanding=True),
    )
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        with engine.begin() as conn:
            conn.execute(update, {"ids": bare_ids[start : start + BATCH]})
    bare_rate = count / (time.perf_counter() - started)

    reset_peak_rss()
    started = time.perf_counter()
    result = apply_due_changes(lambda: UnitOfWork(engine), now=now)
    seconds = time.perf_counter() - started
    applied = len(result.decommissioned)
    ours = applied / seconds
    return [
        Result(
            scenario="P6",
            what="worker pass applying due decommissions (changes/s) vs bare UPDATE batches of 200",
            backend=engine.dialect.name,
            size=f"{count:,} due",
            ours=ours,
            bare=bare_rate,
            unit="changes/s",
            higher_is_better=True,
            target="≥ 50 % of bare",
            met=ours >= 0.5 * bare_rate and applied == count,
            peak_rss_mb=peak_rss_mb(),
            notes=f"{applied:,} applied in {seconds:.1f} s, {len(result.refused)} refused",
        )
    ]
