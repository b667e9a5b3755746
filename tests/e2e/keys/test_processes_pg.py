"""Four `tenure serve` processes on one PostgreSQL: a change made through one is seen by the very next
lookup through every one, and a revoked credential is refused by every one at once.

Each process caches credentials and the parsed site settings; these tests show that
neither cache can serve a stale answer: decisions are never cached, and the credentials
version read by every lookup statement flushes the credential cache of every process.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tenure.adapters.phone import E164Numbers
from tenure.domain.access import Role
from tenure.domain.catalog import LineKind
from tenure.services import api_keys, auth, lines
from tests.support import Installation

pytestmark = pytest.mark.postgres_only
PROCESSES = 4
NUMBER = "+442079460000"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def servers(pg_site: Installation, tmp_path: Path) -> Iterator[list[str]]:
    """Four separate server processes (four ports, so every one is asked for certain)."""
    url = pg_site.engine.url.render_as_string(hide_password=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENURE_")}
    env["TENURE_DATABASE_URL"] = url
    started: list[tuple[subprocess.Popen[bytes], str]] = []
    try:
        for index in range(PROCESSES):
            port = _free_port()
            log = (tmp_path / f"server{index}.log").open("wb")
            command = [sys.executable, "-m", "tenure", "serve", "--host", "127.0.0.1", "--port", str(port)]
            process = subprocess.Popen([*command, "--no-worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
            started.append((process, f"http://127.0.0.1:{port}"))
        for process, base in started:
            _wait_until_up(process, base)
        yield [base for _, base in started]
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_until_up(process: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"a server exited early with {process.returncode}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{base} did not start within 60 s")


def _everywhere(bases: list[str], path: str, credential: str) -> list[httpx.Response]:
    """The same GET through every process at once."""

    async def ask() -> list[httpx.Response]:
        headers = {"Authorization": f"Bearer {credential}"}
        async with httpx.AsyncClient(timeout=10) as client:
            return list(await asyncio.gather(*(client.get(base + path, headers=headers) for base in bases)))

    return asyncio.run(ask())


def _lookup_everywhere(bases: list[str], credential: str) -> list[Any]:
    answers = _everywhere(bases, f"/api/v1/entitlements/numbers/{NUMBER}?capability=outbound_calls", credential)
    return [a.json()["allowed"] if a.status_code == 200 else a.status_code for a in answers]


def _world(site: Installation) -> tuple[str, str, str, str]:
    """A client with a number, an admin token, a reseller viewer's token and an `entitlements:read` key."""
    site.clock.set(datetime.now(UTC))  # the servers run on the system clock: tokens must be live by it
    reseller = site.reseller()
    client = site.client(site.channel(reseller.id).id)
    lines.add_service(
        site.uow(),
        numbers=E164Numbers(),
        caller=site.admin,
        account_id=client.id,
        kind=LineKind.PHONE_NUMBER,
        label=NUMBER,
        monthly_price="12.00",
        start_date=None,
        now=site.now,
    )
    site.user(reseller.id, Role.VIEWER, "viewer@northwind.example")
    admin = auth.token_for_email(site.uow(), email=site.admin.email, now=site.now)
    viewer = auth.token_for_email(site.uow(), email="viewer@northwind.example", now=site.now)
    key = api_keys.create_key(
        site.uow(), caller=site.admin, name="kamailio", scopes=["entitlements:read"], account_id=None, now=site.now
    )
    return client.id, admin, viewer, key.secret


def test_a_suspension_through_one_process_is_seen_by_the_next_lookup_through_all_four(
    pg_site: Installation, servers: list[str]
) -> None:
    client_id, admin, viewer, key = _world(pg_site)
    for credential in (key, viewer):  # every process has the credential and the settings cached
        assert _lookup_everywhere(servers, credential) == [True] * PROCESSES
    headers = {"Authorization": f"Bearer {admin}"}
    suspended = httpx.post(
        f"{servers[0]}/api/v1/accounts/{client_id}/suspend", headers=headers, json={"reason": "fraud"}
    )
    assert suspended.status_code == 200
    assert _lookup_everywhere(servers, key) == [False] * PROCESSES
    assert _lookup_everywhere(servers, viewer) == [False] * PROCESSES
    unsuspended = httpx.post(f"{servers[1]}/api/v1/accounts/{client_id}/unsuspend", headers=headers, json={})
    assert unsuspended.status_code == 200
    assert _lookup_everywhere(servers, key) == [True] * PROCESSES


def test_a_revocation_through_one_process_is_refused_by_all_four_at_once(
    pg_site: Installation, servers: list[str]
) -> None:
    _client_id, admin, viewer, key = _world(pg_site)
    for credential in (key, viewer):
        assert _lookup_everywhere(servers, credential) == [True] * PROCESSES
    key_id = httpx.get(f"{servers[2]}/api/v1/api-keys", headers={"Authorization": f"Bearer {admin}"}).json()
    revoked = httpx.delete(
        f"{servers[2]}/api/v1/api-keys/{key_id['items'][0]['id']}", headers={"Authorization": f"Bearer {admin}"}
    )
    assert revoked.status_code == 204
    assert _lookup_everywhere(servers, key) == [401] * PROCESSES
    assert _lookup_everywhere(servers, viewer) == [True] * PROCESSES  # other credentials are checked again, and pass
    signed_out = httpx.delete(f"{servers[3]}/api/v1/auth/token", headers={"Authorization": f"Bearer {viewer}"})
    assert signed_out.status_code == 204
    assert _lookup_everywhere(servers, viewer) == [401] * PROCESSES
