"""Signing in, tokens, the throttle, suspended sign-in, and users (api.md "Authentication and users")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from tenure.domain.access import Role
from tenure.domain.model import HoldReason
from tests.e2e.api.conftest import API, TestClient, World, app_for, bearer, build_world
from tests.support import ADMIN_EMAIL, PASSWORD, Installation, MutableClock


def sign_in(world: World, email: str, password: str = PASSWORD) -> Any:
    return world.client.post(f"{API}/auth/token", data={"username": email, "password": password})


def test_signing_in_gives_a_bearer_token_that_works(world: World) -> None:
    response = sign_in(world, ADMIN_EMAIL.upper())
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 12 * 3600
    assert world.get("/me", body["access_token"]).status_code == 200
    world.site.clock.set(world.site.now + timedelta(seconds=body["expires_in"]))
    assert world.get("/me", body["access_token"]).status_code == 401


@pytest.mark.parametrize(("email", "password"), [(ADMIN_EMAIL, "wrong password!"), ("nobody@example.com", PASSWORD)])
def test_wrong_credentials_are_401(world: World, email: str, password: str) -> None:
    response = sign_in(world, email, password)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthorized"


def test_ten_failures_in_a_minute_lock_that_email_out_for_the_minute(world: World) -> None:
    for _ in range(10):
        assert sign_in(world, ADMIN_EMAIL, "wrong password!").status_code == 401
    locked = sign_in(world, ADMIN_EMAIL)  # even the right password
    assert locked.status_code == 429
    assert locked.json()["code"] == "rate-limited"
    assert int(locked.headers["retry-after"]) > 0
    assert sign_in(world, "portal@acme.example").status_code == 200  # other emails are not affected
    world.site.clock.set(world.site.now + timedelta(seconds=61))
    assert sign_in(world, ADMIN_EMAIL).status_code == 200


def test_nine_failures_do_not_lock(world: World) -> None:
    for _ in range(9):
        sign_in(world, ADMIN_EMAIL, "wrong password!")
    assert sign_in(world, ADMIN_EMAIL).status_code == 200


def test_revoking_stops_only_the_token_used(world: World) -> None:
    first = sign_in(world, ADMIN_EMAIL).json()["access_token"]
    second = sign_in(world, ADMIN_EMAIL).json()["access_token"]
    assert world.call("DELETE", "/auth/token", first).status_code == 204
    gone = world.get("/me", first)
    assert gone.status_code == 401 and gone.json()["code"] == "unauthorized"
    assert world.call("DELETE", "/auth/token", first).status_code == 401
    assert world.get("/me", second).status_code == 200


def test_me_names_the_user_its_account_and_role(world: World) -> None:
    operator = world.get("/me").json()
    assert operator["user"]["email"] == ADMIN_EMAIL
    assert operator["account"] == {"id": world.site.operator_id, "name": "Meridian", "kind": "operator"}
    assert operator["role"] == "admin"
    portal = world.get("/me", world.portal).json()
    assert set(portal) == {"user", "account", "role"} and set(portal["user"]) == {"id", "email"}
    assert portal["account"] == {"id": world.own_client.id, "name": "Acme Ltd", "kind": "client"}
    assert portal["role"] == "portal"


@pytest.fixture
def metis(engine: Engine) -> Installation:
    """An installation whose policy (metis) denies portal login while suspended."""
    return Installation.start(engine, MutableClock(), policy="metis")


def _login_suspended(response: Any) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "login-suspended"


@pytest.mark.parametrize("through", ["own hold", "channel hold"])
def test_a_suspended_client_cannot_sign_in_under_metis(metis: Installation, through: str) -> None:
    with TestClient(app_for(metis)) as client:
        world = build_world(metis, client)
        held = world.own_client.id if through == "own hold" else world.own_channel.id
        metis.suspend(held, HoldReason.NON_PAYMENT)
        _login_suspended(sign_in(world, "portal@acme.example"))
        _login_suspended(world.get("/me", world.portal))  # the token it already had stops too
        assert world.get("/me", world.reseller_admin).status_code == 200  # the reseller is not suspended
        metis.unsuspend(held)
        assert world.get("/me", world.portal).status_code == 200
        assert sign_in(world, "portal@acme.example").status_code == 200


def test_a_suspended_client_still_signs_in_under_connect(world: World) -> None:
    world.site.suspend(world.own_client.id, HoldReason.FRAUD)
    assert sign_in(world, "portal@acme.example").status_code == 200
    assert world.get("/me", world.portal).status_code == 200


def test_a_decommissioned_client_cannot_sign_in(world: World) -> None:
    world.site.decommission(world.own_client.id)
    _login_suspended(sign_in(world, "portal@acme.example"))
    _login_suspended(world.get("/me", world.portal))
    assert sign_in(world, "portal@acme.example", "wrong password!").status_code == 401  # says nothing more


def _new_user(world: World, **overrides: Any) -> Any:
    body = {"email": "new@acme.example", "password": "0123456789", "account_id": world.own_client.id, "role": "portal"}
    return world.post("/users", json={**body, **overrides})


def test_creating_a_user_answers_201_without_the_password(world: World) -> None:
    response = _new_user(world)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "email", "account_id", "role"}
    assert body["email"] == "new@acme.example" and body["role"] == "portal"
    assert "0123456789" not in response.text and "argon2" not in response.text
    assert sign_in(world, "new@acme.example", "0123456789").status_code == 200


def test_a_short_password_is_refused_and_no_user_is_made(world: World) -> None:
    response = _new_user(world, password="012345678")
    assert response.status_code == 422
    assert response.json()["code"] == "validation-error"
    assert sign_in(world, "new@acme.example", "012345678").status_code == 401


@pytest.mark.parametrize(
    ("account", "role"),
    [("own_client", "admin"), ("own_client", "viewer"), ("own_reseller", "portal"), ("own_channel", "portal")],
)
def test_the_role_must_fit_the_account_kind(world: World, account: str, role: str) -> None:
    response = _new_user(world, account_id=getattr(world, account).id, role=role)
    assert response.status_code == 422
    assert response.json()["code"] == "validation-error"


def test_a_taken_email_is_refused(world: World) -> None:
    response = _new_user(world, email="PORTAL@acme.example")
    assert response.status_code == 422
    assert response.json()["code"] == "validation-error"


def test_users_are_listed_by_account_in_pages(world: World) -> None:
    for n in range(5):
        world.site.user(world.own_channel.id, Role.VIEWER, f"v{n}@northsales.example")
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {
            "account_id": world.own_channel.id,
            "limit": 2,
            **({"cursor": cursor} if cursor else {}),
        }
        page = world.get("/users", params=params).json()
        assert len(page["items"]) <= 2
        seen += [u["email"] for u in page["items"]]
        assert all(u["account_id"] == world.own_channel.id for u in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"v{n}@northsales.example" for n in range(5)]
    assert pages == 3
    everyone = world.get("/users", params={"limit": 500}).json()["items"]
    assert {u["email"] for u in everyone} >= {ADMIN_EMAIL, "portal@acme.example", *seen}
    mine = world.get("/users", world.reseller_admin, params={"limit": 500}).json()["items"]
    assert ADMIN_EMAIL not in {u["email"] for u in mine}


def test_deleting_a_user_answers_204_and_ends_its_sign_in(world: World) -> None:
    portal = world.get("/users", params={"account_id": world.own_client.id}).json()["items"][0]
    response = world.call("DELETE", f"/users/{portal['id']}", world.operator_admin)
    assert response.status_code == 204 and response.content == b""
    assert world.get("/me", world.portal).status_code == 401
    assert sign_in(world, "portal@acme.example").status_code == 401
    assert world.call("DELETE", f"/users/{portal['id']}", world.operator_admin).status_code == 404


def test_headers_without_bearer_scheme_are_401(world: World) -> None:
    response = world.client.get(f"{API}/me", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401
    response = world.client.get(f"{API}/me", headers=bearer("x" * 5000))
    assert response.status_code == 401
