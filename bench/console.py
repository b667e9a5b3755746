"""P4c, the console's Clients page: server time of GET /clients, first page and a later page.

    .venv/bin/python -m bench --only P4c --no-sqlite          # 1,000,000 clients on PostgreSQL
    .venv/bin/python -m bench.console [--clients 10000] [--requests 200] [--postgres ADMIN_URL]

Ours: the whole request inside the app (session check, page read, counts per
status, hydration, offices, Jinja rendering), timed around an in-process
request with no network, p50 and p95, as the operator's admin (who sees all).
Bare, measured in the same run on the same database: the SQL the page needs,
executed and fetched by hand — the page's keyset query and the counts per
status (`count_by_status`, from client_counts) — so the ratio is the cost of
everything the console adds on top of the database. The notes give the counts
as they were before client_counts (`listing.count_by_scan`, every client read).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from sqlalchemy import Engine, select

with warnings.catch_warnings():  # starlette suggests httpx2 for its test client; httpx is what we pin
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from bench.data import (
    ADMIN_EMAIL,
    PASSWORD,
    Dataset,
    Shape,
    build,
    drop_postgres_database,
    postgres_database,
    sqlite_database,
)
from bench.harness import Result, percentile
from tenure.adapters.db.listing import AccountFilter, count_by_scan, count_by_status, encode_cursor, page_query
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.uow import UnitOfWork
from tenure.config import Settings
from tenure.domain.access import Caller, Role
from tenure.domain.model import HoldReason, Kind
from tenure.entrypoints.app import create_app
from tenure.services import accounts

PAGE = 50
SUSPENDED_CHANNEL = 3  # P1, P1b, P3 and P6 act on channels 0, 1, 2 and the last two
SCAN_SAMPLES = 5  # the counts as they were read before client_counts: a few, they are slow


def _timed(run: Callable[[], object], n: int) -> list[float]:
    for _ in range(min(5, n)):  # warm caches and connections
        run()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _pair(samples: list[float]) -> str:
    return f"{statistics.median(samples):.1f} / {percentile(samples, 95):.1f} ms"


def _later_cursor(engine: Engine, flt: AccountFilter, caller: Caller) -> str:
    """The cursor of the page that starts in the middle of the list."""
    query = page_query(caller, flt, limit=10**9, cursor=None).with_only_columns(A.c.sort_key, A.c.id)
    with engine.connect() as conn:
        rows = list(conn.execute(query))
    middle = rows[len(rows) // 2]
    return encode_cursor([middle.sort_key, middle.id])


def _suspend_some(ds: Dataset, caller: Caller) -> None:
    """One channel suspended (its clients inherit) and a few own holds, so status is not trivial."""
    channel = ds.channel_id(min(SUSPENDED_CHANNEL, ds.shape.channels - 1))
    with UnitOfWork(ds.engine).reading() as uow:
        query = select(A.c.id).where(A.c.kind == "client", A.c.parent_id != channel).order_by(A.c.id).limit(150)
        clients = list(uow.connection.execute(query).scalars())
    now = datetime.now(UTC)
    for account_id in [channel, *clients[100:150]]:
        accounts.suspend(
            UnitOfWork(ds.engine),
            caller=caller,
            account_id=account_id,
            reason=HoldReason.FRAUD,
            note="bench",
            expected_version=None,
            now=now,
        )


def _analyze_holds(engine: Engine) -> None:
    """What autovacuum does within a minute of 50 new holds (its default threshold): the dataset was
    analysed before any hold existed, and a planner that believes `holds` empty picks other plans."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE holds")


def run(ds: Dataset, *, requests: int, size: str) -> list[Result]:
    """The Clients page as the operator's admin, first and a later page, against its bare SQL."""
    engine = ds.engine
    with UnitOfWork(engine).reading() as uow:
        admin = uow.users.by_email(ADMIN_EMAIL)
        assert admin is not None
    caller = admin.as_caller()
    assert caller.role is Role.ADMIN
    _suspend_some(ds, caller)
    _analyze_holds(engine)
    app = create_app(Settings(database_url=ds.url), engine=engine)
    flt = AccountFilter(kind=Kind.CLIENT)
    later = _later_cursor(engine, flt, caller)
    results = []
    with TestClient(app, base_url="http://127.0.0.1") as http:
        token = http.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        signed = http.post("/login", data={"email": ADMIN_EMAIL, "password": PASSWORD, "csrf_token": token})
        assert signed.status_code == 200 and "Clients" in signed.text, signed.status_code
        for name, path, cursor in (("first", "/clients", None), ("later", "/clients?cursor=" + later, later)):
            response = http.get(path)
            assert response.status_code == 200 and response.text.count("<tr>") >= PAGE, response.status_code
            ours = _timed(partial(http.get, path), requests)

            def bare(cursor: str | None = cursor) -> None:
                with engine.connect() as conn:
                    conn.execute(page_query(caller, flt, limit=PAGE, cursor=cursor)).all()
                    count_by_status(conn, caller, flt)

            def scanned() -> None:
                with engine.connect() as conn:
                    count_by_scan(conn, caller, flt)

            bare_ms = _timed(bare, requests)
            scan_ms = _timed(scanned, SCAN_SAMPLES)
            results.append(
                Result(
                    scenario="P4c",
                    what=f"console GET /clients: {name} page with counts (p95 ms, server time)",
                    backend=engine.dialect.name,
                    size=size,
                    ours=percentile(ours, 95),
                    bare=percentile(bare_ms, 95),
                    unit="ms p95",
                    higher_is_better=False,
                    target="≤ 50 ms",
                    met=percentile(ours, 95) <= 50,
                    notes=(
                        f"{requests} requests, p50 {statistics.median(ours):.1f} ms; counts read every client "
                        f"before client_counts: p50 {statistics.median(scan_ms):.0f} ms for those alone"
                    ),
                )
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--postgres", default=None, help="admin URL: run on a fresh PostgreSQL database instead of SQLite"
    )
    args = parser.parse_args()
    os.environ.setdefault("TENURE_ARGON2_PROFILE", "cheapest")

    with tempfile.TemporaryDirectory() as folder:
        name = "tenure_bench_console"
        url = postgres_database(args.postgres, name) if args.postgres else sqlite_database(Path(folder), "console")
        shape = Shape(resellers=2, channels_per_reseller=5, clients_per_channel=max(1, args.clients // 10))
        dataset = build(url, shape, now=datetime.now(UTC))
        size = f"{shape.clients:,} clients"
        print(f"Console GET /clients — {size}, {dataset.engine.dialect.name}, {args.requests} requests each")
        for result in run(dataset, requests=args.requests, size=size):
            print(f"{result.what}: ours p95 {result.ours:.1f} ms, bare p95 {result.bare:.1f} ms; {result.notes}")
        dataset.engine.dispose()
        if args.postgres:
            drop_postgres_database(args.postgres, name)


if __name__ == "__main__":
    main()
