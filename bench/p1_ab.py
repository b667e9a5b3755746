"""P1 before and after in the same run: two servers, one dataset, alternating `wrk` runs, `pgbench -N` each round.

    git archive <commit> src | tar -x -C /tmp/base
    TENURE_BENCH_POSTGRES_URL=$(scripts/postgres) .venv/bin/python -m bench.p1_ab /tmp/base/src --seconds 8 --rounds 4

On a shared machine one P1 run moves by 2x from one minute to the next; alternating
the two servers round by round (and which goes first) puts both under the same load,
so their ratio means something when their absolute rates do not. Each `wrk` run gets
clients no earlier run touched. Prints each round with `uptime`, then the means.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from bench import data
from bench.load import Server, write_lines, wrk
from bench.p1_lifecycle import CLIENTS, pgbench_init, pgbench_tps

DATABASE = "tenure_bench_p1_ab"
PER_RUN = 2000


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def _server(url: str, source: str | None) -> Server:
    """A server on `source` (a `src` folder put first on PYTHONPATH), else on this checkout."""
    saved = os.environ.get("PYTHONPATH")
    if source:
        os.environ["PYTHONPATH"] = source
    try:
        return Server(url)
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.p1_ab", description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path, help="the `src` folder of the code to compare against")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    os.environ.setdefault("TENURE_ARGON2_PROFILE", "cheapest")
    admin = os.environ["TENURE_BENCH_POSTGRES_URL"]
    url = data.postgres_database(admin, DATABASE)
    try:
        ds = data.build(url, data.Shape(1, 2, PER_RUN * 2 * args.rounds), now=datetime.now(UTC))
        pgbench_init(url, 1)
        rates: dict[str, list[float]] = {"before": [], "after": [], "pgbench -N": []}
        with _server(url, str(args.base.resolve())) as before, _server(url, None) as after:
            servers = [("before", before), ("after", after)]
            for number in range(args.rounds):
                print(f"round {number}: {_uptime()}", flush=True)
                rates["pgbench -N"].append(pgbench_tps(url, clients=CLIENTS, seconds=args.seconds))
                for index, (name, server) in enumerate(servers if number % 2 == 0 else servers[::-1]):
                    start = (number * 2 + index) * PER_RUN
                    ids = write_lines(ds.client_ids(1, PER_RUN, start=start))
                    try:
                        result = wrk(
                            server.base,
                            connections=CLIENTS,
                            threads=CLIENTS,
                            seconds=args.seconds,
                            script="lifecycle.lua",
                            args=[ids, ds.token, str(CLIENTS)],
                        )
                    finally:
                        os.unlink(ids)
                    rates[name].append(result.ok_per_second)
                    print(f"  {name}: {result.ok_per_second:.0f} changes/s, {result.failures()}", flush=True)
        print(_uptime())
        mean = {name: sum(values) / len(values) for name, values in rates.items()}
        print(
            f"mean: before {mean['before']:.0f}/s, after {mean['after']:.0f}/s "
            f"({mean['after'] / mean['before']:.2f}x); pgbench -N {mean['pgbench -N']:.0f} tps "
            f"(after {mean['after'] / mean['pgbench -N']:.1%}, before {mean['before'] / mean['pgbench -N']:.1%})"
        )
        ds.engine.dispose()
    finally:
        data.drop_postgres_database(admin, DATABASE)


if __name__ == "__main__":
    main()
