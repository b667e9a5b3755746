"""Load: our server as `tenure serve` runs it, `wrk` for throughput, an open-loop generator for latency.

Everything binds 127.0.0.1 and every loop is bounded in time. `wrk` is closed
loop (each connection sends its next request when the last one answers), so it
measures throughput. Latency at a steady rate needs an open-loop generator:
`open_loop` sends request i at t0 + i/rate whatever happened before, and times
each from when it *should* have been sent, so a stall is charged to every
request that queued behind it (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.harness import children, peak_rss_mb, reset_peak_rss

HERE = Path(__file__).resolve().parent
SERVER_WORKERS = 2  # one uvicorn worker process per core


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`tenure serve --no-worker` on 127.0.0.1 against the benchmark database."""

    def __init__(self, database_url: str, *, workers: int = SERVER_WORKERS) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "TENURE_DATABASE_URL": database_url, "TENURE_LOG_FORMAT": "json"}
        command = [sys.executable, "-m", "tenure", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--workers", str(workers), "--no-worker"]
        # The server's log (warnings, errors with their tracebacks) goes to a file, not a pipe nobody
        # reads while it runs: a full pipe would stall the server, and the file explains a 5xx.
        self.log = tempfile.NamedTemporaryFile("w+b", prefix="tenure-bench-server-", suffix=".log")  # noqa: SIM115
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_tail()}")
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not answer /healthz within 60 s")

    def log_tail(self, limit: int = 4000) -> str:
        """The end of what the server wrote to stderr so far."""
        self.log.flush()
        return Path(self.log.name).read_bytes()[-limit:].decode(errors="replace")

    def pids(self) -> list[int]:
        return [self.process.pid, *children(self.process.pid)]

    def reset_peak(self) -> None:
        reset_peak_rss(self.pids())

    def peak_rss_mb(self) -> float:
        """Sum of the server processes' peaks (master and workers)."""
        return sum(peak_rss_mb(pid) or 0.0 for pid in self.pids())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


@dataclass
class WrkResult:
    """What `wrk` saw. Answers are counted by status as they came back (`statuses`); a request
    cut by wrk's own `--timeout` got no answer at all and is counted in `timeouts` instead, so
    the two never mix: a non-2xx here is an answer the server really sent."""

    requests: int
    seconds: float
    socket_errors: int  # connect, read and write errors
    timeouts: int  # no answer within wrk's --timeout: cut by the load generator
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)  # the first few non-2xx answers, status and body

    @property
    def non_2xx(self) -> int:
        return sum(count for status, count in self.statuses.items() if not 200 <= status < 300)

    @property
    def ok_per_second(self) -> float:
        return (self.requests - self.non_2xx) / self.seconds if self.seconds else 0.0

    def failures(self) -> str:
        """`0 non-2xx` or `2 non-2xx (409: 2)`, then any timeouts and socket errors, for a result's notes."""
        odd = {status: count for status, count in sorted(self.statuses.items()) if not 200 <= status < 300}
        text = f"{self.non_2xx} non-2xx"
        if odd:
            text += " (" + ", ".join(f"{status}: {count}" for status, count in odd.items()) + ")"
        return text + f", {self.timeouts} timed out, {self.socket_errors} socket errors"


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def wrk(
    url: str, *, connections: int, threads: int, seconds: float, script: str, args: Sequence[str] = ()
) -> WrkResult:
    """Run `wrk` with one of our Lua scripts; the script's `done` prints a JSON summary."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    command += ["-s", str(HERE / "lua" / script), url, "--", *args]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("BENCH "))
    data = json.loads(line[len("BENCH ") :])
    result = WrkResult(
        requests=int(data["requests"]),
        seconds=data["duration_us"] / 1e6,
        socket_errors=int(data["socket_errors"]),
        timeouts=int(data["timeouts"]),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        statuses={int(status): int(count) for status, count in data["statuses"].items()},
        samples=list(data["samples"]),
    )
    if result.samples:
        print(f"   wrk {script}: {result.failures()}; first: {result.samples}", file=sys.stderr)
    return result


def write_lines(lines: Sequence[str]) -> str:
    """A temporary file of lines for a Lua script to read (ids, numbers)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(lines) + "\n")
    return handle.name


@dataclass
class OpenLoopResult:
    scheduled: int
    sent: int
    errors: int
    seconds: float
    latencies_ms: list[float]  # one per scheduled request; unanswered ones at their wait so far (a lower bound)
    statuses: dict[int, int] = field(default_factory=dict)  # every answer that came back, by status

    @property
    def unanswered(self) -> int:
        return self.scheduled - self.sent


GRACE = 5.0  # after the last scheduled send, how long answers are still awaited


async def _open_loop(
    port: int, paths: Sequence[str], headers: dict[str, str], rate: float, seconds: float, connections: int
) -> OpenLoopResult:
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    counter = iter(range(10**9))
    latencies: list[float] = []
    errors = 0
    statuses: dict[int, int] = {}
    start = time.perf_counter() + 0.2
    end = start + seconds
    scheduled = int(seconds * rate)

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                i = next(counter)
                due = start + i / rate
                if i >= scheduled:
                    return
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                path = paths[i % len(paths)]
                writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode())
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                latencies.append((time.perf_counter() - due) * 1000)
                status = int(head[9:12])
                statuses[status] = statuses.get(status, 0) + 1
                if not 200 <= status < 300:
                    errors += 1
        finally:
            writer.close()

    tasks = [asyncio.ensure_future(worker()) for _ in range(connections)]
    _done, pending = await asyncio.wait(tasks, timeout=end + GRACE - time.perf_counter())
    for task in pending:  # the server fell behind: stop, and count what never came back
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    sent = len(latencies)
    latencies += [GRACE * 1000] * (scheduled - sent)
    return OpenLoopResult(scheduled, sent, errors, seconds, latencies, statuses)


def open_loop(
    port: int,
    paths: Sequence[str],
    *,
    headers: dict[str, str],
    rate: float,
    seconds: float,
    connections: int = 32,
) -> OpenLoopResult:
    """A steady `rate` of GETs for `seconds` over keep-alive connections (HTTP/1.1, no pipelining)."""
    coroutine = _open_loop(port, paths, headers, rate, seconds, connections)
    try:
        import uvloop  # comes with uvicorn[standard]
    except ImportError:  # pragma: no cover
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)
