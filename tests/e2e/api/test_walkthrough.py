"""Issue 2's "done when" story against the real server: `tenure init`, `tenure serve`, then HTTP.

Sign in, create a reseller, a channel and clients, suspend the channel, see
the clients suspended through it, unsuspend, decommission a client now and
another on a date, and read the audit trail. Runs on SQLite, and on a fresh
PostgreSQL database when TENURE_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tenure.adapters.db.engine import make_engine
from tests.conftest import PG_ENV, _need_postgres

pytestmark = [pytest.mark.xdist_group("api-walkthrough"), pytest.mark.slow]

EMAIL, PASSWORD = "ops@meridian.example", "a long admin password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tenure.db'}"
        return
    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        _need_postgres()
        return
    name = f"tenure_walk_{os.getpid()}"
    admin = make_engine(admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """`tenure init` then `tenure serve` (uvicorn) on a free port; yields the base URL."""
    env = {**os.environ, "TENURE_DATABASE_URL": database_url, "TENURE_ARGON2_PROFILE": "cheapest"}
    tenure = [sys.executable, "-m", "tenure"]
    init = [*tenure, "init", "--operator-name", "Meridian", "--admin-email", EMAIL, "--admin-password", PASSWORD]
    subprocess.run(init, env=env, cwd=tmp_path, check=True, capture_output=True)
    port = _free_port()
    serve = [*tenure, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-worker"]
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(serve, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, tmp_path / "server.log")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited: {log.read_text()}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"the server did not come up: {log.read_text()}")


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_the_done_when_story(server: str) -> None:
    with httpx.Client(base_url=f"{server}/api/v1", timeout=30) as api:
        # Sign in (OAuth2 password grant, a form).
        signed_in = _ok(api.post("/auth/token", data={"username": EMAIL, "password": PASSWORD}))
        api.headers["Authorization"] = f"Bearer {signed_in['access_token']}"
        operator = _ok(api.get("/me"))["account"]
        assert operator["kind"] == "operator"

        # A reseller, a channel and three clients.
        def create(kind: str, parent: str, name: str, **extra: Any) -> Any:
            body = {"kind": kind, "parent_id": parent, "name": name, "main_contact": {"email": "c@example.com"}}
            return _ok(api.post("/accounts", json={**body, **extra}), 201)

        reseller = create("reseller", operator["id"], "Northwind")
        channel = create("channel", reseller["id"], "North Sales")
        clients = [create("client", channel["id"], name) for name in ("Acme Ltd", "Bolt plc", "Crane & Co")]
        today = date.fromisoformat(clients[0]["start_date"])  # the server's today, operator time zone

        # Suspend the channel, guarding against a concurrent change with If-Match.
        current = api.get(f"/accounts/{channel['id']}")
        suspended = api.post(
            f"/accounts/{channel['id']}/suspend",
            json={"reason": "non_payment", "note": "invoice 42 unpaid"},
            headers={"If-Match": current.headers["etag"]},
        )
        assert _ok(suspended)["status"] == "suspended"

        # The clients are suspended through it: no hold of their own, `suspended_by` names the channel.
        page = _ok(api.get("/accounts", params={"status": "suspended", "within": reseller["id"]}))
        by_name = {item["name"]: item for item in page["items"]}
        assert set(by_name) == {"North Sales", "Acme Ltd", "Bolt plc", "Crane & Co"}
        for client in clients:
            shown = by_name[client["name"]]
            assert shown["suspended_by"] == {"id": channel["id"], "name": "North Sales"}
            assert shown["holds"] == []
        assert _ok(api.get(f"/accounts/{reseller['id']}"))["status"] == "active"

        # Unsuspend: every client is back to its own state.
        _ok(api.post(f"/accounts/{channel['id']}/unsuspend"))
        active = _ok(api.get("/accounts", params={"status": "active", "parent_id": channel["id"]}))
        assert sorted(item["name"] for item in active["items"]) == ["Acme Ltd", "Bolt plc", "Crane & Co"]

        # Decommission one client now and another on a date.
        gone = _ok(api.post(f"/accounts/{clients[0]['id']}/decommission"))
        assert gone["status"] == "inactive" and gone["decommissioned_on"] == today.isoformat()
        later = (today + timedelta(days=30)).isoformat()
        scheduled = _ok(api.post(f"/accounts/{clients[1]['id']}/decommission", json={"on": later}))
        assert scheduled["status"] == "active" and scheduled["decommission_on"] == later
        listed = _ok(api.get("/accounts", params={"parent_id": channel["id"]}))["items"]
        assert [item["name"] for item in listed] == ["Bolt plc", "Crane & Co"]
        shown_all = _ok(api.get("/accounts", params={"parent_id": channel["id"], "include_inactive": "true"}))
        assert len(shown_all["items"]) == 3

        # The audit trail, newest first.
        trail = _ok(api.get(f"/accounts/{channel['id']}/events"))["items"]
        assert [e["action"] for e in trail] == ["unsuspended", "suspended", "created"]
        assert trail[1]["actor"] == EMAIL and trail[1]["reason"] == "non_payment"
        client_trail = _ok(api.get(f"/accounts/{clients[1]['id']}/events"))["items"]
        assert [e["action"] for e in client_trail] == ["decommission_scheduled", "created"]
        assert client_trail[0]["after"]["decommission_on"] == later

        # The docs are served, and signing out ends the token.
        assert httpx.get(f"{server}/api/v1/docs").status_code == 200
        assert "/api/v1/accounts/{account_id}/suspend" in _ok(api.get("/openapi.json"))["paths"]
        assert api.delete("/auth/token").status_code == 204
        assert api.get("/me").status_code == 401
