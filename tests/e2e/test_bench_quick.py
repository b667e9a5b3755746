"""`python -m bench --quick` still runs: every scenario produces its figures (issue 6).

Only that the benchmarks work is checked here — never how fast anything is:
timing thresholds do not belong in the test suite. The full run and its
figures are in docs/performance.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bench.p1_lifecycle import pgbench_path
from bench.p7_calls import sip_tools_available

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = {"P1", "P1b", "P2", "P3", "P4", "P4c", "P5", "P6", "P7", "P8"}


@pytest.mark.slow
def test_quick_benchmark_reports_every_scenario_on_both_databases(tmp_path: Path) -> None:
    url = os.environ.get("TENURE_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("the benchmarks need PostgreSQL: set TENURE_TEST_POSTGRES_URL")
    tools = ("wrk", "freeradius", "radclient")
    if any(shutil.which(tool) is None for tool in tools) or pgbench_path() is None or not sip_tools_available():
        message = (
            "the benchmarks need wrk, pgbench, Kamailio, SIPp and FreeRADIUS (apt-get install wrk postgresql"
            " kamailio kamailio-utils-modules kamailio-extra-modules sip-tester freeradius freeradius-rest"
            " freeradius-utils)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    output = tmp_path / "latest.json"
    prefix = f"tenure_bench_ci_{os.getpid()}"
    command = [sys.executable, "-m", "bench", "--quick", "--postgres-url", url, "--output", str(output)]
    done = subprocess.run(
        [*command, "--db-prefix", prefix], cwd=ROOT, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]

    report = json.loads(output.read_text())
    results = report["results"]
    assert {r["scenario"] for r in results} == SCENARIOS
    assert {r["scenario"] for r in results if r["backend"] == "sqlite"} == {"P3", "P4", "P6"}
    for result in results:
        whole_ms = result["scenario"] == "P7"  # SIPp times calls in whole ms: a quick run's 0 ms is real
        assert result["ours"] > 0 or (whole_ms and result["ours"] == 0), result
        assert result["met"] in (True, False, None)
        assert result["unit"] and result["what"] and result["target"]
    compared = [r for r in results if r["bare"] is not None]
    assert {r["scenario"] for r in compared} == SCENARIOS  # each scenario has its bare-database figure
    assert all(r["ratio"] is not None and r["ratio"] > 0 for r in compared if r["scenario"] != "P7")
    calls = [r for r in results if r["scenario"] == "P7"]
    assert all(r["bare"] >= 0 and "failed" in r["notes"] for r in calls)
    assert report["meta"]["machine"]["nproc"] >= 1
    assert "| P1 |" in done.stdout  # the table is printed
