"""P7: what Tenure's check adds to call setup, SIPp at a fixed rate through Kamailio.

Ours: integrations/kamailio/kamailio.cfg as shipped (4 SIP workers, 8 lookup
workers, TIMEOUT_MS 500, FAIL_MODE closed) asking `tenure serve` (two worker
processes, PostgreSQL) about the calling number of every INVITE. Bare: the same
file with `-A SKIP_TENURE=1`, which relays without asking, right before ours in
the same run. Each side: SIPp (bench/sip/call.xml) places calls at a fixed rate
from subscribers whose numbers are drawn from every active number, to a SIPp
UAS that answers 200; each call is completed with ACK and BYE. SIPp's response
time is INVITE sent -> 200 received, per call (`-trace_rtt`); a failed call is
any call that did not get its 200 (a 403 or 503 included) or did not end.
"""

from __future__ import annotations

import csv
import os
import random
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.network.support import HOST, Kamailio, Ports, Uas, free_port

from bench.data import Dataset, phone_number
from bench.harness import Result, children, percentile
from bench.load import Server

CALL = Path(__file__).resolve().parent / "sip" / "call.xml"
TARGET_MS = 5.0


def sip_tools_available() -> bool:
    return shutil.which("kamailio") is not None and shutil.which("sipp") is not None


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time so far of these processes (from /proc; 0 for any that is gone)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class CallRun:
    placed: int
    succeeded: int
    failed: int
    setup_ms: list[float]
    refused_503: int = 0  # answered by FAIL_MODE closed: Tenure did not answer within TIMEOUT_MS
    why_failed: str = ""  # SIPp's reasons, counted: "expected 200, got 503 x 3; timeout x 1"
    tenure_cpu_ms_per_call: float = 0.0  # the Tenure server's CPU time (all processes) per call placed
    kamailio_cpu_ms_per_call: float = 0.0

    @property
    def p50(self) -> float:
        return percentile(self.setup_ms, 50) if self.setup_ms else float("nan")

    @property
    def p99(self) -> float:
        return percentile(self.setup_ms, 99) if self.setup_ms else float("nan")


def _numbers_file(ds: Dataset, folder: Path) -> Path:
    """SIPp's injection file: every active number once, in a random order."""
    order = list(range(ds.shape.clients))
    random.Random(7).shuffle(order)
    path = folder / "numbers.csv"
    path.write_text("SEQUENTIAL\n" + "".join(f"{phone_number(i)};\n" for i in order))
    return path


def _sipp(kamailio: Kamailio, folder: Path, numbers: Path, *, rate: int, seconds: int) -> CallRun:
    folder.mkdir(parents=True)
    calls = rate * seconds
    command = ["sipp", "-sf", str(CALL), "-inf", str(numbers), "-i", HOST, "-p", str(free_port())]
    command += ["-r", str(rate), "-m", str(calls), "-l", str(rate * 10), "-recv_timeout", "10000"]
    command += [
        "-timer_resol",
        "1",
        "-trace_rtt",
        "-rtt_freq",
        "1",
        "-trace_stat",
        "-stf",
        str(folder / "stat.csv"),
        "-fd",
        "1",
    ]
    command += ["-trace_err", "-error_file", str(folder / "errors.log"), "-timeout", f"{seconds + 60}s"]
    command += ["-nostdin", f"{HOST}:{kamailio.port}"]
    subprocess.run(command, cwd=folder, capture_output=True, timeout=seconds + 120, check=False)
    setup_ms: list[float] = []
    for rtt in folder.glob("*_rtt.csv"):
        rows = list(csv.reader(rtt.read_text().splitlines(), delimiter=";"))
        setup_ms += [float(row[1]) for row in rows[1:] if len(row) > 1 and row[1]]
    last = list(csv.DictReader((folder / "stat.csv").read_text().splitlines(), delimiter=";"))[-1]
    succeeded = int(last["SuccessfulCall(C)"])
    return CallRun(calls, succeeded, calls - succeeded, setup_ms, why_failed=_why_failed(folder / "errors.log"))


_ENTRY = re.compile(r"\d{4}-\d\d-\d\d\t\d\d:\d\d:\d\d\.\d+\t")  # each error starts with a timestamp
_UNEXPECTED = re.compile(r"while expecting '([^']+)'.*?received '(?:SIP/2\.0 (\d{3})|([A-Z]+) )")


def _why_failed(errors: Path) -> str:
    """SIPp's error log summed up: which answer came instead of the expected one, or what else."""
    if not errors.exists():
        return ""
    reasons: Counter[str] = Counter()
    for entry in _ENTRY.split(errors.read_text(errors="replace"))[1:]:
        unexpected = _UNEXPECTED.search(entry)
        if unexpected:
            reasons[f"expected {unexpected[1]}, got {unexpected[2] or unexpected[3]}"] += 1
        else:
            reasons[entry.split(": ", 1)[-1].strip()[:60]] += 1
    return "; ".join(f"{reason} x {n}" for reason, n in reasons.most_common(4))


