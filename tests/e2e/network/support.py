"""Real network daemons for the softswitch tests: Tenure, Kamailio and SIPp, all on 127.0.0.1.

Each daemon is a child process on ports chosen at run time, stopped by its own
pid (SIGTERM, then SIGKILL). Kamailio runs exactly as an operator runs it:
`kamailio -DD -E -f integrations/kamailio/kamailio.cfg -A NAME=VALUE …`.
Without `kamailio` or `sipp` on the PATH the tests skip with that reason,
except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "integrations" / "kamailio" / "kamailio.cfg"
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
ADMIN = "admin@network.example"
PASSWORD = "network test password"
HOST = "127.0.0.1"


def require_daemons() -> None:
    """Skip (or, under CI=true, fail) when Debian's kamailio or sip-tester is not installed."""
    missing = [name for name in ("kamailio", "sipp") if shutil.which(name) is None]
    if not missing:
        return
    message = f"{' and '.join(missing)} not installed (Debian: kamailio kamailio-utils-modules "
    message += "kamailio-extra-modules sip-tester)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port nobody holds right now on 127.0.0.1 (UDP by default: SIP)."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def udp_bound(port: int) -> bool:
    """Is a UDP socket bound to `port`? Read from /proc, so the probe never races the daemon for the port."""
    wanted = f":{port:04X}"
    lines = Path("/proc/net/udp").read_text().splitlines()[1:]
    return any(line.split()[1].endswith(wanted) for line in lines)


