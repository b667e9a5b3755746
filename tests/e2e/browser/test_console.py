"""The console end to end, under the `connect` policy: what staff do all day, in Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tenure.domain.access import Role
from tenure.domain.model import Account, ActivateMode, ClientType, Contact, HoldReason, Kind
from tenure.services import accounts, auth
from tenure.services.common import today
from tests.e2e.browser.conftest import PASSWORD, SCREENSHOTS, Server, sign_in, start_server

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with start_server(tmp_path_factory.mktemp("console"), policy="connect") as running:
        _neighbours(running)
        yield running


def _neighbours(server: Server) -> None:
    """Clients in every status around the ones each test makes, so the pages look like real use."""
    day = server_today(server)
    create(server, "Birch & Co", activate=ActivateMode.MANUAL)
    create(server, "Cobalt Ventures", start_date=day + timedelta(days=14))
    create(
        server,
        "Ember Law",
        client_type=ClientType.VIRTUAL,
        start_date=day - timedelta(days=400),
        end_date=day - timedelta(days=35),
    )
    held = create(server, "Harbour Freight", start_date=day - timedelta(days=90))
    accounts.suspend(
        server.uow(),
        caller=server.admin,
        account_id=held.id,
        reason=HoldReason.NON_PAYMENT,
        note="invoice 1042 unpaid",
        expected_version=None,
        now=server.now,
    )
    leaving = create(server, "Juniper Health", start_date=day - timedelta(days=200))
    accounts.decommission(
        server.uow(),
        caller=server.admin,
        account_id=leaving.id,
        on=day + timedelta(days=20),
        expected_version=None,
        now=server.now,
    )


def create(
    server: Server, name: str, kind: Kind = Kind.CLIENT, parent_id: str | None = None, **extra: object
) -> Account:
    request = accounts.CreateAccount(
        kind,
        parent_id or server.operator_id,
        name,
        Contact(name, "contact@example.com"),
        **extra,  # type: ignore[arg-type]
    )
    return accounts.create_account(server.uow(), caller=server.admin, request=request, now=server.now)


def server_today(server: Server) -> date:
    with server.uow().reading() as uow:
        return today(uow, server.now)


def open_client(page: Page, server: Server, account: Account) -> None:
    page.goto(f"{server.url}/clients/{account.id}")
    expect(page.locator("h1")).to_contain_text(account.name)


def choose_status_action(page: Page, label: str) -> None:
    page.get_by_text("Edit status", exact=True).click()
    page.get_by_role("link", name=f"{label}…").click()
    expect(page.get_by_role("dialog")).to_be_visible()


def clients_table(page: Page) -> list[str]:
    return page.locator("#clients tbody tr td.name").all_inner_texts()


def test_sign_in_shows_management_client_first_and_hides_inactive(page: Page, server: Server) -> None:
    create(server, "Aardvark Trading")
    closed = create(server, "Abbey Closed")
    accounts.decommission(
        server.uow(), caller=server.admin, account_id=closed.id, on=None, expected_version=None, now=server.now
    )
    sign_in(page, server)
    expect(page).to_have_url(re.compile(r"/clients$"))
    first = page.locator("#clients tbody tr").first
    expect(first).to_contain_text("Meridian (management)")
    expect(first).to_contain_text("Virtual client")
    expect(page.locator("#clients")).to_contain_text("Aardvark Trading")
    expect(page.locator("#clients")).not_to_contain_text("Abbey Closed")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "clients.png"), full_page=True)

    page.get_by_role("link", name="Show inactive clients").click()
    row = page.locator("#clients tbody tr", has_text="Abbey Closed")
    expect(row.locator(".badge")).to_contain_text("Inactive")
    expect(page.locator("#clients tbody tr").first).to_contain_text("Meridian (management)")
    page.get_by_role("link", name="Hide inactive clients").click()
    expect(page.locator("#clients")).not_to_contain_text("Abbey Closed")


def test_suspend_with_a_reason_then_unsuspend(page: Page, server: Server) -> None:
    acme = create(server, "Acme Ltd")
    sign_in(page, server)
    open_client(page, server, acme)

    choose_status_action(page, "Suspend")
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Reason").select_option("fraud")
    dialog.get_by_label("Note").fill("card chargebacks")
    expect(dialog.locator("#suspend-confirmation")).to_have_text(
        "Suspend Acme Ltd? Outbound calls and internet stop; "
        "inbound calls, local network, portal login and billing continue."
    )
    dialog.get_by_role("button", name="Suspend").click()

    expect(page.locator(".flash")).to_have_text("Acme Ltd suspended: fraud")
    expect(page.locator(".status-line .badge")).to_have_text("Suspended")
    expect(page.locator(".holds")).to_contain_text("card chargebacks")
    outbound = page.locator("#entitlements tr[data-capability=outbound_calls]")
    expect(outbound).to_contain_text("Denied")
    expect(outbound).to_contain_text("suspended: fraud hold on client Acme Ltd")
    expect(page.locator("#entitlements tr[data-capability=inbound_calls]")).to_contain_text("Allowed")
    expect(page.locator("#audit tbody tr").first).to_contain_text("Suspended: fraud")
    page.screenshot(path=str(SCREENSHOTS / "client.png"), full_page=True)

    choose_status_action(page, "Unsuspend")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Activate Acme Ltd again?")
    dialog.get_by_role("button", name="Activate").click()
    expect(page.locator(".flash")).to_have_text("Acme Ltd activated again")
    expect(page.locator(".status-line .badge")).to_have_text("Active")
    expect(outbound).to_contain_text("Allowed")


def test_schedule_and_cancel_a_decommission_then_decommission_now(page: Page, server: Server) -> None:
    bolt = create(server, "Bolt Fasteners")
    day = server_today(server) + timedelta(days=30)
    shown = f"{day.day} {day.strftime('%b %Y')}"
    sign_in(page, server)
    open_client(page, server, bolt)

    choose_status_action(page, "Decommission")
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Scheduled, on a date").check()
    dialog.get_by_label("Decommission date").fill(day.isoformat())
    dialog.get_by_role("button", name="Decommission").click()
    expect(page.locator(".flash")).to_have_text(f"Bolt Fasteners will be decommissioned on {shown}")
    expect(page.locator(".status-line .badge")).to_have_text(f"Active · decommissions {shown}")

    page.goto(server.url + "/clients?q=bolt")
    expect(page.locator("#clients tbody tr", has_text="Bolt Fasteners").locator(".badge")).to_contain_text(shown)
    page.get_by_role("link", name="Bolt Fasteners").click()

    choose_status_action(page, "Cancel scheduled decommission")
    page.get_by_role("dialog").get_by_role("button", name="Cancel the decommission").click()
    expect(page.locator(".flash")).to_have_text("Scheduled decommission of Bolt Fasteners cancelled")
    expect(page.locator(".status-line .badge")).to_have_text("Active")

    choose_status_action(page, "Decommission")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("cannot be undone")
    dialog.get_by_label("Type the client's name").fill("Bolt")
    dialog.get_by_role("button", name="Decommission").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Type the client's name, Bolt Fasteners")
    expect(page.locator(".status-line .badge")).to_have_text("Active")

    dialog.get_by_label("Type the client's name").fill("Bolt Fasteners")
    dialog.get_by_role("button", name="Decommission").click()
    expect(page).to_have_url(re.compile(r"/clients$"))
    expect(page.locator(".flash")).to_have_text("Bolt Fasteners decommissioned")
    expect(page.locator("#clients")).not_to_contain_text("Bolt Fasteners")


def test_suspending_a_channel_from_partners_suspends_its_clients(page: Page, server: Server) -> None:
    east = create(server, "East Sales", Kind.CHANNEL)
    cedar = create(server, "Cedar Dental", parent_id=east.id)
    sign_in(page, server)
    page.get_by_role("link", name="Partners").click()
    row = page.locator("#partners tbody tr", has_text="East Sales")
    expect(row.locator("td.num").nth(2)).to_have_text("1")  # one active client below it

    row.get_by_role("link", name="Suspend East Sales").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("This affects 1 client below East Sales")
    dialog.get_by_label("Reason").select_option("non_payment")
    dialog.get_by_role("button", name="Suspend").click()
    expect(page.locator(".flash")).to_have_text("East Sales suspended: non-payment")
    expect(page).to_have_url(re.compile(r"/partners$"))
    expect(row.locator(".badge")).to_have_text("Suspended")

    open_client(page, server, cedar)
    expect(page.locator(".status-line .badge")).to_have_text("Suspended")
    expect(page.locator(".inherited")).to_contain_text("Suspended because channel East Sales is suspended")
    page.get_by_text("Edit status", exact=True).click()
    expect(page.get_by_role("link", name="Unsuspend…")).to_have_count(0)  # nothing of its own to lift


def test_edit_client_name_billing_ref_and_past_end_date(page: Page, server: Server) -> None:
    start = server_today(server) - timedelta(days=60)
    delta = create(server, "Delta Design", billing_ref="DELTA-1", start_date=start)
    yesterday = server_today(server) - timedelta(days=1)
    sign_in(page, server)
    open_client(page, server, delta)
    page.get_by_text("More", exact=True).click()
    page.get_by_role("link", name="Edit client").click()

    expect(page.get_by_label("Start date")).to_be_disabled()  # active: the start date is fixed
    page.get_by_label("Client name").fill("Delta Design Group")
    page.get_by_label("Billing ref").fill("")
    page.get_by_label("End date").fill(yesterday.isoformat())
    page.get_by_role("button", name="Save").click()

    expect(page.locator(".flash")).to_have_text("Delta Design Group saved")
    expect(page.locator("h1")).to_contain_text("Delta Design Group")
    expect(page.locator(".summary .mono")).to_have_text(re.compile(r"^TEN-\d{6}$"))
    expired = page.locator(".summary .expired")
    expect(expired).to_have_attribute("title", "contract expired")
    assert expired.evaluate("e => getComputedStyle(e).color") == "rgb(180, 35, 24)"  # red

    page.goto(server.url + "/clients?q=delta")
    expect(page.locator("#clients tbody tr", has_text="Delta Design Group").locator(".expired")).to_be_visible()


def test_a_viewer_sees_no_edit_status(page: Page, server: Server) -> None:
    echo = create(server, "Echo Viewing")
    auth.create_user(
        server.uow(),
        caller=server.admin,
        email="viewer@meridian.example",
        password=PASSWORD,
        account_id=server.operator_id,
        role=Role.VIEWER,
        now=server.now,
    )
    sign_in(page, server, "viewer@meridian.example")
    open_client(page, server, echo)
    expect(page.locator("#entitlements")).to_be_visible()
    expect(page.get_by_text("Edit status")).to_have_count(0)
    expect(page.get_by_text("Edit client")).to_have_count(0)
    expect(page.get_by_role("link", name="New client")).to_have_count(0)


def test_wizard_left_after_details_resumes_and_activates(page: Page, server: Server) -> None:
    sign_in(page, server)
    page.get_by_role("link", name="New client").click()
    page.get_by_label("Client name").fill("Foxtrot Media")
    page.get_by_label("Email").fill("ops@foxtrot.example")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".steps [aria-current=step]")).to_contain_text("Type and offices")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()  # leave midway
    row = page.locator("#clients tbody tr", has_text="Foxtrot Media")
    expect(row.locator(".badge")).to_have_text("New")
    row.get_by_role("link", name="Click to complete").click()
    expect(page.locator(".steps [aria-current=step]")).to_contain_text("Type and offices")

    page.get_by_label("Virtual").check()
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".steps [aria-current=step]")).to_contain_text("Services")
    page.get_by_role("button", name="Continue to review").click()
    expect(page.locator(".steps [aria-current=step]")).to_contain_text("Review")
    expect(page.locator(".summary")).to_contain_text("Virtual client")
    page.get_by_label("Now").check()
    page.get_by_role("button", name="Finish").click()

    expect(page.locator(".flash")).to_have_text("Foxtrot Media activated")
    expect(page.locator(".status-line .badge")).to_have_text("Active")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    expect(page.locator("#clients tbody tr", has_text="Foxtrot Media")).not_to_contain_text("Click to complete")


def test_edit_status_menu_and_dialog_work_with_the_keyboard(page: Page, server: Server) -> None:
    golf = create(server, "Golf Keys")
    sign_in(page, server)
    open_client(page, server, golf)
    summary = page.locator("#status-menu summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#status-menu")).to_have_attribute("open", "")
    page.keyboard.press("Escape")  # closes the menu, focus back on its button
    expect(page.locator("#status-menu")).not_to_have_attribute("open", "")
    expect(summary).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Suspend…")).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Reason")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator(".status-line .badge")).to_have_text("Active")


def test_the_console_runs_under_its_content_security_policy_without_a_violation(page: Page, server: Server) -> None:
    """Every page sends the policy, and Chromium, enforcing it, reports nothing refused while staff work."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.on("pageerror", lambda error: violations.append(str(error)))
    headers: list[dict[str, str]] = []
    page.on(
        "response",
        lambda response: headers.append(response.headers) if response.request.resource_type == "document" else None,
    )
    channel = create(server, "Policy Sales", Kind.CHANNEL)
    client = create(server, "Policy Ltd", parent_id=channel.id)
    sign_in(page, server)
    expect(page.locator("#clients")).to_be_visible()
    open_client(page, server, client)
    choose_status_action(page, "Suspend")  # htmx fetches the dialog and swaps it in
    page.get_by_role("dialog").get_by_label("Reason").select_option("fraud")
    page.get_by_role("dialog").get_by_role("button", name="Suspend").click()
    expect(page.locator(".status-line .badge")).to_have_text("Suspended")
    page.goto(server.url + "/partners")  # the tree's indentation is a class, not an inline style
    expect(page.get_by_role("link", name="Policy Sales", exact=True)).to_be_visible()
    page.goto(server.url + "/clients/no-such-client")
    page.get_by_role("link", name="Go back").click()
    expect(page).to_have_url(re.compile(r"/partners$"))
    assert violations == []
    assert headers and all("frame-ancestors 'none'" in h.get("content-security-policy", "") for h in headers)
    assert all(h.get("x-content-type-options") == "nosniff" for h in headers)
