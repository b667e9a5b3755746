"""The lean lookup path answers exactly as the documented routes do, and its caches never go stale."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tenure.domain.model import HoldReason
from tests.e2e.api.conftest import TestClient, World, app_for, build_world
from tests.support import Installation, MutableClock

NUMBER = "+442079460000"
PATH = f"/entitlements/numbers/{NUMBER}"


def _with_number(world: World) -> None:
    body = {"kind": "phone_number", "label": NUMBER, "monthly_price": "12.00"}
    assert world.post(f"/accounts/{world.own_client.id}/services", json=body).status_code == 201


def _get(world: World, path: str, headers: dict[str, str] | None = None, **params: str) -> Any:
    return world.client.get("/api/v1" + path, headers=headers or {}, params=params)


def test_any_case_of_the_bearer_scheme_works_and_no_credential_is_a_401_problem(world: World) -> None:
    _with_number(world)
    for scheme in ("Bearer", "bearer", "BEARER"):
        headers = {"Authorization": f"{scheme} {world.operator_admin}"}
        assert _get(world, PATH, headers, capability="outbound_calls").json()["allowed"] is True
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}):
        refused = _get(world, PATH, headers, capability="outbound_calls")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/entitlements/numbers/+44 20 7946 0000", {"capability": "outbound_calls"}, 200),  # normalised
        ("/entitlements/numbers/+1234", {"capability": "outbound_calls"}, 422),  # E.164-shaped, not a number
        ("/entitlements/numbers/+442079460999", {"capability": "outbound_calls"}, 404),
        ("/entitlements/numbers/" + "+4" * 40, {"capability": "outbound_calls"}, 422),  # over 64 characters
        (PATH, {"capability": "Outbound_Calls"}, 422),
        (PATH, {}, 422),
        ("/accounts/" + "x" * 65 + "/entitlements", {}, 422),
        ("/accounts/unknown/entitlements", {}, 404),
    ],
)
def test_odd_requests_answer_as_the_documented_routes_do(
    world: World, path: str, params: dict[str, str], status: int
) -> None:
    _with_number(world)
    answer = _get(world, path, {"Authorization": f"Bearer {world.operator_admin}"}, **params)
    assert answer.status_code == status, answer.text
    if status != 200:
        assert answer.json()["code"] == {404: "not-found", 422: "validation-error"}[status]


def test_lookups_are_counted_under_their_route_template(world: World) -> None:
    _with_number(world)
    headers = {"Authorization": f"Bearer {world.operator_admin}"}
    assert _get(world, PATH, headers, capability="inbound_calls").status_code == 200
    assert _get(world, f"/accounts/{world.own_client.id}/entitlements", headers).status_code == 200
    metrics = world.client.get("/metrics").text
    assert 'route="/api/v1/entitlements/numbers/{e164}",status="200"' in metrics
    assert 'route="/api/v1/accounts/{account_id}/entitlements",status="200"' in metrics


def test_a_policy_change_is_in_force_for_the_next_lookup(world: World) -> None:
    """The parsed settings are cached by the site's version: a new policy is a new version."""
    _with_number(world)
    world.post(f"/accounts/{world.own_client.id}/suspend", json={"reason": "non_payment"})
    assert world.get(PATH, params={"capability": "internet"}).json()["allowed"] is False  # connect
    changed = world.call("PUT", "/policy", world.operator_admin, json={"preset": "metis"})
    assert changed.status_code == 200, changed.text
    assert world.get(PATH, params={"capability": "internet"}).json()["allowed"] is True  # metis


@pytest.fixture
def metis(engine: Engine) -> Iterator[World]:
    site = Installation.start(engine, MutableClock(), policy="metis")
    with TestClient(app_for(site)) as client:
        yield build_world(site, client)


def test_a_cached_token_stops_with_its_accounts_sign_in(metis: World) -> None:
    """Under metis a suspended client's users may not sign in, so its cached token stops at once."""
    world = metis
    _with_number(world)
    assert world.get(PATH, world.portal, params={"capability": "outbound_calls"}).status_code == 200  # cached
    world.site.suspend(world.own_channel.id, HoldReason.FRAUD)
    refused = world.get(PATH, world.portal, params={"capability": "outbound_calls"})
    assert (refused.status_code, refused.json()["code"]) == (403, "login-suspended")
    world.site.unsuspend(world.own_channel.id)
    assert world.get(PATH, world.portal, params={"capability": "outbound_calls"}).json()["allowed"] is True


def test_a_deleted_users_cached_token_is_refused(world: World) -> None:
    _with_number(world)
    assert world.get(PATH, world.reseller_viewer, params={"capability": "outbound_calls"}).status_code == 200
    users = world.get("/users", params={"account_id": world.own_reseller.id}).json()["items"]
    viewer = next(u for u in users if u["email"] == "viewer@northwind.example")
    assert world.call("DELETE", f"/users/{viewer['id']}", world.operator_admin).status_code == 204
    assert world.get(PATH, world.reseller_viewer, params={"capability": "outbound_calls"}).status_code == 401


def test_a_pooled_connection_broken_while_idle_is_replaced(pg_site: Installation) -> None:
    """No pre-ping on the hot path: a connection the server dropped is found broken, replaced, and asked again."""
    with TestClient(app_for(pg_site)) as client:
        world = build_world(pg_site, client)
        _with_number(world)
        assert world.get(PATH, params={"capability": "outbound_calls"}).status_code == 200
        with pg_site.engine.connect() as conn:
            others = "datname = current_database() AND pid <> pg_backend_pid()"
            killed = conn.execute(text(f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE {others}"))
            assert killed.scalar_one() >= 1
        assert world.get(PATH, params={"capability": "outbound_calls"}).json()["allowed"] is True
