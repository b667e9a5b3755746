"""Real FreeRADIUS and radclient for tests and the benchmark: generated config, free ports, stopped by pid.

FreeRADIUS runs from `integrations/freeradius/make-config`'s directory, exactly
as an operator runs it (`freeradius -X -d DEST`), with the environment the
operations spec names. `radclient` (freeradius-utils) plays the NAS.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

REPO = Path(__file__).resolve().parents[3]
MAKE_CONFIG = REPO / "integrations" / "freeradius" / "make-config"
READY = "Ready to process requests"
BINARIES = ("freeradius", "radclient")


def missing_binaries() -> str | None:
    """Why the real-server tests cannot run here, or None when they can."""
    absent = [name for name in BINARIES if shutil.which(name) is None]
    if absent:
        return f"needs {', '.join(absent)} (Debian: apt-get install freeradius freeradius-rest freeradius-utils)"
    if not Path("/usr/lib/freeradius/rlm_rest.so").exists():
        return "needs rlm_rest (Debian: apt-get install freeradius-rest)"
    return None


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def config_dir(users: Mapping[str, str]) -> Iterator[Path]:
    """`make-config DEST` in a fresh folder that FreeRADIUS's own user can reach, with these passwords."""
    # /tmp rather than $TMPDIR, which may sit under root's home where `freerad` cannot go;
    # mkdtemp makes it 0700, opened below: FreeRADIUS started as root reads the rest as `freerad`.
    parent = Path(tempfile.mkdtemp(prefix="tenure-freeradius-", dir="/tmp" if Path("/tmp").is_dir() else None))
    parent.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    dest = parent / "raddb"
    try:
        subprocess.run([str(MAKE_CONFIG), str(dest)], check=True, capture_output=True, text=True)
        add_users(dest, users)
        yield dest
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def add_users(dest: Path, users: Mapping[str, str]) -> None:
    """Subscribers' passwords, where the operator keeps them: DEST/mods-config/files/authorize."""
    lines = "".join(f'"{name}" Cleartext-Password := "{password}"\n' for name, password in users.items())
    with (dest / "mods-config" / "files" / "authorize").open("a") as handle:
        handle.write("\n" + lines)


