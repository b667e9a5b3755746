"""Who gets in and what they see, under the `metis` policy (suspension denies portal login)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tenure.domain.access import Role
from tenure.domain.model import Account, Contact, HoldReason, Kind
from tenure.services import accounts, auth
from tests.e2e.browser.conftest import ADMIN, PASSWORD, Server, sign_in, start_server

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with start_server(tmp_path_factory.mktemp("console-metis"), policy="metis") as running:
        yield running


def client_with_portal_user(server: Server, name: str, email: str) -> Account:
    request = accounts.CreateAccount(Kind.CLIENT, server.operator_id, name, Contact(name, email))
    client = accounts.create_account(server.uow(), caller=server.admin, request=request, now=server.now)
    auth.create_user(
        server.uow(),
        caller=server.admin,
        email=email,
        password=PASSWORD,
        account_id=client.id,
        role=Role.PORTAL,
        now=server.now,
    )
    return client


def test_portal_user_of_a_suspended_client_is_refused_with_a_message(page: Page, server: Server) -> None:
    gamma = client_with_portal_user(server, "Gamma Goods", "it@gamma.example")
    accounts.suspend(
        server.uow(),
        caller=server.admin,
        account_id=gamma.id,
        reason=HoldReason.NON_PAYMENT,
        note="",
        expected_version=None,
        now=server.now,
    )
    sign_in(page, server, "it@gamma.example")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("You cannot sign in at the moment")
    expect(alert).to_contain_text("Gamma Goods is suspended")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(server.url + f"/clients/{gamma.id}")
    expect(page).to_have_url(re.compile(r"/login\?next="))  # no session was given


def test_portal_user_signed_in_when_suspended_is_sent_out_with_the_message(page: Page, server: Server) -> None:
    hotel = client_with_portal_user(server, "Hotel Linen", "it@hotel.example")
    sign_in(page, server, "it@hotel.example")
    expect(page.locator("h1")).to_have_text("Hotel Linen")
    accounts.suspend(
        server.uow(),
        caller=server.admin,
        account_id=hotel.id,
        reason=HoldReason.FRAUD,
        note="",
        expected_version=None,
        now=server.now,
    )
    page.reload()
    expect(page.locator("h1")).to_have_text("You cannot use Tenure at the moment")
    expect(page.get_by_role("alert")).to_contain_text("Hotel Linen is suspended")


def test_portal_user_sees_only_its_own_client_read_only(page: Page, server: Server) -> None:
    india = client_with_portal_user(server, "India Imports", "it@india.example")
    other = client_with_portal_user(server, "Juliet Jewellers", "it@juliet.example")
    sign_in(page, server, "it@india.example")
    expect(page).to_have_url(re.compile(rf"/clients/{india.id}$"))
    expect(page.locator("#entitlements")).to_be_visible()
    expect(page.get_by_text("Edit status")).to_have_count(0)
    page.goto(server.url + "/clients")
    expect(page).to_have_url(re.compile(rf"/clients/{india.id}$"))
    response = page.goto(server.url + f"/clients/{other.id}")
    assert response is not None and response.status == 404
    expect(page.locator("body")).not_to_contain_text("Juliet Jewellers")


def test_view_as_client_shows_a_banner_and_is_recorded(page: Page, server: Server) -> None:
    kilo = client_with_portal_user(server, "Kilo Kitchens", "it@kilo.example")
    sign_in(page, server)
    page.goto(server.url + f"/clients/{kilo.id}")
    page.get_by_text("More", exact=True).click()
    page.get_by_role("link", name="View as client").click()
    expect(page.get_by_role("note")).to_contain_text("Viewing as client")
    expect(page.locator("h2", has_text="What works now")).to_be_visible()
    expect(page.get_by_text("Edit status")).to_have_count(0)
    page.get_by_role("link", name="Back to the client page").click()
    first = page.locator("#audit tbody tr").first
    expect(first).to_contain_text("Viewed as client")
    expect(first).to_contain_text("admin@meridian.example")


def test_forms_without_the_csrf_token_get_a_403_page(server: Server) -> None:
    with httpx.Client(base_url=server.url) as http:
        http.get("/login")  # a session cookie with a CSRF token
        refused = http.post("/login", data={"email": "admin@meridian.example", "password": PASSWORD})
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("text/html")
        assert "This form has expired" in refused.text
        forged = http.post("/login", data={"email": "x", "password": "y", "csrf_token": "forged"})
        assert forged.status_code == 403


def test_session_cookie_is_http_only_and_lax(page: Page, server: Server) -> None:
    sign_in(page, server)
    expect(page).to_have_url(re.compile(r"/clients$"))
    cookie = next(c for c in page.context.cookies() if c["name"] == "tenure_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]  # plain HTTP here
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".flash")).to_have_text("You are signed out.")
    page.goto(server.url + "/clients")
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)clients$"))


def _signed_in_http(server: Server) -> httpx.Client:
    """A plain HTTP client holding a console session (the caller closes it)."""
    http = httpx.Client(base_url=server.url)
    token = http.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    signed = http.post("/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": token})
    assert signed.status_code == 303
    return http


def test_billing_offers_the_months_csv(page: Page, server: Server) -> None:
    sign_in(page, server)
    page.get_by_role("link", name="Billing").click()
    month = page.get_by_label("Month").input_value()
    assert re.fullmatch(r"\d{4}-\d{2}", month)
    link = page.get_by_role("link", name="Download CSV")
    assert link.get_attribute("href") == f"/billing/{month}.csv"
    http = _signed_in_http(server)
    try:
        csv = http.get(f"/billing/{month}.csv")
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        assert csv.text.splitlines()[0] == "billing_ref,client,service,label,month,days,amount"
        bad = http.get("/billing/2026-13.csv")
        assert bad.status_code == 422 and "month must be YYYY-MM" in bad.text
    finally:
        http.close()


def test_failed_api_sign_ins_throttle_the_console_too(page: Page, server: Server) -> None:
    client_with_portal_user(server, "Lima Lamps", "it@lima.example")
    with httpx.Client(base_url=server.url) as http:
        for _ in range(10):
            wrong = http.post("/api/v1/auth/token", data={"username": "it@lima.example", "password": "wrong-password"})
            assert wrong.status_code == 401
    sign_in(page, server, "it@lima.example")  # the right password, but the throttle is shared
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins for this email")
