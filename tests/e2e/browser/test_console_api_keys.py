"""The API keys page: create a key (shown once), see it used, revoke it, all through the console."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import ADMIN, PASSWORD, Server, sign_in, start_server

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with start_server(tmp_path_factory.mktemp("console-keys"), policy="connect") as running:
        yield running


def _entitlements(server: Server, key: str) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.get(f"{server.url}/api/v1/accounts/{server.operator_id}/entitlements", headers=headers).status_code


def test_create_a_key_see_it_once_then_revoke_it(page: Page, server: Server) -> None:
    sign_in(page, server)
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    expect(page.locator("#api-keys")).to_contain_text("No API keys.")

    page.get_by_label("Name").fill("kamailio")
    page.get_by_label("Entitlement lookups").check()
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#new-key")).to_contain_text("shown only this once")
    key = page.locator("#new-key-value").inner_text().strip()
    assert re.fullmatch(r"tnk_[A-Za-z0-9_-]{40,}", key)
    row = page.locator("#api-keys tbody tr", has_text="kamailio")
    expect(row).to_contain_text("entitlements:read")
    expect(row).to_contain_text("Never")

    assert _entitlements(server, key) == 200
    page.reload()
    expect(page.locator("#new-key")).to_have_count(0)
    expect(page.get_by_text(key)).to_have_count(0)
    expect(row).not_to_contain_text("Never")

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke kamailio").click()
    expect(page.locator(".flash")).to_contain_text("API key revoked")
    expect(page.locator("#api-keys")).to_contain_text("No API keys.")
    assert _entitlements(server, key) == 401


def test_a_key_without_a_scope_is_refused_with_a_message(page: Page, server: Server) -> None:
    sign_in(page, server)
    page.goto(server.url + "/api-keys")
    page.get_by_label("Name").fill("radius")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("alert")).to_contain_text("Scopes must be a non-empty list")
    expect(page.get_by_label("Name")).to_have_value("radius")
    expect(page.locator("#new-key")).to_have_count(0)


def test_creating_or_revoking_without_the_csrf_token_is_refused(server: Server) -> None:
    with httpx.Client(base_url=server.url) as http:
        token = http.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        signed = http.post("/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": token})
        assert signed.status_code == 303
        forged = http.post("/api-keys", data={"name": "x", "scopes": "read", "csrf_token": "forged"})
        assert forged.status_code == 403 and "This form has expired" in forged.text
        assert http.post("/api-keys/anything/revoke", data={}).status_code == 403
        assert "No API keys." in http.get("/api-keys").text
