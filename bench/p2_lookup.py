"""P2: the number lookup `GET /api/v1/entitlements/numbers/{e164}` against the same stack's empty endpoint.

Ours: `wrk` (16 connections, 2 threads) asking for 10,000 different numbers
in turn with an `entitlements:read` API key (as a softswitch would), on
`tenure serve` with `SERVER_WORKERS` (2) worker processes; then an open-loop
generator (bench/load.py) at a steady 1,000 requests/s for the p99. Bare: the
same server's `GET /healthz` (no database, no credential check) under exactly
the same load, right before ours. Targets (issue 11): throughput ≥ 50 % of
/healthz, and p99 at 1,000 requests/s ≤ 1.5x /healthz's p99 at that rate.
"""

from __future__ import annotations

import os
import random

from bench.data import Dataset, phone_number
from bench.harness import Result, percentile
from bench.load import GRACE, SERVER_WORKERS, Server, open_loop, write_lines, wrk

CONNECTIONS = 16
RATE = 1000


def _paths(ds: Dataset, count: int) -> list[str]:
    rng = random.Random(6)
    picks = [rng.randrange(ds.shape.clients) for _ in range(count)]
    return [f"/api/v1/entitlements/numbers/%2B{phone_number(i)[1:]}?capability=outbound_calls" for i in picks]


def run(ds: Dataset, server: Server, *, seconds: int, size: str) -> list[Result]:
    paths = _paths(ds, 10_000)
    lookups = write_lines(paths)
    health = write_lines(["/healthz"])
    headers = {"Authorization": f"Bearer {ds.key}"}
    try:
        check = open_loop(server.port, paths[:20], headers=headers, rate=100, seconds=0.2, connections=2)
        if check.errors:
            raise RuntimeError("the number lookup did not answer 200; is every number loaded?")
        bare = wrk(server.base, connections=CONNECTIONS, threads=2, seconds=seconds, script="get.lua", args=[health])
        server.reset_peak()
        ours = wrk(
            server.base, connections=CONNECTIONS, threads=2, seconds=seconds, script="get.lua", args=[lookups, ds.key]
        )
        rss = server.peak_rss_mb()
        bare_steady = open_loop(server.port, ["/healthz"], headers=headers, rate=RATE, seconds=seconds)
        steady = open_loop(server.port, paths, headers=headers, rate=RATE, seconds=seconds)
    finally:
        os.unlink(lookups)
        os.unlink(health)
    p99 = percentile(steady.latencies_ms, 99)
    bare_p99 = percentile(bare_steady.latencies_ms, 99)
    processes = f"{SERVER_WORKERS} server processes"
    return [
        Result(
            scenario="P2",
            what="number lookup throughput vs GET /healthz, wrk 16 connections (req/s)",
            backend=ds.engine.dialect.name,
            size=size,
            ours=ours.ok_per_second,
            bare=bare.ok_per_second,
            unit="req/s",
            higher_is_better=True,
            target="≥ 50 % of /healthz",
            met=ours.ok_per_second >= 0.5 * bare.ok_per_second and ours.non_2xx == 0,
            peak_rss_mb=rss,
            notes=f"{processes}; {ours.requests:,} lookups, {ours.failures()}, wrk p99 {ours.p99_ms:.1f} ms",
        ),
        Result(
            scenario="P2",
            what=f"number lookup p99 at a steady {RATE:,} req/s, open loop (ms)",
            backend=ds.engine.dialect.name,
            size=size,
            ours=p99,
            bare=bare_p99,
            unit="ms p99",
            higher_is_better=False,
            target="≤ 1.5x /healthz's p99",
            met=p99 <= 1.5 * bare_p99 and steady.errors == 0 and steady.unanswered == 0,
            peak_rss_mb=rss,
            notes=f"{processes}; {steady.scheduled:,} scheduled over {seconds} s, {steady.unanswered:,} unanswered "
            f"{GRACE:.0f} s after the last (counted at {GRACE:.0f} s), {steady.errors} non-2xx {steady.statuses}, "
            f"p50 {percentile(steady.latencies_ms, 50):.2f} ms",
        ),
    ]