def stop(process: subprocess.Popen[bytes] | None) -> None:
    """Stop one child by its pid: SIGTERM, then SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def tenure_cli(database_url: str, *args: str) -> str:
    """Run the `tenure` command line against a database, as an operator would; its stdout."""
    env = {**os.environ, "TENURE_DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "tenure", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"tenure {' '.join(args[:1])} failed: {done.stderr}"
    return done.stdout.strip()


def equipment_key(database_url: str) -> str:
    """The credential Kamailio holds: an API key printed by one command, as an operator makes it."""
    return tenure_cli(database_url, "api-key", "create", "--name", "kamailio", "--scope", "entitlements:read")


class Tenure:
    """`tenure serve --no-worker` on one port, which survives a stop and a start."""

    def __init__(self, database_url: str, log: Path) -> None:
        self.database_url = database_url
        self.port = free_port(socket.SOCK_STREAM)
        self.url = f"http://{HOST}:{self.port}"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "TENURE_DATABASE_URL": self.database_url}
        command = [sys.executable, "-m", "tenure", "serve", "--no-worker", "--host", HOST, "--port", str(self.port)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"tenure serve exited: {self.log.read_text()[-2000:]}"
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("tenure serve did not answer /healthz within 60 s")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        stop(self.process)


@dataclass(frozen=True)
class Ports:
    """Where everything listens. The carrier sends from CARRIER_PORT and receives on its UAS port."""

    carrier: int  # source port of the carrier's calls (CARRIER_PORT)
    carrier_uas: int  # where Kamailio relays allowed outbound calls (CARRIER_URI)
    pbx_uas: int  # where Kamailio relays allowed inbound calls (PBX_URI)


class Kamailio:
    """`kamailio -DD -E -f integrations/kamailio/kamailio.cfg -A …`, with its own runtime dir and log.

    `overrides` are further -A defines (SIP_WORKERS, LOOKUP_WORKERS, SKIP_TENURE for bench P7).
    """

    def __init__(
        self, folder: Path, *, tenure_url: str, key: str, ports: Ports, fail_mode: str, **overrides: str
    ) -> None:
        self.port = free_port()
        self.folder = folder
        self.log = folder / "kamailio.log"
        runtime = folder / "run"
        runtime.mkdir(parents=True)
        defines = {
            "LISTEN": f"udp:{HOST}:{self.port}",
            "TENURE_URL": f'"{tenure_url}"',
            "TENURE_KEY": f'"{key}"',
            "CARRIER_IP": f'"{HOST}"',
            "CARRIER_PORT": str(ports.carrier),
            "CARRIER_URI": f'"sip:{HOST}:{ports.carrier_uas}"',
            "PBX_URI": f'"sip:{HOST}:{ports.pbx_uas}"',
            "FAIL_MODE": f'"{fail_mode}"',
            "TIMEOUT_MS": "500",
            "SIP_WORKERS": "2",
            "LOOKUP_WORKERS": "2",
            **overrides,
        }
        command = ["kamailio", "-DD", "-E", "-f", str(CONFIG), "-Y", str(runtime), "-P", str(runtime / "kamailio.pid")]
        for name, value in defines.items():
            command += ["-A", f"{name}={value}"]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
        try:
            self._wait_until_answering()
        except BaseException:
            self.stop()
            raise

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"kamailio exited: {self.log.read_text()[-3000:]}"
            if options_answered(self.port):
                return
        raise AssertionError(f"kamailio did not answer OPTIONS within 20 s: {self.log.read_text()[-3000:]}")

    def log_lines(self, needle: str) -> list[str]:
        return [line for line in self.log.read_text(errors="replace").splitlines() if needle in line]

    def stop(self) -> None:
        stop(self.process)


def options_answered(port: int) -> bool:
    """Did something on `port` answer a SIP OPTIONS with 200 within 0.2 s?"""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        local = sock.getsockname()[1]
        request = (
            f"OPTIONS sip:{HOST}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {HOST}:{local};branch=z9hG4bK-ping-{time.monotonic_ns()}\r\n"
            f"From: <sip:ping@{HOST}>;tag=ping\r\nTo: <sip:{HOST}:{port}>\r\n"
            f"Call-ID: ping-{time.monotonic_ns()}@{HOST}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n"
        )
        sock.sendto(request.encode(), (HOST, port))
        sock.settimeout(0.2)
        try:
            answer = sock.recv(4096)
        except OSError:
            return False
    return answer.startswith(b"SIP/2.0 200")


class Uas:
    """A SIPp UAS (scenarios/uas.xml) that answers every call 200: the carrier or the PBX."""

    def __init__(self, folder: Path, port: int) -> None:
        self.port = port
        folder.mkdir(parents=True, exist_ok=True)
        command = ["sipp", "-sf", str(SCENARIOS / "uas.xml"), "-i", HOST, "-p", str(port), "-nostdin"]
        command += ["-trace_err", "-error_file", str(folder / "errors.log")]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder)
        try:
            self._wait_until_bound()
        except BaseException:
            self.stop()
            raise

    def _wait_until_bound(self) -> None:
        deadline = time.monotonic() + 10
        while not udp_bound(self.port):
            assert self.process.poll() is None, "sipp (uas) exited at start"
            assert time.monotonic() < deadline, "sipp (uas) did not bind within 10 s"
            time.sleep(0.05)

    def stop(self) -> None:
        stop(self.process)


@dataclass(frozen=True)
class Answer:
    """What the calling SIPp saw: the final status and the X-Tenure-Reason of a 403."""

    status: int
    reason: str | None


_RESULT = re.compile(r"RESULT (\d{3})(?: reason=(.*))?$")


def call(
    kamailio: Kamailio,
    folder: Path,
    *,
    caller: str,
    called: str,
    source_port: int | None = None,
    pai: str | None = None,
) -> Answer:
    """One call with SIPp (scenarios/call.xml) through Kamailio; a 200 is completed with ACK and BYE."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.monotonic_ns()
    logs, errors = folder / f"call-{stamp}.log", folder / f"call-{stamp}.errors"
    header = f"P-Asserted-Identity: {pai}" if pai else "X-Tenure-Test: no PAI"
    command = ["sipp", "-sf", str(SCENARIOS / "call.xml"), "-i", HOST, "-p", str(source_port or free_port())]
    command += ["-m", "1", "-key", "caller", caller, "-key", "called", called, "-key", "header", header]
    command += ["-trace_logs", "-log_file", str(logs), "-trace_err", "-error_file", str(errors)]
    command += ["-recv_timeout", "10000", "-nostdin", f"{HOST}:{kamailio.port}"]
    done = subprocess.run(command, capture_output=True, timeout=60, check=False, cwd=folder)
    problems = errors.read_text(errors="replace") if errors.exists() else ""
    assert done.returncode == 0, f"the call failed (sipp exit {done.returncode}): {problems[-3000:]}"
    results = [m for line in logs.read_text().splitlines() if (m := _RESULT.search(line.strip()))]
    assert len(results) == 1, f"expected one RESULT line in {logs}"
    status, reason = results[0].groups()
    return Answer(int(status), reason)


@contextmanager
def unresponsive(port: int) -> Iterator[None]:
    """A TCP listener on `port` that accepts connections and never answers: a hung Tenure."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, port))
        listener.listen(64)
        yield
