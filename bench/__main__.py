"""`python -m bench`: every scenario of issue 6, ours against the bare database, in one run.

    .venv/bin/python -m bench [--quick] [--postgres-url URL] [--only P1,P1b,P4,P4c] [--p6-count N] [--keep]

PostgreSQL comes from --postgres-url, else TENURE_BENCH_POSTGRES_URL, else
TENURE_TEST_POSTGRES_URL (a role that may create databases); the benchmark
makes its own databases (tenure_bench*, dropped at the end unless --keep),
never the test ones. SQLite files go to a temporary folder. --quick uses
small sizes and short durations: it proves the benchmarks work (CI), its
figures mean nothing. Prints the table and writes bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    console,
    data,
    p1_lifecycle,
    p1b_bulk,
    p2_lookup,
    p3_cascade,
    p4_search,
    p5_charges,
    p6_scheduler,
    p7_calls,
    p8_radius,
)
from bench.harness import Result, git_commit, machine, table, write_json
from bench.load import Server, wrk_available

SCENARIOS = ("P1", "P1b", "P2", "P3", "P4", "P4c", "P5", "P6", "P7", "P8")


@dataclass(frozen=True)
class Sizes:
    big: data.Shape  # P1, P2, P3, P4, P6 on PostgreSQL
    small: data.Shape | None  # P2 and P4 again, to show how they move with size
    charges: data.Shape  # P5: 3 services per client
    sqlite: data.Shape  # P3, P4, P6 on SQLite
    radius: data.Shape  # P8: one internet service per client
    seconds: int  # P1 and each P2 phase
    p4_requests: int
    p6_count: int
    sqlite_p6_count: int
    pgbench_scale: int
    calls: data.Shape  # P7: one phone number per client
    call_rate: int  # P7: calls/s
    call_seconds: int  # P7: how long each side calls


FULL = Sizes(
    big=data.Shape(5, 2, 100_000),
    small=data.Shape(1, 2, 5_000),
    charges=data.Shape(1, 1, 100_000),
    sqlite=data.Shape(1, 4, 2_500),
    radius=data.Shape(1, 2, 50_000),
    seconds=15,
    p4_requests=200,
    p6_count=100_000,  # issue 13: the full size
    sqlite_p6_count=2_500,
    pgbench_scale=10,
    calls=data.Shape(1, 2, 50_000),
    call_rate=200,
    call_seconds=30,
)
QUICK = Sizes(
    big=data.Shape(1, 4, 300),
    small=None,
    charges=data.Shape(1, 1, 300),
    sqlite=data.Shape(1, 4, 100),
    radius=data.Shape(1, 1, 300),
    seconds=1,
    p4_requests=5,
    p6_count=300,
    sqlite_p6_count=100,
    pgbench_scale=1,
    calls=data.Shape(1, 2, 150),
    call_rate=20,
    call_seconds=2,
)


def _size(shape: data.Shape) -> str:
    return f"{shape.accounts:,} accounts"


class Run:
    def __init__(self, args: argparse.Namespace, sizes: Sizes) -> None:
        self.args = args
        self.sizes = sizes
        self.only = set(args.only.split(",")) if args.only else set(SCENARIOS)
        self.results: list[Result] = []
        self.loads: dict[str, float] = {}
        self.folder = Path(tempfile.mkdtemp(prefix="tenure-bench-"))

    def wants(self, *names: str) -> bool:
        return bool(self.only & set(names))

    def step(self, label: str, action: Callable[[], list[Result]]) -> None:
        started = time.perf_counter()
        print(f"-- {label} …", file=sys.stderr, flush=True)
        found = action()
        self.results += found
        print(f"   {len(found)} result(s) in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)

    def dataset(self, url: str, shape: data.Shape, name: str, *, services: int = 0) -> data.Dataset:
        started = time.perf_counter()
        now = datetime.now(UTC)
        ds = data.build(url, shape, now=now)
        if services:
            data.add_services(ds, kinds=services, now=now)
        self.loads[name] = time.perf_counter() - started
        print(f"   {name}: {shape.accounts:,} accounts loaded in {self.loads[name]:.1f} s", file=sys.stderr)
        return ds

    # -- PostgreSQL ---------------------------------------------------------
    def postgres(self, admin_url: str) -> None:
        s = self.sizes
        names: list[str] = []
        try:
            if self.wants("P2", "P4") and s.small is not None:
                names.append(f"{self.args.db_prefix}_small")
                small = self.dataset(
                    data.postgres_database(admin_url, names[-1]), s.small, "postgresql small", services=1
                )
                small_size = _size(s.small)
                with Server(small.url) as server:
                    if self.wants("P4"):
                        self.step(
                            "P4 small", lambda: p4_search.run(small, server, repeat=s.p4_requests, size=small_size)
                        )
                    if self.wants("P2"):
                        self.step("P2 small", lambda: p2_lookup.run(small, server, seconds=s.seconds, size=small_size))
                small.engine.dispose()
            if self.wants("P1", "P1b", "P2", "P3", "P4", "P4c", "P6"):
                names.append(self.args.db_prefix)
                big = self.dataset(data.postgres_database(admin_url, names[-1]), s.big, "postgresql big", services=1)
                with Server(big.url) as server:
                    if self.wants("P4"):
                        self.step("P4 big", lambda: p4_search.run(big, server, repeat=s.p4_requests, size=_size(s.big)))
                    if self.wants("P2"):
                        self.step("P2 big", lambda: p2_lookup.run(big, server, seconds=s.seconds, size=_size(s.big)))
                    if self.wants("P1"):
                        p1_lifecycle.pgbench_init(big.url, s.pgbench_scale)
                        size = _size(s.big)
                        self.step("P1", lambda: p1_lifecycle.run(big, server, channel=1, seconds=s.seconds, size=size))
                    if self.wants("P1b"):
                        p1_lifecycle.pgbench_init(big.url, s.pgbench_scale)
                        size = _size(s.big)
                        self.step("P1b", lambda: p1b_bulk.run(big, server, channel=2, seconds=s.seconds, size=size))
                if self.wants("P3"):
                    self.step("P3", lambda: p3_cascade.run(big, channel=0))
                if self.wants("P6"):
                    last = s.big.channels - 1
                    count = min(self.args.p6_count or s.p6_count, s.big.clients_per_channel)
                    self.step("P6", lambda: p6_scheduler.run(big, channel=last, bare_channel=last - 1, count=count))
                if self.wants("P4c"):  # last: it suspends a channel of its own
                    clients = f"{s.big.clients:,} clients"
                    self.step("P4c", lambda: console.run(big, requests=s.p4_requests, size=clients))
                big.engine.dispose()
            if self.wants("P5"):
                names.append(f"{self.args.db_prefix}_charges")
                charges = self.dataset(
                    data.postgres_database(admin_url, names[-1]), s.charges, "postgresql charges", services=3
                )
                with Server(charges.url) as server:
                    size = f"{s.charges.clients:,} clients x 3 services"
                    self.step("P5", lambda: p5_charges.run(charges, server, size=size))
                charges.engine.dispose()
            if self.wants("P7"):
                names.append(f"{self.args.db_prefix}_calls")
                calls = self.dataset(
                    data.postgres_database(admin_url, names[-1]), s.calls, "postgresql calls", services=1
                )
                with Server(calls.url) as server:
                    size = f"{s.calls.clients:,} active numbers"
                    self.step(
                        "P7",
                        lambda: p7_calls.run(calls, server, rate=s.call_rate, seconds=s.call_seconds, size=size),
                    )
                calls.engine.dispose()
            if self.wants("P8"):
                names.append(f"{self.args.db_prefix}_radius")
                radius = self.dataset(data.postgres_database(admin_url, names[-1]), s.radius, "postgresql radius")
                data.add_internet_services(radius, now=datetime.now(UTC))
                with Server(radius.url) as server:
                    size = f"{s.radius.clients:,} internet services"
                    self.step("P8", lambda: p8_radius.run(radius, server, seconds=s.seconds, size=size))
                radius.engine.dispose()
        finally:
            if not self.args.keep:
                for name in names:
                    data.drop_postgres_database(admin_url, name)

    # -- SQLite -------------------------------------------------------------
    def sqlite(self) -> None:
        s = self.sizes
        if not self.wants("P3", "P4", "P6"):
            return
        lite = self.dataset(data.sqlite_database(self.folder, "bench"), s.sqlite, "sqlite")
        if self.wants("P4"):
            with Server(lite.url, workers=1) as server:
                self.step("P4 sqlite", lambda: p4_search.run(lite, server, repeat=s.p4_requests, size=_size(s.sqlite)))
        if self.wants("P3"):
            self.step("P3 sqlite", lambda: p3_cascade.run(lite, channel=0))
        if self.wants("P6"):
            last = s.sqlite.channels - 1
            count = min(s.sqlite_p6_count, s.sqlite.clients_per_channel)
            self.step("P6 sqlite", lambda: p6_scheduler.run(lite, channel=last, bare_channel=last - 1, count=count))
        lite.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, short runs: proves it works (CI)")
    parser.add_argument("--postgres-url", default=None, help="an admin URL allowed to create databases")
    parser.add_argument("--only", default="", help="comma list of scenarios, e.g. P1,P4")
    parser.add_argument("--p6-count", type=int, default=0, help="due decommissions for P6 (default 100,000)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite half")
    parser.add_argument("--db-prefix", default="tenure_bench", help="name of the PostgreSQL databases made")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL benchmark databases")
    parser.add_argument("--output", type=Path, default=None, help="JSON path (default bench/results/latest.json)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TENURE_ARGON2_PROFILE", "cheapest")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop servers, drop databases on the way out
    admin_url = (
        args.postgres_url or os.environ.get("TENURE_BENCH_POSTGRES_URL") or os.environ.get("TENURE_TEST_POSTGRES_URL")
    )
    if not admin_url:
        parser.error("PostgreSQL is needed: --postgres-url or TENURE_BENCH_POSTGRES_URL (see scripts/postgres)")
    wanted = set(args.only.split(",")) if args.only else set(SCENARIOS)
    if not wrk_available() and wanted & {"P1", "P2"}:
        parser.error("wrk is needed for P1 and P2 (Debian: apt-get install wrk)")
    if "P7" in wanted and not p7_calls.sip_tools_available():
        parser.error(
            "kamailio and sipp are needed for P7 (Debian: kamailio kamailio-utils-modules "
            "kamailio-extra-modules sip-tester)"
        )
    if wanted & {"P1", "P1b"} and p1_lifecycle.pgbench_path() is None:
        parser.error("pgbench is needed for P1 and P1b (Debian: postgresql-15 ships it)")
    if "P8" in wanted and (reason := p8_radius.available()):
        parser.error(f"P8 {reason}")
    run = Run(args, QUICK if args.quick else FULL)
    started = time.perf_counter()
    try:
        run.postgres(admin_url)
        if not args.no_sqlite:
            run.sqlite()
    finally:
        shutil.rmtree(run.folder, ignore_errors=True)
    meta = {
        "mode": "quick" if args.quick else "full",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": machine(),
        "postgresql": _server_version(admin_url),
        "load_seconds": run.loads,
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    path = write_json(run.results, meta, args.output)
    print(table(run.results))
    print(f"\n{len(run.results)} results in {meta['total_seconds']} s; JSON: {path}")
    return 0


def _server_version(url: str) -> str:
    from sqlalchemy import text

    from tenure.adapters.db.engine import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        version = str(conn.execute(text("SHOW server_version")).scalar_one())
    engine.dispose()
    return version


if __name__ == "__main__":
    sys.exit(main())
