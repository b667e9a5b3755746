"""Sessions end on the server, sign-in does not tell which emails exist, and nobody locks the operator out.

The console's cookie carries the user's session generation; signing out, a
new password and deleting the user each end it for every copy of the cookie.
"""

from __future__ import annotations

from typing import Any, Literal

import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import select

from tenure.adapters import passwords
from tenure.adapters.db.tables import accounts
from tenure.domain.access import Role
from tenure.domain.errors import Unauthorized
from tenure.domain.policy import CONNECT
from tenure.services import auth, policy
from tests.e2e.api.conftest import API, TestClient, World, app_for, bearer
from tests.support import ADMIN_EMAIL, PASSWORD, Installation

NEW_PASSWORD = "a brand new password"


def _console_sign_in(client: TestClient, email: str = ADMIN_EMAIL, password: str = PASSWORD) -> Any:
    token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False
    )


def _csrf(client: TestClient) -> str:
    page = client.get("/clients")
    assert page.status_code == 200, page.text
    return str(page.text.split('name="csrf_token" value="')[1].split('"')[0])


def _replay(site: Installation, cookies: dict[str, str], path: str = "/clients") -> Any:
    """The same request from a second browser holding a copy of the cookie."""
    with TestClient(app_for(site), cookies=cookies) as other:
        return other.get(path, follow_redirects=False)


def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(site: Installation, client: TestClient) -> None:
    assert _console_sign_in(client).status_code == 303
    stolen = dict(client.cookies)
    assert _replay(site, stolen).status_code == 200
    signed_out = client.post("/logout", data={"csrf_token": _csrf(client)}, follow_redirects=False)
    assert signed_out.status_code == 303
    replayed = _replay(site, stolen)
    assert replayed.status_code == 303 and replayed.headers["location"].startswith("/login")
    assert _console_sign_in(client).status_code == 303  # signing in again starts a new session
    assert client.get("/clients").status_code == 200


def test_a_new_password_ends_sessions_and_revokes_tokens(site: Installation, client: TestClient) -> None:
    assert _console_sign_in(client).status_code == 303
    token = client.post(f"{API}/auth/token", data={"username": ADMIN_EMAIL, "password": PASSWORD}).json()
    cookie = dict(client.cookies)
    auth.set_password(site.uow(), email=ADMIN_EMAIL, password=NEW_PASSWORD, now=site.now)
    assert _replay(site, cookie).status_code == 303
    assert client.get(f"{API}/me", headers=bearer(token["access_token"])).status_code == 401
    assert _console_sign_in(client).status_code == 401  # the old password is gone
    assert _console_sign_in(client, password=NEW_PASSWORD).status_code == 303


def test_deleting_a_user_ends_its_console_session(site: Installation, client: TestClient) -> None:
    viewer = site.user(site.operator_id, Role.VIEWER, "viewer@operator.example")
    assert _console_sign_in(client, viewer.email).status_code == 303
    cookie = dict(client.cookies)
    assert _replay(site, cookie).status_code == 200
    auth.delete_user(site.uow(), caller=site.admin, user_id=viewer.user_id)
    assert _replay(site, cookie).status_code == 303


class CountingHasher(PasswordHasher):
    """The real Argon2 hasher, counting the hashes it verifies."""

    verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        type(self).verified += 1
        return super().verify(hash, password)


@pytest.mark.parametrize("email", ["nobody@example.com", ADMIN_EMAIL])
def test_an_unknown_email_costs_the_same_hash_as_a_wrong_password(
    site: Installation, monkeypatch: pytest.MonkeyPatch, email: str
) -> None:
    hasher = CountingHasher.from_parameters(profiles.CHEAPEST)
    monkeypatch.setattr(passwords, "_hasher", hasher)
    CountingHasher.verified = 0
    with pytest.raises(Unauthorized):
        auth.sign_in(site.uow(), email=email, password="not the password", now=site.now)
    assert CountingHasher.verified == 1


def test_the_operators_last_admin_cannot_be_deleted(world: World) -> None:
    me = world.get("/me").json()["user"]["id"]
    refused = world.call("DELETE", f"/users/{me}", world.operator_admin)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "last-admin"
    second = world.post(
        "/users",
        json={
            "email": "second@operator.example",
            "password": PASSWORD,
            "account_id": world.site.operator_id,
            "role": "admin",
        },
    ).json()
    assert world.call("DELETE", f"/users/{me}", world.operator_admin).status_code == 204
    fresh = world.client.post(
        f"{API}/auth/token", data={"username": "second@operator.example", "password": PASSWORD}
    ).json()["access_token"]
    assert world.call("DELETE", f"/users/{second['id']}", fresh).json()["code"] == "last-admin"
    partner_users = world.get("/users", fresh, params={"account_id": world.own_reseller.id}).json()["items"]
    admins = [user for user in partner_users if user["role"] == "admin"]
    assert len(admins) == 1  # the list is by id, and ids made in one millisecond have no fixed order
    partner_admin = admins[0]  # a partner's only admin may go: the operator can add another
    assert world.call("DELETE", f"/users/{partner_admin['id']}", fresh).status_code == 204


def _no_portal_login_anywhere(site: Installation) -> None:
    matrix = CONNECT.as_matrix()
    matrix["portal_login"] = dict.fromkeys(matrix["portal_login"], False)
    policy.set_policy(site.uow(), caller=site.admin, preset=None, matrix=matrix, now=site.now)


def test_a_policy_without_portal_login_never_locks_out_the_operator_or_management(world: World) -> None:
    site = world.site
    with site.uow().reading() as uow:
        management = uow.connection.execute(select(accounts.c.id).where(accounts.c.is_management)).scalar_one()
    site.user(management, Role.PORTAL, "staff@management.example")
    _no_portal_login_anywhere(site)

    def sign_in(email: str) -> int:
        answer = world.client.post(f"{API}/auth/token", data={"username": email, "password": PASSWORD})
        return int(answer.status_code)

    assert sign_in(ADMIN_EMAIL) == 200
    assert sign_in("viewer@operator.example") == 200
    assert sign_in("staff@management.example") == 200
    assert world.get("/me", world.operator_admin).status_code == 200  # tokens already issued keep working
    assert sign_in("admin@northwind.example") == 403  # partners' and clients' users are governed
    assert sign_in("portal@acme.example") == 403
    assert world.get("/me", world.reseller_admin).json()["code"] == "login-suspended"
    with TestClient(app_for(site)) as browser:
        assert _console_sign_in(browser).status_code == 303
        assert browser.get("/clients").status_code == 200
