"""Issue 14, items 3, 4 and 8 in Chromium: a partner's clients, search by number and email, New/Edit partner."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tenure.adapters.phone import E164Numbers
from tenure.domain import lifecycle
from tenure.domain.access import Role
from tenure.domain.catalog import LineKind
from tenure.domain.model import Account, Contact, HoldReason, Kind
from tenure.services import accounts, auth, lines
from tests.e2e.browser.conftest import PASSWORD, SCREENSHOTS, Server, sign_in, start_server
from tests.e2e.browser.test_console import create

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

RESELLER_ADMIN = "admin@northwind.example"


@dataclass
class Tree:
    reseller: Account
    channel: Account
    other_channel: Account
    acme: Account
    bravo: Account
    zenith: Account


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with start_server(tmp_path_factory.mktemp("partners"), policy="connect") as running:
        yield running


@pytest.fixture(scope="module")
def tree(server: Server) -> Tree:
    """Northwind > North Sales > Acme, Bravo; Southwind > South Sales > Zenith (another tenant)."""
    reseller = create(server, "Northwind", Kind.RESELLER)
    channel = create(server, "North Sales", Kind.CHANNEL, reseller.id)
    southwind = create(server, "Southwind", Kind.RESELLER)
    other_channel = create(server, "South Sales", Kind.CHANNEL, southwind.id)
    acme = create(server, "Acme Ltd", parent_id=channel.id)
    bravo = create(server, "Bravo Bakery", parent_id=channel.id)
    zenith = create(server, "Zenith Ltd", parent_id=other_channel.id)
    accounts.update_account(
        server.uow(),
        caller=server.admin,
        account_id=bravo.id,
        changes=_contact_change(bravo, "Orders@Bravo-Bakery.example"),
        expected_version=None,
        now=server.now,
    )
    add_number(server, acme, "+44 20 7946 0123")
    add_number(server, zenith, "+44 20 7946 0999")
    auth.create_user(
        server.uow(),
        caller=server.admin,
        email=RESELLER_ADMIN,
        password=PASSWORD,
        account_id=reseller.id,
        role=Role.ADMIN,
        now=server.now,
    )
    return Tree(reseller, channel, other_channel, acme, bravo, zenith)


def _contact_change(account: Account, email: str) -> lifecycle.AccountChanges:
    return lifecycle.AccountChanges(main_contact=Contact(account.name, email))


def add_number(server: Server, client: Account, number: str) -> None:
    lines.add_service(
        server.uow(),
        numbers=E164Numbers(),
        caller=server.admin,
        account_id=client.id,
        kind=LineKind.PHONE_NUMBER,
        label=number,
        monthly_price="5.00",
        start_date=None,
        now=server.now,
    )


def listed(page: Page, table: str = "#clients") -> list[str]:
    return page.locator(f"{table} tbody tr td.name a").all_inner_texts()


def search(page: Page, term: str) -> None:
    page.get_by_label("Search").fill(term)
    with page.expect_navigation():
        page.get_by_label("Search").press("Enter")


def test_search_finds_a_client_by_its_number_in_any_spelling(page: Page, server: Server, tree: Tree) -> None:
    sign_in(page, server)
    for term in ("+44 20 7946 0123", "00442079460123", "+442079460123", "0044 (0)20 7946-0123"):
        search(page, term)
        expect(page.locator("#clients tbody tr td.name")).to_have_text(["Acme Ltd"])
        expect(page.get_by_label("Search")).to_have_value(term)
    search(page, "+44 20 7946")  # the start of a number: the whole block
    expect(page.locator("#clients tbody tr td.name")).to_have_text(["Acme Ltd", "Zenith Ltd"])


def test_search_finds_a_client_by_its_contacts_email_in_any_case(page: Page, server: Server, tree: Tree) -> None:
    sign_in(page, server)
    search(page, "ORDERS@bravo-bakery.EXAMPLE")
    expect(page.locator("#clients tbody tr td.name")).to_have_text(["Bravo Bakery"])


def test_a_partner_admin_never_finds_another_tenants_client_by_number(page: Page, server: Server, tree: Tree) -> None:
    sign_in(page, server, RESELLER_ADMIN)
    search(page, "+44 20 7946 0999")
    expect(page.locator("#clients tbody tr td.empty")).to_contain_text("No clients match")
    search(page, "+44 20 7946")
    expect(page.locator("#clients tbody tr td.name")).to_have_text(["Acme Ltd"])


def test_clients_show_whom_they_belong_to_and_filter_by_partner(page: Page, server: Server, tree: Tree) -> None:
    sign_in(page, server)
    acme_row = page.locator("#clients tbody tr", has_text="Acme Ltd")
    expect(acme_row.locator("td.belongs")).to_have_text("North Sales")
    header = page.locator("#clients thead th").all_inner_texts()
    assert [h.casefold() for h in header][-1] == "belongs to"

    page.get_by_label("Partner").select_option(label="Northwind (reseller)")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"within={tree.reseller.id}"))
    assert listed(page) == ["Acme Ltd", "Bravo Bakery"]  # the whole subtree, through the channel
    expect(page.get_by_label("Partner")).to_have_value(tree.reseller.id)

    acme_row.locator("td.belongs a").click()
    expect(page.locator("h1")).to_contain_text("North Sales")


def test_a_channel_page_lists_its_clients_with_the_status_chips(page: Page, server: Server, tree: Tree) -> None:
    """After suspending and restoring a channel, its page shows each client's status at a glance."""
    accounts.suspend(
        server.uow(),
        caller=server.admin,
        account_id=tree.channel.id,
        reason=HoldReason.NON_PAYMENT,
        note="",
        expected_version=None,
        now=server.now,
    )
    sign_in(page, server)
    page.goto(f"{server.url}/clients/{tree.channel.id}")
    section = page.locator("section.partner-clients")
    expect(section.locator("#partner-clients tbody tr td.name")).to_have_text(["Acme Ltd", "Bravo Bakery"])
    expect(section.locator("#partner-clients .badge")).to_have_text(["Suspended", "Suspended"])
    expect(section.get_by_role("link", name=re.compile(r"^Suspended 2"))).to_be_visible()

    accounts.unsuspend(
        server.uow(),
        caller=server.admin,
        account_id=tree.channel.id,
        reason=None,
        expected_version=None,
        now=server.now,
    )
    page.reload()
    expect(section.locator("#partner-clients .badge")).to_have_text(["Active", "Active"])
    expect(section.get_by_role("link", name=re.compile(r"^Suspended 0"))).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "partner-clients.png"), full_page=True)

    section.get_by_role("link", name=re.compile(r"^Active 2")).click()
    expect(page).to_have_url(re.compile(rf"/clients\?.*within={tree.channel.id}"))
    expect(page).to_have_url(re.compile(r"status=active"))
    assert listed(page) == ["Acme Ltd", "Bravo Bakery"]


