"""P1b: bulk suspend/unsuspend through `POST /api/v1/accounts/bulk`, against `pgbench -N` in the same run.

Ours: two HTTP clients (one per server worker), each with its own distinct
clients of one channel, send batches of up to 1,000 ids: suspend them all, then
unsuspend them all, again and again for the given time. Every item is a full
change (row lock, hold, audit event, its emails and webhooks), the same as
P1's single calls. Changes/s counts the items answered `ok`; any item not ok,
and any non-200 answer, is reported (target: none). A pair is always finished,
so the channel is left as it was found. One untimed pair per sender first,
then `ANALYZE holds`, as autovacuum would soon do on a live system: the data
loader analyzed `holds` while it was empty, and with "no holds" in its
statistics PostgreSQL hashes every hold in force for each cascade's anti-join
(~2 ms instead of ~0.15 ms per item at 1,000 holds in force).
Bare: `pgbench -N` with 8 clients for the same time, right before ours.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
from sqlalchemy import text

from bench.data import Dataset
from bench.harness import Result, percentile
from bench.load import Server
from bench.p1_lifecycle import CLIENTS, pgbench_tps

BATCH = 1000
SENDERS = 2


@dataclass
class Tally:
    changes: int = 0
    refused: int = 0
    non_200: int = 0
    statuses: Counter[int] = field(default_factory=Counter)  # every non-200 answer, by status
    batch_ms: list[float] = field(default_factory=list)


def _send(client: httpx.Client, body: dict[str, object], tally: Tally) -> None:
    started = time.perf_counter()
    response = client.post("/api/v1/accounts/bulk", json=body)
    tally.batch_ms.append((time.perf_counter() - started) * 1000)
    if response.status_code != 200:
        tally.non_200 += 1
        tally.statuses[response.status_code] += 1
        return
    results = response.json()["results"]
    ok = sum(1 for item in results if item["ok"])
    tally.changes += ok
    tally.refused += len(results) - ok


def _sender(base: str, token: str, ids: list[str], deadline: float, tally: Tally) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        while True:
            _send(client, {"action": "suspend", "ids": ids, "reason": "non_payment", "note": "bench"}, tally)
            _send(client, {"action": "unsuspend", "ids": ids}, tally)
            if time.perf_counter() >= deadline:
                return


def _senders(base: str, token: str, groups: list[list[str]], seconds: float) -> tuple[list[Tally], float]:
    tallies = [Tally() for _ in groups]
    started = time.perf_counter()
    threads = [
        threading.Thread(target=_sender, args=(base, token, ids, started + seconds, tally))
        for ids, tally in zip(groups, tallies, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tallies, time.perf_counter() - started


def run(ds: Dataset, server: Server, *, channel: int, seconds: int, size: str) -> list[Result]:
    per_sender = min(BATCH, ds.shape.clients_per_channel // SENDERS)
    groups = [ds.client_ids(channel, per_sender, start=i * per_sender) for i in range(SENDERS)]
    _senders(server.base, ds.token, groups, 0)  # warm-up: one pair each, untimed
    with ds.engine.begin() as connection:
        connection.execute(text("ANALYZE holds"))
    bare = pgbench_tps(ds.url, clients=CLIENTS, seconds=seconds)
    server.reset_peak()
    tallies, elapsed = _senders(server.base, ds.token, groups, seconds)
    changes = sum(t.changes for t in tallies)
    refused = sum(t.refused for t in tallies)
    non_200 = sum(t.non_200 for t in tallies)
    statuses = sum((t.statuses for t in tallies), Counter[int]())
    by_status = (
        f" ({', '.join(f'{status}: {count}' for status, count in sorted(statuses.items()))})" if statuses else ""
    )
    batch_ms = [ms for t in tallies for ms in t.batch_ms]
    ours = changes / elapsed
    return [
        Result(
            scenario="P1b",
            what=f"bulk suspend/unsuspend via HTTP, {SENDERS} senders x {per_sender} ids (changes/s) vs pgbench -N tps",
            backend="postgresql",
            size=size,
            ours=ours,
            bare=bare,
            unit="changes/s",
            higher_is_better=True,
            target="≥ 50 % of pgbench -N",
            met=ours >= 0.5 * bare and refused == 0 and non_200 == 0,
            peak_rss_mb=server.peak_rss_mb(),
            notes=f"{len(batch_ms)} batches, {changes:,} changes, {refused} items refused, {non_200} non-200{by_status}; "
            f"batch p50 {percentile(batch_ms, 50):.0f} ms, p99 {percentile(batch_ms, 99):.0f} ms; "
            f"{elapsed:.1f} s (pairs finished)",
            extra={"refused": refused, "non_200": non_200, "batch_p50_ms": percentile(batch_ms, 50)},
        )
    ]
