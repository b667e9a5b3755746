"""P3: suspend a channel of N clients; the change's time, and its fan-out against a bare INSERT … SELECT.

Ours: `tenure.services.accounts.suspend` on the channel, in this process (the
API route adds one request's overhead to it), from the call to its commit; it
writes one cascade job. Then the worker's expansion of that job
(`services.cascades.expand_cascades`, batches of CASCADE_BATCH accounts, one
transaction each), timed from its start to its last commit, in rows per second.
Bare: `INSERT INTO bench_bare_outbox … SELECT` of the same rows (one email and,
where the policy says so, one `entitlements.changed` webhook per client of the
channel), selected from the same closure table, into a table shaped like
`outbox` (same columns, primary key and partial index). Then the channel is
unsuspended (the same cascade back), which is reported too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    event,
    func,
    select,
    text,
)

from bench.data import Dataset
from bench.harness import Result, peak_rss_mb, reset_peak_rss
from tenure.adapters.clock import SystemClock
from tenure.adapters.db.tables import BIGID, TS
from tenure.adapters.db.tables import outbox as O
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import Caller, Role
from tenure.domain.model import HoldReason, Kind
from tenure.services import accounts as service
from tenure.services.cascades import CASCADE_BATCH, expand_cascades

BARE = Table(
    "bench_bare_outbox",
    MetaData(),
    Column("id", BIGID, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("topic", String(64), nullable=False),
    Column("account_id", String(26), nullable=False),
    Column("recipient", String(320), nullable=True),
    Column("payload", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", TS, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("sent_at", TS, nullable=True),
    Index(
        "ix_bench_bare_outbox_due",
        "next_attempt_at",
        "id",
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
)


@contextmanager
def outbox_timer(engine: Engine) -> Iterator[dict[str, float]]:
    """Seconds spent in statements that write the outbox, summed, while the block runs."""
    spent = {"seconds": 0.0, "statements": 0}
    started: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if "INSERT INTO OUTBOX" in statement.upper():  # the expansion's statements start with WITH
            started[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        began = started.pop(id(cursor), None)
        if began is not None:
            spent["seconds"] += time.perf_counter() - began
            spent["statements"] += 1

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield spent
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def _outbox_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(O)).scalar_one())


def _bare_insert(engine: Engine, channel_id: str, kinds: list[tuple[str, str]]) -> tuple[float, int]:
    """The same rows, set-based, into the bare table: (seconds, rows)."""
    now = SystemClock().now()
    BARE.drop(engine, checkfirst=True)
    BARE.create(engine)
    payload = '{"reason": "non_payment", "held_account": {"id": "x", "name": "Channel", "kind": "channel"}}'
    rows = 0
    with engine.begin() as conn:
        started = time.perf_counter()
        for kind, topic in kinds:
            recipient = "a.contact_email" if kind == "email" else "NULL"
            statement = text(
                "INSERT INTO bench_bare_outbox (kind, topic, account_id, recipient, payload, created_at, next_attempt_at) "
                f"SELECT :kind, :topic, a.id, {recipient}, :payload, :now, :now "
                "FROM account_ancestors aa JOIN accounts a ON a.id = aa.account_id WHERE aa.ancestor_id = :root"
            ).bindparams(bindparam("now", now, type_=TS))
            values = {"kind": kind, "topic": topic, "payload": payload, "root": channel_id}
            rows += conn.execute(statement, values).rowcount
        seconds = time.perf_counter() - started
    BARE.drop(engine)
    return seconds, rows


def _last_outbox_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(O.c.id), 0))).scalar_one())


def run(ds: Dataset, *, channel: int) -> list[Result]:
    engine = ds.engine
    channel_id = ds.channel_id(channel)
    clients = ds.shape.clients_per_channel
    with UnitOfWork(engine) as uow:
        user = uow.users.by_email("bench-admin@operator.example")
        assert user is not None
    caller = Caller(user.id, user.email, ds.operator_id, Kind.OPERATOR, Role.ADMIN)
    with engine.connect() as conn:  # warm the cache the same way for both sides
        conn.execute(text("SELECT count(*) FROM account_ancestors WHERE ancestor_id = :c"), {"c": channel_id})
    results: list[Result] = []
    for action in ("suspend", "unsuspend"):
        before = _outbox_count(engine)
        last_id = _last_outbox_id(engine)
        reset_peak_rss()
        started = time.perf_counter()
        _change(engine, caller, channel_id, action)
        change_seconds = time.perf_counter() - started
        at_commit = _outbox_count(engine) - before
        with outbox_timer(engine) as spent:
            started = time.perf_counter()
            batches, done = expand_cascades(lambda: UnitOfWork(engine), now=SystemClock().now())
            fan_out_seconds = time.perf_counter() - started
        assert done
        rss = peak_rss_mb()
        written = _outbox_count(engine) - before - at_commit
        bare_seconds, bare_rows = _bare_insert(engine, channel_id, _cascade_kinds(engine, last_id))
        suspend = action == "suspend"
        results.append(
            Result(
                scenario="P3",
                what=f"{action} a channel: the change, call to commit (s)",
                backend=engine.dialect.name,
                size=f"{clients:,} clients",
                ours=change_seconds,
                bare=None,
                unit="s",
                higher_is_better=False,
                target="≤ 1 s (ideally ≤ 50 ms)" if suspend else "(none)",
                met=change_seconds <= 1.0 if suspend else None,
                peak_rss_mb=rss,
                notes=f"{at_commit} outbox rows at the commit (its event's webhook and the cascade job)",
            )
        )
        results.append(
            Result(
                scenario="P3",
                what=f"{action} a channel: worker fan-out of the job vs bare INSERT … SELECT of the same rows (rows/s)",
                backend=engine.dialect.name,
                size=f"{written:,} rows",
                ours=written / fan_out_seconds,
                bare=bare_rows / bare_seconds,
                unit="rows/s",
                higher_is_better=True,
                target="≥ 50 % of bare" if suspend else "(none)",
                met=written * bare_seconds >= 0.5 * bare_rows * fan_out_seconds if suspend else None,
                peak_rss_mb=rss,
                notes=(
                    f"fan-out {fan_out_seconds:.3f} s in {batches} batch(es) of {CASCADE_BATCH:,} accounts, "
                    f"{spent['seconds']:.3f} s in {int(spent['statements'])} INSERT statements; "
                    f"bare {bare_seconds:.3f} s for {bare_rows:,} rows"
                ),
            )
        )
    return results


def _change(engine: Engine, caller: Caller, channel_id: str, action: str) -> None:
    if action == "suspend":
        service.suspend(
            UnitOfWork(engine),
            caller=caller,
            account_id=channel_id,
            reason=HoldReason.NON_PAYMENT,
            note="bench",
            expected_version=None,
            now=SystemClock().now(),
        )
    else:
        service.unsuspend(
            UnitOfWork(engine),
            caller=caller,
            account_id=channel_id,
            reason=None,
            expected_version=None,
            now=SystemClock().now(),
        )


def _cascade_kinds(engine: Engine, after_id: int) -> list[tuple[str, str]]:
    """(kind, topic) of the cascade rows the change wrote for the channel's clients."""
    with engine.connect() as conn:
        query = (
            select(O.c.kind, O.c.topic, func.count())
            .where(O.c.id > after_id)
            .group_by(O.c.kind, O.c.topic)
            .having(func.count() > 1)
        )
        return [(str(r.kind), str(r.topic)) for r in conn.execute(query)]