def test_the_partner_trees_counts_link_to_the_filtered_clients(page: Page, server: Server, tree: Tree) -> None:
    sign_in(page, server)
    page.get_by_role("link", name="Partners", exact=True).click()
    row = page.locator("#partners tr", has_text="Northwind")
    row.get_by_role("link", name="Active clients of Northwind").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"within={tree.reseller.id}"))
    assert listed(page) == ["Acme Ltd", "Bravo Bakery"]
    expect(page.locator("h1")).to_contain_text("of Northwind")


def test_an_operator_admin_creates_a_channel_keeping_values_after_an_error(
    page: Page, server: Server, tree: Tree
) -> None:
    sign_in(page, server)
    page.goto(f"{server.url}/partners")
    page.get_by_role("link", name="New partner").click()
    expect(page.locator("h1")).to_have_text("New partner")
    page.get_by_label("Channel", exact=True).check()
    page.get_by_label("Partner name").fill("East Sales")
    page.get_by_label("Belongs to").select_option(label="Northwind (reseller)")
    page.get_by_label("Email", exact=True).fill("not an email")
    page.get_by_role("button", name="Create partner").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Enter an email address")
    expect(summary).to_be_focused()
    expect(page.get_by_label("Partner name")).to_have_value("East Sales")
    expect(page.get_by_label("Channel", exact=True)).to_be_checked()
    expect(page.get_by_label("Belongs to")).to_have_value(tree.reseller.id)

    page.get_by_label("Email", exact=True).fill("east@northwind.example")
    page.get_by_label("Billing ref").fill("EAST-1")
    page.get_by_role("button", name="Create partner").click()
    expect(page.locator(".flash")).to_have_text("East Sales created")
    expect(page.locator("h1")).to_contain_text("East Sales")
    expect(page.locator(".summary")).to_contain_text("EAST-1")
    expect(page.locator(".summary")).to_contain_text("Northwind")