def _measured(kamailio: Kamailio, server: Server, folder: Path, numbers: Path, *, rate: int, seconds: int) -> CallRun:
    """One side's calls, with the CPU time Tenure and Kamailio spent on them (the cheap profile)."""
    kamailio_pids = [kamailio.process.pid, *children(kamailio.process.pid)]
    tenure_before, kamailio_before = cpu_seconds(server.pids()), cpu_seconds(kamailio_pids)
    result = _sipp(kamailio, folder, numbers, rate=rate, seconds=seconds)
    result.tenure_cpu_ms_per_call = (cpu_seconds(server.pids()) - tenure_before) * 1000 / result.placed
    result.kamailio_cpu_ms_per_call = (cpu_seconds(kamailio_pids) - kamailio_before) * 1000 / result.placed
    result.refused_503 = len(kamailio.log_lines("FAIL_MODE=closed, 503"))
    return result


def run(ds: Dataset, server: Server, *, rate: int, seconds: int, size: str) -> list[Result]:
    folder = Path(tempfile.mkdtemp(prefix="tenure-p7-"))
    ports = Ports(carrier=free_port(), carrier_uas=free_port(), pbx_uas=free_port())
    numbers = _numbers_file(ds, folder)
    uas = Uas(folder / "uas", ports.carrier_uas)
    runs: dict[str, CallRun] = {}
    try:
        for side, extra in (("bare", {"SKIP_TENURE": "1"}), ("ours", {})):
            kamailio = Kamailio(
                folder / f"kamailio-{side}", tenure_url=server.base, key=ds.key, ports=ports, fail_mode="closed",
                SIP_WORKERS="4", LOOKUP_WORKERS="8", **extra,
            )  # fmt: skip
            try:
                runs[side] = _measured(kamailio, server, folder / f"sipp-{side}", numbers, rate=rate, seconds=seconds)
            finally:
                kamailio.stop()
    finally:
        uas.stop()
        shutil.rmtree(folder, ignore_errors=True)
    ours, bare = runs["ours"], runs["bare"]
    added = ours.p99 - bare.p99
    notes = (
        f"{ours.placed:,} calls each at {rate}/s for {seconds} s; failed: {ours.failed} with the check "
        f"({ours.refused_503} answered 503: no answer from Tenure within 500 ms; SIPp: {ours.why_failed or '-'}), "
        f"{bare.failed} without (SIPp: {bare.why_failed or '-'}); "
        f"p99 added {added:.0f} ms, median {ours.p50:.0f} vs {bare.p50:.0f} ms (SIPp measures whole ms); "
        f"CPU per call: Tenure {ours.tenure_cpu_ms_per_call:.1f} ms, "
        f"Kamailio {ours.kamailio_cpu_ms_per_call:.2f} ms with the check, {bare.kamailio_cpu_ms_per_call:.2f} ms without"
    )
    extra = {
        "failed_with_check": ours.failed,
        "failed_without": bare.failed,
        "answered_503": ours.refused_503,
        "why_failed_with_check": ours.why_failed,
        "why_failed_without": bare.why_failed,
        "p99_added_ms": added,
        "p50_added_ms": ours.p50 - bare.p50,
        "tenure_cpu_ms_per_call": ours.tenure_cpu_ms_per_call,
        "kamailio_cpu_ms_per_call": ours.kamailio_cpu_ms_per_call,
        "kamailio_cpu_ms_per_call_without": bare.kamailio_cpu_ms_per_call,
    }
    met = ours.failed == 0 and bare.failed == 0 and added <= TARGET_MS
    median_notes = (
        f"median added {ours.p50 - bare.p50:.0f} ms; failed: {ours.failed} with the check, {bare.failed} without"
    )
    return [
        _result(ds, size, rate, "p99", ours.p99, bare.p99, "0 failed calls, ≤ +5 ms at p99", met, notes, extra),
        _result(ds, size, rate, "median", ours.p50, bare.p50, "(none)", None, median_notes, None),
    ]


def _result(
    ds: Dataset,
    size: str,
    rate: int,
    measure: str,
    ours: float,
    bare: float,
    target: str,
    met: bool | None,
    notes: str,
    extra: dict[str, object] | None,
) -> Result:
    """One P7 row: call setup `measure` (p99 or median) with the Tenure check vs without."""
    return Result(
        scenario="P7",
        backend=ds.engine.dialect.name,
        size=size,
        higher_is_better=False,
        what=f"call setup (INVITE -> 200) {measure} through Kamailio, with the Tenure check vs without, SIPp {rate} calls/s (ms)",
        ours=ours,
        bare=bare,
        unit="ms p99" if measure == "p99" else "ms p50",
        target=target,
        met=met,
        notes=notes,
        extra=dict(extra or {}),
    )
