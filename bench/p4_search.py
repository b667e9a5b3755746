"""P4: `GET /api/v1/accounts` pages — search and the plain client list — against the bare SQL.

Ours: the request's latency seen by one sequential keep-alive client on
127.0.0.1 (an upper bound of server time), p95 over the requests, as the
operator's admin (who sees everything). "Later page" is the page after a
cursor in the middle of the matches, as keyset pagination reaches it.
Bare: the hand-written SQL for the same page (same filter, order and limit,
no visibility rule, no hydration), p95 of executing and fetching it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from sqlalchemy import Engine, text

from bench.data import FIRST, SECOND, Dataset, phone_number
from bench.harness import Result, percentile
from bench.load import Server
from tenure.adapters.db.listing import decode_cursor, encode_cursor
from tenure.adapters.phone import search_prefix

LIMIT = 50


@dataclass(frozen=True)
class Variant:
    name: str
    q: str | None
    deep: bool


def _variants(ds: Dataset) -> list[Variant]:
    n = ds.shape.clients // 2 + 7
    name = f"{FIRST[n % len(FIRST)]} {SECOND[n // len(FIRST) % len(SECOND)]} {n}"
    ref = f"ten-{n + 3 + ds.shape.resellers + ds.shape.channels:06d}"  # operator, management client, partners first
    return [
        Variant("q common (1 in 15 names), first page", "acme", deep=False),
        Variant("q common, later page", "acme", deep=True),
        Variant("q rare (one name), first page", name, deep=False),
        Variant("q rare (one billing ref), first page", ref, deep=False),
        Variant("q one client's number, spaced, first page", _spaced(phone_number(n)), deep=False),
        Variant("q one client's email, first page", f"client{n}@example.com", deep=False),
        Variant("clients list, first page", None, deep=False),
        Variant("clients list, later page", None, deep=True),
    ]


def _spaced(number: str) -> str:
    """ "+442030000042" as staff write it: "+44 20 3000 0042"."""
    return f"{number[:3]} {number[3:5]} {number[5:9]} {number[9:]}"


def _where(variant: Variant, engine_is_postgres: bool) -> tuple[str, dict[str, object]]:
    where = "kind = 'client' AND stage <> 'decommissioned'"
    params: dict[str, object] = {}
    if variant.q:
        # Inline, as the API sends it (listing._search): a parameter would let a generic plan walk every row.
        like = "ILIKE" if engine_is_postgres else "LIKE"  # ILIKE: the form the trigram index serves
        pattern = "'%" + variant.q.casefold().replace("'", "''") + "%'"
        terms = [f"sort_key LIKE {pattern} ESCAPE '\\'", f"billing_ref {like} {pattern} ESCAPE '\\'"]
        if "@" in variant.q[1:]:  # an address: the start of the email (listing._email_match)
            terms.append(f"lower(contact_email) LIKE '{variant.q.lower()}%'")
        else:
            terms.append(f"contact_email {like} {pattern} ESCAPE '\\'")
        number = search_prefix(variant.q)
        if number:
            terms.append(_holds_number(number, engine_is_postgres))
        where += f" AND ({' OR '.join(terms)})"
    return where, params


def _holds_number(number: str, engine_is_postgres: bool) -> str:
    """The number half of the search as one would write it by hand for each database."""
    held = "kind = 'phone_number' AND end_date IS NULL"
    if engine_is_postgres:
        return f"id = ANY(ARRAY(SELECT account_id FROM services WHERE label LIKE '{number}%' AND {held} LIMIT 1000))"
    upper = number[:-1] + str(int(number[-1]) + 1) if number[-1] != "9" else number + ":"
    return (
        f"id IN (SELECT account_id FROM services WHERE label >= '{number}' AND label < '{upper}' AND {held} LIMIT 1000)"
    )


def _middle_cursor(engine: Engine, variant: Variant) -> str:
    where, params = _where(variant, engine.dialect.name == "postgresql")
    with engine.connect() as conn:
        count = conn.execute(text(f"SELECT count(*) FROM accounts WHERE {where}"), params).scalar_one()
        row = conn.execute(
            text(f"SELECT sort_key, id FROM accounts WHERE {where} ORDER BY sort_key, id LIMIT 1 OFFSET :o"),
            {**params, "o": int(count) // 2},
        ).one()
    return encode_cursor([row.sort_key, row.id])


def _bare_ms(engine: Engine, variant: Variant, cursor_values: list[str] | None, repeat: int) -> list[float]:
    where, params = _where(variant, engine.dialect.name == "postgresql")
    if cursor_values:
        where += " AND (sort_key, id) > (:k, :i)"
        params = {**params, "k": cursor_values[0], "i": cursor_values[1]}
    statement = f"SELECT * FROM accounts WHERE {where} ORDER BY sort_key, id LIMIT {LIMIT + 1}"
    timings = []
    with engine.connect() as conn:
        for _ in range(repeat):
            started = time.perf_counter()
            conn.execute(text(statement), params).all()
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def run(ds: Dataset, server: Server, *, repeat: int, size: str) -> list[Result]:
    results = []
    headers = {"Authorization": f"Bearer {ds.token}"}
    with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
        for variant in _variants(ds):
            params: dict[str, str | int] = {"kind": "client", "limit": LIMIT}
            if variant.q:
                params["q"] = variant.q
            cursor = _middle_cursor(ds.engine, variant) if variant.deep else None
            if cursor:
                params["cursor"] = cursor
            server.reset_peak()
            first = client.get("/api/v1/accounts", params=params)  # warm-up, and a check it answers
            first.raise_for_status()
            found = len(first.json()["items"])
            timings = []
            for _ in range(repeat):
                started = time.perf_counter()
                client.get("/api/v1/accounts", params=params).raise_for_status()
                timings.append((time.perf_counter() - started) * 1000)
            bare = _bare_ms(ds.engine, variant, decode_cursor(cursor, 2) if cursor else None, repeat + 1)[1:]
            ours = percentile(timings, 95)
            results.append(
                Result(
                    scenario="P4",
                    what=f"GET /api/v1/accounts: {variant.name} (p95 ms)",
                    backend=ds.engine.dialect.name,
                    size=size,
                    ours=ours,
                    bare=percentile(bare, 95),
                    unit="ms p95",
                    higher_is_better=False,
                    target="≤ 50 ms",
                    met=ours <= 50,
                    peak_rss_mb=server.peak_rss_mb(),
                    notes=f"{repeat} requests, {found} items on the page, p50 {percentile(timings, 50):.1f} ms",
                )
            )
    return results
