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
import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.network.support import HOST, Kamailio, Ports, Uas, free_port

from bench.data import Dataset, phone_number
from bench.harness import Result, percentile
from bench.load import Server

CALL = Path(__file__).resolve().parent / "sip" / "call.xml"
TARGET_MS = 5.0


def sip_tools_available() -> bool:
    return shutil.which("kamailio") is not None and shutil.which("sipp") is not None


@dataclass
class CallRun:
    placed: int
    succeeded: int
    failed: int
    setup_ms: list[float]

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
        rows = list(csv.reader(rtt.open(), delimiter=";"))
        setup_ms += [float(row[1]) for row in rows[1:] if len(row) > 1 and row[1]]
    last = list(csv.DictReader((folder / "stat.csv").open(), delimiter=";"))[-1]
    succeeded = int(last["SuccessfulCall(C)"])
    return CallRun(calls, succeeded, calls - succeeded, setup_ms)


def run(ds: Dataset, server: Server, *, rate: int, seconds: int, size: str) -> list[Result]:
    folder = Path(tempfile.mkdtemp(prefix="tenure-p7-"))
    ports = Ports(carrier=free_port(), carrier_uas=free_port(), pbx_uas=free_port())
    numbers = _numbers_file(ds, folder)
    uas = Uas(folder / "uas", ports.carrier_uas)
    runs: dict[str, CallRun] = {}
    try:
        for side, extra in (("bare", {"SKIP_TENURE": "1"}), ("ours", {})):
            kamailio = Kamailio(
                folder / f"kamailio-{side}", tenure_url=server.base, key=ds.token, ports=ports, fail_mode="closed",
                SIP_WORKERS="4", LOOKUP_WORKERS="8", **extra,
            )  # fmt: skip
            try:
                runs[side] = _sipp(kamailio, folder / f"sipp-{side}", numbers, rate=rate, seconds=seconds)
            finally:
                kamailio.stop()
    finally:
        uas.stop()
        shutil.rmtree(folder, ignore_errors=True)
    ours, bare = runs["ours"], runs["bare"]
    added = ours.p99 - bare.p99
    notes = (
        f"{ours.placed:,} calls each at {rate}/s for {seconds} s; failed: {ours.failed} with the check, "
        f"{bare.failed} without; p99 added {added:.2f} ms, median {ours.p50:.2f} vs {bare.p50:.2f} ms"
    )
    return [
        Result(
            scenario="P7",
            backend=ds.engine.dialect.name,
            size=size,
            higher_is_better=False,
            what=f"call setup (INVITE -> 200) p99 through Kamailio, with the Tenure check vs without, SIPp {rate} calls/s (ms)",
            ours=ours.p99,
            bare=bare.p99,
            unit="ms p99",
            target="0 failed calls, ≤ +5 ms at p99",
            met=ours.failed == 0 and bare.failed == 0 and added <= TARGET_MS,
            notes=notes,
            extra={"failed_with_check": ours.failed, "failed_without": bare.failed, "p99_added_ms": added},
        ),
        Result(
            scenario="P7",
            backend=ds.engine.dialect.name,
            size=size,
            higher_is_better=False,
            what=f"call setup (INVITE -> 200) median through Kamailio, with the Tenure check vs without, SIPp {rate} calls/s (ms)",
            ours=ours.p50,
            bare=bare.p50,
            unit="ms p50",
            target="(none)",
            met=None,
            notes=f"median added {ours.p50 - bare.p50:.2f} ms",
        ),
    ]
