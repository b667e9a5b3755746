"""P1: lifecycle changes through the HTTP API against `pgbench -N` on the same database.

Ours: 8 connections (wrk, one thread each) each suspend a client, unsuspend
it, and move to their next client; every change is a full API call (token
check, row lock, hold, audit event, outbox rows, the account answered back).
Bare: `pgbench -N` (simple update: one UPDATE, one SELECT, one INSERT per
transaction) with the same 8 clients for the same time, on the same server and
database, right before ours.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys

from sqlalchemy.engine import make_url

from bench.data import Dataset
from bench.harness import Result
from bench.load import Server, write_lines, wrk

CLIENTS = 8


def pgbench_path() -> str | None:
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))
    return candidates[-1] if candidates else None


def _pg_env(url: str) -> tuple[list[str], dict[str, str]]:
    u = make_url(url)
    args = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
    return args, {**os.environ, "PGPASSWORD": u.password or "", "PGDATABASE": u.database or "postgres"}


def pgbench_init(url: str, scale: int) -> None:
    """pgbench's own tables, in the benchmark database, before anything is timed."""
    pgbench = pgbench_path()
    assert pgbench is not None
    args, env = _pg_env(url)
    subprocess.run(
        [pgbench, *args, "-i", "-q", "-s", str(scale)], env=env, check=True, capture_output=True, timeout=600
    )


def pgbench_tps(url: str, *, clients: int, seconds: int) -> float:
    pgbench = pgbench_path()
    assert pgbench is not None
    args, env = _pg_env(url)
    command = [
        pgbench,
        *args,
        "-N",
        "-c",
        str(clients),
        "-j",
        str(min(clients, os.cpu_count() or 1)),
        "-T",
        str(seconds),
    ]
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True, timeout=seconds + 120).stdout
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    if match is None:
        raise RuntimeError(f"unexpected pgbench output: {out}")
    return float(match.group(1))


def run(ds: Dataset, server: Server, *, channel: int, seconds: int, size: str) -> list[Result]:
    ids = write_lines(ds.client_ids(channel, min(ds.shape.clients_per_channel, 4000)))
    try:
        bare = pgbench_tps(ds.url, clients=CLIENTS, seconds=seconds)
        server.reset_peak()
        result = wrk(
            server.base,
            connections=CLIENTS,
            threads=CLIENTS,
            seconds=seconds,
            script="lifecycle.lua",
            args=[ids, ds.token, str(CLIENTS)],
        )
    finally:
        os.unlink(ids)
    if any(status >= 500 for status in result.statuses):
        print(f"   server log (tail):\n{server.log_tail()}", file=sys.stderr)
    ours = result.ok_per_second
    return [
        Result(
            scenario="P1",
            what="suspend/unsuspend via HTTP, 8 connections (changes/s) vs pgbench -N tps",
            backend="postgresql",
            size=size,
            ours=ours,
            bare=bare,
            unit="changes/s",
            higher_is_better=True,
            target="≥ 50 % of pgbench -N",
            met=ours >= 0.5 * bare and result.non_2xx == 0,
            peak_rss_mb=server.peak_rss_mb(),
            notes=f"{result.requests} requests, {result.failures()}, p50 {result.p50_ms:.1f} ms, "
            f"p99 {result.p99_ms:.1f} ms; {seconds} s each",
            extra={
                "p50_ms": result.p50_ms,
                "p99_ms": result.p99_ms,
                "non_2xx": result.non_2xx,
                "statuses": {str(status): count for status, count in result.statuses.items()},
                "timeouts": result.timeouts,
                "socket_errors": result.socket_errors,
            },
        )
    ]
