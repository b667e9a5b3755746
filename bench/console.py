"""Console: server time of GET /clients with 10,000 clients, first page and a later page.

    .venv/bin/python -m bench.console [--clients 10000] [--requests 200] [--postgres ADMIN_URL]

Ours: the whole request inside the app (session check, page read, counts per
status, hydration, offices, Jinja rendering), timed around an in-process
request with no network, p50 and p95, as the operator's admin (who sees all).
Bare, measured in the same run on the same database: the SQL the page needs,
executed and fetched by hand — the page's keyset query alone, and that query
plus the counts per status — so the ratio is the cost of everything the
console adds on top of the database.
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
    Shape,
    build,
    drop_postgres_database,
    postgres_database,
    sqlite_database,
)
from bench.harness import percentile
from tenure.adapters.db.listing import count_by_status, encode_cursor, page_query
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.uow import UnitOfWork
from tenure.config import Settings
from tenure.domain.access import Caller, Role
from tenure.domain.model import HoldReason, Kind
from tenure.entrypoints.app import create_app
from tenure.services import accounts
from tenure.services.read_models import AccountFilter

PAGE = 50


def _timed(run: Callable[[], object], n: int) -> list[float]:
    for _ in range(5):  # warm caches and connections
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
    """The cursor of the page that starts in the middle of the list (page 100 of 200)."""
    query = page_query(caller, flt, limit=10**9, cursor=None).with_only_columns(A.c.sort_key, A.c.id)
    with engine.connect() as conn:
        rows = list(conn.execute(query))
    middle = rows[len(rows) // 2]
    return encode_cursor([middle.sort_key, middle.id])


def _suspend_some(engine: Engine, operator_id: str, caller: Caller) -> None:
    """One channel suspended (its clients inherit) and a few own holds, so status is not trivial."""
    with UnitOfWork(engine).reading() as uow:
        channel = uow.connection.execute(select(A.c.id).where(A.c.kind == Kind.CHANNEL.value).limit(1)).scalar_one()
        clients = list(uow.connection.execute(select(A.c.id).where(A.c.kind == "client").limit(200)).scalars())
    now = datetime.now(UTC)
    for account_id in [channel, *clients[100:150]]:
        accounts.suspend(
            UnitOfWork(engine),
            caller=caller,
            account_id=account_id,
            reason=HoldReason.FRAUD,
            note="bench",
            expected_version=None,
            now=now,
        )


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
        engine = dataset.engine
        with UnitOfWork(engine).reading() as uow:
            admin = uow.users.by_email(ADMIN_EMAIL)
            assert admin is not None
        caller = admin.as_caller()
        assert caller.role is Role.ADMIN
        _suspend_some(engine, dataset.operator_id, caller)

        app = create_app(Settings(database_url=url), engine=engine)
        flt = AccountFilter(kind=Kind.CLIENT)
        later = _later_cursor(engine, flt, caller)
        with TestClient(app, base_url="http://127.0.0.1") as http:
            token = http.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
            signed = http.post("/login", data={"email": ADMIN_EMAIL, "password": PASSWORD, "csrf_token": token})
            assert signed.status_code == 200 and "Clients" in signed.text, signed.status_code
            size = f"{shape.clients:,} clients, {engine.dialect.name}, {args.requests} requests each"
            print(f"Console GET /clients — {size}")
            header = ("ours p50 / p95", "bare page p50 / p95", "bare+counts p50 / p95", "p95 ratio")
            print(f"{'page':<8}{header[0]:>18}{header[1]:>22}{header[2]:>24}{header[3]:>11}")
            for name, path, cursor in (("first", "/clients", None), ("later", "/clients?cursor=" + later, later)):
                response = http.get(path)
                assert response.status_code == 200 and response.text.count("<tr>") >= PAGE, response.status_code
                ours = _timed(partial(http.get, path), args.requests)

                def bare_page(cursor: str | None = cursor) -> None:
                    with engine.connect() as conn:
                        conn.execute(page_query(caller, flt, limit=PAGE, cursor=cursor)).all()

                def bare_with_counts(cursor: str | None = cursor) -> None:
                    with engine.connect() as conn:
                        conn.execute(page_query(caller, flt, limit=PAGE, cursor=cursor)).all()
                        count_by_status(conn, caller, flt)

                page_only = _timed(bare_page, args.requests)
                with_counts = _timed(bare_with_counts, args.requests)
                ratio = percentile(ours, 95) / percentile(with_counts, 95)
                print(f"{name:<8}{_pair(ours):>18}{_pair(page_only):>22}{_pair(with_counts):>24}{ratio:>10.1f}x")
        engine.dispose()
        if args.postgres:
            drop_postgres_database(args.postgres, name)


if __name__ == "__main__":
    main()
