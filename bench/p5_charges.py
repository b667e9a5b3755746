"""P5: `GET /api/v1/charges.csv` for last month, N clients with 3 services each, against the bare SQL.

Ours: the whole download through `tenure serve`, streamed by httpx in 64 KiB
chunks and counted, as the operator's admin; the server processes' peak RSS is
reset before and read after (flat memory means it does not grow with N).
Bare: the same rows (each client's services overlapping the month, in the
CSV's order) from hand-written SQL, fetched through a server-side cursor.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import httpx
from sqlalchemy import bindparam, text

from bench.data import Dataset, operator_today
from bench.harness import Result
from bench.load import Server
from tenure.adapters.clock import SystemClock
from tenure.adapters.db.tables import services as S


def last_month() -> tuple[str, date, date]:
    first_of_this = operator_today(SystemClock().now()).replace(day=1)
    last = first_of_this - timedelta(days=1)
    return last.strftime("%Y-%m"), last.replace(day=1), last


def _bare(ds: Dataset, first: date, last: date) -> tuple[float, int]:
    statement = text(
        "SELECT a.billing_ref, a.name, s.kind, s.label, s.monthly_price_cents, s.start_date, s.end_date "
        "FROM services s JOIN accounts a ON a.id = s.account_id "
        "WHERE a.kind = 'client' AND a.stage IN ('active', 'decommissioned') AND a.start_date <= :last "
        "AND (a.decommissioned_on IS NULL OR a.decommissioned_on >= :first) "
        "AND s.start_date <= :last AND (s.end_date IS NULL OR s.end_date >= :first) "
        "ORDER BY a.sort_key, a.id, s.start_date, s.id"
    ).bindparams(
        bindparam("first", first, type_=S.c.start_date.type), bindparam("last", last, type_=S.c.start_date.type)
    )
    rows = 0
    with ds.engine.connect() as conn:
        started = time.perf_counter()
        result = conn.execution_options(yield_per=1000).execute(statement)
        for partition in result.partitions():
            rows += len(partition)
        return time.perf_counter() - started, rows


def run(ds: Dataset, server: Server, *, size: str) -> list[Result]:
    month, first, last = last_month()
    bare_seconds, bare_rows = _bare(ds, first, last)
    server.reset_peak()
    lines = 0
    size_bytes = 0
    headers = {"Authorization": f"Bearer {ds.token}"}
    started = time.perf_counter()
    with httpx.stream(
        "GET", f"{server.base}/api/v1/charges.csv", params={"month": month}, headers=headers, timeout=120
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes(65536):
            lines += chunk.count(b"\n")
            size_bytes += len(chunk)
    seconds = time.perf_counter() - started
    return [
        Result(
            scenario="P5",
            what=f"GET /api/v1/charges.csv?month={month}, streamed (s)",
            backend=ds.engine.dialect.name,
            size=size,
            ours=seconds,
            bare=bare_seconds,
            unit="s",
            higher_is_better=False,
            target="≤ 10 s, memory flat",
            met=seconds <= 10 and lines - 1 == bare_rows,
            peak_rss_mb=server.peak_rss_mb(),
            notes=f"{lines - 1:,} charge lines ({size_bytes / 1e6:.1f} MB); bare SQL {bare_rows:,} rows",
        )
    ]
