"""HTTP API fixtures: an in-process client over a real database, and a small world of callers.

The world has two reseller trees, so every test can ask "own tenant or the other one":

    Meridian (operator)            <- operator admin, operator viewer
      Meridian (management)
      Northwind (reseller)         <- reseller admin, reseller viewer ("own")
        North Sales (channel)
          Acme Ltd (client)        <- portal user
      Southwind (reseller)         ("other" tenant)
        South Sales (channel)
          Zenith Ltd (client)
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select

from tenure.adapters.db.tables import events
from tenure.config import Settings
from tenure.domain.access import Role
from tenure.domain.model import Account
from tenure.entrypoints.app import create_app
from tenure.services import auth
from tests.conftest import fresh_database
from tests.support import ADMIN_EMAIL, PASSWORD, Installation, MutableClock

with warnings.catch_warnings():
    # Starlette nudges towards httpx2; the test client works the same with httpx.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = ["API", "TestClient", "World", "app_for", "bearer", "build_world", "token_for"]

API = "/api/v1"


def app_for(site: Installation, **settings: Any) -> FastAPI:
    """The app over the test database; `settings` are Settings fields to override."""
    return create_app(Settings(database_url=str(site.engine.url), **settings), engine=site.engine, clock=site.clock)


def token_for(site: Installation, email: str) -> str:
    return auth.token_for_email(site.uow(), email=email, now=site.now)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class World:
    site: Installation
    client: TestClient
    operator_admin: str
    operator_viewer: str
    reseller_admin: str
    reseller_viewer: str
    portal: str
    own_reseller: Account
    own_channel: Account
    own_client: Account
    other_reseller: Account
    other_channel: Account
    other_client: Account

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        headers = {**(bearer(token) if token else {}), **kwargs.pop("headers", {})}
        return self.client.request(method, API + path, headers=headers, **kwargs)

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> Any:
        return self.call("GET", path, token or self.operator_admin, **kwargs)

    def post(self, path: str, token: str | None = None, **kwargs: Any) -> Any:
        return self.call("POST", path, token or self.operator_admin, **kwargs)

    def event_count(self, account_id: str) -> int:
        with self.site.uow().reading() as uow:
            query = select(func.count()).select_from(events).where(events.c.account_id == account_id)
            return int(uow.connection.execute(query).scalar_one())


def build_world(site: Installation, client: TestClient) -> World:
    own_reseller = site.reseller("Northwind")
    own_channel = site.channel(own_reseller.id, "North Sales")
    own_client = site.client(own_channel.id, "Acme Ltd")
    other_reseller = site.reseller("Southwind")
    other_channel = site.channel(other_reseller.id, "South Sales")
    other_client = site.client(other_channel.id, "Zenith Ltd")
    site.user(site.operator_id, Role.VIEWER, "viewer@operator.example")
    site.user(own_reseller.id, Role.ADMIN, "admin@northwind.example")
    site.user(own_reseller.id, Role.VIEWER, "viewer@northwind.example")
    site.user(own_client.id, Role.PORTAL, "portal@acme.example")
    return World(
        site=site,
        client=client,
        operator_admin=token_for(site, ADMIN_EMAIL),
        operator_viewer=token_for(site, "viewer@operator.example"),
        reseller_admin=token_for(site, "admin@northwind.example"),
        reseller_viewer=token_for(site, "viewer@northwind.example"),
        portal=token_for(site, "portal@acme.example"),
        own_reseller=own_reseller,
        own_channel=own_channel,
        own_client=own_client,
        other_reseller=other_reseller,
        other_channel=other_channel,
        other_client=other_client,
    )


def console_sign_in(world: World, email: str = ADMIN_EMAIL) -> None:
    """Sign the test client in to the console (its cookie jar keeps the session)."""
    page = world.client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    form = {"email": email, "password": PASSWORD, "csrf_token": csrf.group(1)}
    answer = world.client.post("/login", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text[:300]


def console_csrf(world: World, path: str) -> str:
    """The CSRF token of the console page at `path`."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', world.client.get(path).text)
    assert found is not None, path
    return found.group(1)


@pytest.fixture
def client(site: Installation) -> Iterator[TestClient]:
    with TestClient(app_for(site)) as test_client:
        yield test_client


@pytest.fixture
def world(site: Installation, client: TestClient) -> World:
    return build_world(site, client)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_engine(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    postgres_engine: Engine | None,
) -> Iterator[Engine]:
    """Like `engine`, but shared by one module's tests (each test makes its own fresh targets)."""
    yield from fresh_database(request.param, tmp_path_factory.mktemp("api"), sqlite_template, postgres_engine)


@pytest.fixture(scope="module")
def shared_world(module_engine: Engine) -> Iterator[World]:
    site = Installation.start(module_engine, MutableClock())
    with TestClient(app_for(site)) as test_client:
        yield build_world(site, test_client)