def test_a_reseller_cannot_go_under_a_reseller(page: Page, server: Server, tree: Tree) -> None:
    sign_in(page, server)
    page.goto(f"{server.url}/partners/new")
    page.get_by_label("Reseller", exact=True).check()
    page.get_by_label("Partner name").fill("Nested Wind")
    page.get_by_label("Belongs to").select_option(label="Northwind (reseller)")
    page.get_by_label("Email", exact=True).fill("nested@example.com")
    page.get_by_role("button", name="Create partner").click()
    expect(page.get_by_role("alert")).to_contain_text("A reseller cannot be placed under a reseller")
    expect(page.get_by_label("Partner name")).to_have_value("Nested Wind")


def test_a_partner_admin_creates_a_channel_below_itself_only(page: Page, server: Server, tree: Tree) -> None:
    sign_in(page, server, RESELLER_ADMIN)
    page.goto(f"{server.url}/partners")
    page.get_by_role("link", name="New partner").click()
    expect(page.locator("h1")).to_have_text("New partner")
    expect(page.get_by_label("Reseller", exact=True)).to_have_count(0)
    options = page.get_by_label("Belongs to").locator("option").all_inner_texts()
    assert options == ["Northwind (reseller)"]
    page.get_by_label("Partner name").fill("West Sales")
    page.get_by_label("Email", exact=True).fill("west@northwind.example")
    page.get_by_role("button", name="Create partner").click()
    expect(page.locator(".flash")).to_have_text("West Sales created")
    page.goto(f"{server.url}/partners")
    expect(page.locator("#partners")).to_contain_text("West Sales")
    expect(page.locator("#partners")).not_to_contain_text("Southwind")


def test_edit_a_partner_name_billing_ref_contact_and_notes(page: Page, server: Server, tree: Tree) -> None:
    south = create(server, "South Coast", Kind.CHANNEL, tree.reseller.id)
    sign_in(page, server)
    page.goto(f"{server.url}/clients/{south.id}")
    page.get_by_text("More", exact=True).click()
    page.get_by_role("link", name="Edit channel").click()
    expect(page.locator("h1")).to_have_text("Edit channel")
    page.get_by_label("Channel name").fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_be_focused()
    page.get_by_label("Channel name").fill("South Coast Sales")
    page.get_by_label("Billing ref").fill("SCS-9")
    page.get_by_label("Email", exact=True).fill("ops@southcoast.example")
    page.get_by_label("Notes").fill("Restored 28 Nov")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_have_text("South Coast Sales saved")
    summary = page.locator(".summary")
    expect(summary).to_contain_text("SCS-9")
    expect(summary).to_contain_text("ops@southcoast.example")
    expect(summary).to_contain_text("Restored 28 Nov")


def test_a_viewer_gets_no_new_partner_form(page: Page, server: Server, tree: Tree) -> None:
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
    page.goto(f"{server.url}/partners")
    expect(page.get_by_role("link", name="New partner")).to_have_count(0)
    response = page.goto(f"{server.url}/partners/new")
    assert response is not None and response.status == 403
    expect(page.locator("form[action='/partners/new']")).to_have_count(0)


def test_a_partner_filter_outside_the_callers_tree_shows_nothing(page: Page, server: Server, tree: Tree) -> None:
    sign_in(page, server, RESELLER_ADMIN)
    page.goto(f"{server.url}/clients?within={tree.other_channel.id}")
    expect(page.locator("#clients tbody tr td.empty")).to_be_visible()
    expect(page.locator("#clients")).not_to_contain_text("Zenith")
    options = page.get_by_label("Partner").locator("option").all_inner_texts()
    assert "South Sales (channel)" not in options and "North Sales (channel)" in options


def test_a_control_character_in_the_search_is_refused_with_a_page(page: Page, server: Server, tree: Tree) -> None:
    sign_in(page, server)
    response = page.goto(f"{server.url}/clients?q=acme%07")
    assert response is not None and response.status == 422
    expect(page.locator("main")).to_contain_text("search term (q) must not contain control characters")
    nul = page.goto(f"{server.url}/clients?q=acme%00")  # NUL is refused at the door (entrypoints/guards.py)
    assert nul is not None and nul.status == 422


@pytest.mark.parametrize("width", [390, 1280])
def test_screenshots_of_the_partner_pages(page: Page, server: Server, tree: Tree, width: int) -> None:
    """Saved for people to look at (tests/e2e/screenshots/, kept out of git); the 390 px
    no-sideways-scroll check of every page belongs to the narrow-screen work (issue 14, item 18)."""
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in (
        ("clients-filtered", f"/clients?within={tree.reseller.id}"),
        ("partner-page", f"/clients/{tree.channel.id}"),
        ("new-partner", "/partners/new"),
        ("partners", "/partners"),
    ):
        page.goto(server.url + path)
        expect(page.locator("main h1")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
