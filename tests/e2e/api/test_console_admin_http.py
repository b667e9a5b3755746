"""The console's users, webhooks and policy pages at the HTTP level: authority, CSRF and bad input.

Every refusal is a page with the right status, never a 500; what a caller
cannot see answers 404 as in the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from tenure.adapters.destinations import DestinationGuard
from tenure.domain.access import Role
from tenure.services import webhooks
from tests.e2e.api.conftest import TestClient, app_for
from tests.support import PASSWORD, Installation


@pytest.fixture
def clients() -> Iterator[ExitStack]:
    """Every client a test opens is closed (its app's lifespan ends) when the test does."""
    with ExitStack() as stack:
        yield stack


def _signed_in(site: Installation, email: str, clients: ExitStack) -> tuple[TestClient, str]:
    client = clients.enter_context(TestClient(app_for(site)))
    token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 200, answer.text
    page = client.get("/account/password").text  # a fresh CSRF token comes with the new session
    return client, page.split('name="csrf_token" value="')[1].split('"')[0]


def _post(client: TestClient, path: str, csrf: str, **data: Any) -> Any:
    return client.post(path, data={"csrf_token": csrf, **data}, follow_redirects=False)


def test_forms_need_the_csrf_token(site: Installation, clients: ExitStack) -> None:
    client, _ = _signed_in(site, site.admin.email, clients)
    answer = client.post(f"/accounts/{site.operator_id}/users/new", data={"email": "a@b.example", "role": "viewer"})
    assert answer.status_code == 403 and "This form has expired" in answer.text
    assert client.post("/policy", data={"choice": "metis", "step": "save"}).status_code == 403


def test_a_partner_admin_sees_only_its_tree(site: Installation, clients: ExitStack) -> None:
    reseller = site.reseller()
    partner = site.user(reseller.id, Role.ADMIN, "admin@reseller.example")
    hook = webhooks.create_webhook(
        site.uow(),
        caller=site.admin,
        request=webhooks.CreateWebhook(url="https://hooks.example.com/x", events=["account.suspended"]),
        now=site.now,
        destinations=DestinationGuard(),
    )
    client, csrf = _signed_in(site, partner.email, clients)
    assert client.get(f"/accounts/{site.operator_id}/users").status_code == 404
    assert client.get(f"/accounts/{site.operator_id}/users/{site.admin.user_id}/reset").status_code == 404
    assert _post(client, f"/accounts/{site.operator_id}/users/{site.admin.user_id}/remove", csrf).status_code == 404
    assert client.get(f"/webhooks/{hook.id}").status_code == 404
    assert _post(client, f"/webhooks/{hook.id}/delete", csrf).status_code == 404
    assert _post(client, "/policy", csrf, choice="metis", step="save").status_code == 403
    assert client.get(f"/accounts/{reseller.id}/users").status_code == 200


def test_a_portal_user_has_no_webhooks_and_no_user_forms(site: Installation, clients: ExitStack) -> None:
    acme = site.client()
    portal = site.user(acme.id, Role.PORTAL, "it@acme.example")
    client, _ = _signed_in(site, portal.email, clients)
    assert client.get("/webhooks").status_code == 403
    assert client.get(f"/accounts/{acme.id}/users/new").status_code == 403
    assert client.get("/account/password").status_code == 200


def test_bad_input_is_refused_on_the_form(site: Installation, clients: ExitStack) -> None:
    client, csrf = _signed_in(site, site.admin.email, clients)
    users = f"/accounts/{site.operator_id}/users/new"
    answer = _post(client, users, csrf, email="nul\x00@example.com", role="viewer", mode="link")
    assert answer.status_code == 422 and "NUL" in answer.text  # refused at the door (entrypoints/guards.py)
    answer = _post(client, users, csrf, email="not an address", role="viewer", mode="link")
    assert answer.status_code == 422 and "Enter an email address" in answer.text
    assert _post(client, users, csrf, email="x@example.com", role="owner").status_code == 422
    assert _post(client, users, csrf, email="x" * 400, role="viewer").status_code in (400, 422)
    hook = _post(client, "/webhooks/new", csrf, url="https://hooks.example.com/\x07", events="account.suspended")
    assert hook.status_code == 422
    inactive = _post(client, "/policy", csrf, choice="custom", step="preview", **{"m.internet.inactive": "on"})
    assert inactive.status_code == 422 and "neither served nor billed" in inactive.text


def test_a_forged_or_garbled_link_is_refused_without_a_form(site: Installation, clients: ExitStack) -> None:
    client = clients.enter_context(TestClient(app_for(site)))
    for token in ("", "garbage", "a.b.c", "x" * 1000):
        answer = client.get("/set-password", params={"token": token})
        assert answer.status_code == 410 and "expired or has already been used" in answer.text
        assert 'name="password"' not in answer.text
    nul = client.get("/set-password", params={"token": "\x00" * 10})  # refused at the door, before the page
    assert nul.status_code == 422 and 'name="password"' not in nul.text