@dataclass
class FreeRadius:
    """A running `freeradius -X -d DEST`; its debug output is in `log`."""

    process: subprocess.Popen[bytes]
    log: Path
    auth_port: int
    acct_port: int
    secret: str

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def freeradius(
    dest: Path,
    *,
    tenure_url: str,
    tenure_key: str,
    secret: str = "nas-secret",
    extra_env: Mapping[str, str] = {},
    debug: bool = True,
) -> Iterator[FreeRadius]:
    """FreeRADIUS on free ports, configured only through the environment; stopped by its pid.

    RADIUS_CLIENT_IP is left to its default (127.0.0.1, where radclient sends from)
    unless `extra_env` sets it.

    `debug`: `-X` as an operator tries it (one thread, every request logged);
    otherwise `-f` as it runs in production (its thread pool), for the benchmark.
    """
    auth_port, acct_port = free_udp_port(), free_udp_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TENURE_", "RADIUS_"))},
        "TENURE_URL": tenure_url,
        "TENURE_KEY": tenure_key,
        "RADIUS_AUTH_PORT": str(auth_port),
        "RADIUS_ACCT_PORT": str(acct_port),
        "RADIUS_SECRET": secret,
        **extra_env,
    }
    log = dest.parent / f"freeradius-{auth_port}.log"
    with log.open("wb") as out:
        mode = ["-X"] if debug else ["-f", "-l", "stdout"]
        process = subprocess.Popen(
            ["freeradius", *mode, "-d", str(dest)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = FreeRadius(process, log, auth_port, acct_port, secret)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        stop(process)


def _wait_until_ready(server: FreeRadius) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"freeradius exited ({server.process.returncode}):\n{server.output()[-4000:]}")
        if READY in server.output():
            return
        time.sleep(0.1)
    raise RuntimeError(f"freeradius not ready in 30 s:\n{server.output()[-4000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM by pid, then SIGKILL if it does not go."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Reply:
    """One answer as radclient printed it: the packet type and its attributes (None: no answer)."""

    code: str | None
    attributes: dict[str, str] = field(default_factory=dict)
    output: str = ""


RECEIVED = re.compile(r"^Received (\S+) Id \d+ ")
ATTRIBUTE = re.compile(r'^\s+([A-Za-z0-9-]+) = "?(.*?)"?$')


def radclient(server: FreeRadius, kind: str, attributes: Mapping[str, str], *, timeout: float = 6) -> Reply:
    """Send one Access-Request (`auth`) or Accounting-Request (`acct`) as a NAS would; no retries."""
    port = server.auth_port if kind == "auth" else server.acct_port
    body = ", ".join(f"{name} = {_value(value)}" for name, value in attributes.items()) + "\n"
    command = ["radclient", "-x", "-r", "1", "-t", str(timeout), f"127.0.0.1:{port}", kind, server.secret]
    done = subprocess.run(command, input=body, capture_output=True, text=True, timeout=timeout + 10, check=False)
    return parse_reply(done.stdout + done.stderr)


def _value(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_reply(output: str) -> Reply:
    reply = Reply(code=None, output=output)
    receiving = False
    for line in output.splitlines():
        found = RECEIVED.match(line)
        if found:
            reply.code, receiving = found.group(1), True
            continue
        attribute = ATTRIBUTE.match(line)
        if receiving and attribute:
            reply.attributes[attribute.group(1)] = attribute.group(2)
        elif not line.startswith(("\t", " ")):
            receiving = False
    return reply


def class_text(value: str) -> str:
    """radclient prints Class (octets) as 0x…; the text Tenure put in it."""
    return bytes.fromhex(value[2:]).decode() if value.startswith("0x") else value


# -- Tenure ------------------------------------------------------------------
@dataclass
class Tenure:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]


def tenure_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENURE_")}
    return {**env, "TENURE_DATABASE_URL": database_url, "TENURE_ARGON2_PROFILE": "cheapest"}


def tenure_cli(env: Mapping[str, str], *args: str) -> str:
    """`tenure …` as an operator types it; its standard output."""
    done = subprocess.run([sys.executable, "-m", "tenure", *args], env=dict(env), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"tenure {' '.join(args[:2])} failed: {done.stderr or done.stdout}")
    return done.stdout.strip()


def radius_key(env: Mapping[str, str]) -> str:
    """The credential FreeRADIUS sends as `Authorization: Bearer …`: an API key with scope `radius`,
    made by the one command an operator runs."""
    return tenure_cli(env, "api-key", "create", "--name", "radius", "--scope", "radius")


@contextmanager
def tenure_server(env: Mapping[str, str], folder: Path, *, port: int | None = None) -> Iterator[Tenure]:
    """`tenure serve --no-worker` on a free port (or `port`, to come back where it was); stopped by its pid."""
    import httpx

    port = port or free_tcp_port()
    log = folder / f"tenure-{port}.log"
    command = [sys.executable, "-m", "tenure", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-worker"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=dict(env), cwd=folder, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"tenure serve did not come up:\n{log.read_text()}")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield Tenure(url, dict(env), process)
    finally:
        stop(process)


# -- a test installation and its admin API -------------------------------------
ADMIN, ADMIN_PASSWORD = "ops@meridian.example", "a long admin password"
PASSWORD = "right-password"  # every FreeRADIUS user's password in the tests


def require_packages() -> None:
    """Skip without FreeRADIUS's Debian packages; under CI=true fail instead (`.ci/run` installs them)."""
    import pytest

    reason = missing_binaries()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"FreeRADIUS tests: {reason}")
    pytest.skip(f"FreeRADIUS tests: {reason}")


@contextmanager
def started_tenure(folder: Path) -> Iterator[Tenure]:
    """`tenure init --policy connect` on a new SQLite database, then `tenure serve --no-worker`."""
    env = tenure_env(f"sqlite:///{folder / 'tenure.db'}")
    init = ["init", "--operator-name", "Meridian", "--admin-email", ADMIN, "--admin-password", ADMIN_PASSWORD]
    tenure_cli(env, *init, "--policy", "connect")
    with tenure_server(env, folder) as server:
        yield server


def admin_api(tenure: Tenure) -> httpx.Client:
    """The API as the first admin, with a token from `tenure token` (the caller closes it)."""
    import httpx

    token = tenure_cli(tenure.env, "token", "--email", ADMIN)
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.Client(base_url=f"{tenure.url}/api/v1", headers=headers, timeout=30)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def create_account(api: httpx.Client, kind: str, parent: str, name: str) -> str:
    body = {"kind": kind, "parent_id": parent, "name": name, "main_contact": {"email": "ops@example.com"}}
    created: str = ok(api.post("/accounts", json=body), 201)["id"]
    return created


def add_internet(api: httpx.Client, account_id: str, login: str) -> None:
    """An internet service whose RADIUS User-Name is `login`."""
    service = {"kind": "internet", "label": "Fibre 100", "monthly_price": "30.00", "network_id": login}
    ok(api.post(f"/accounts/{account_id}/services", json=service), 201)
