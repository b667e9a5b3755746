"""The console at 390 px and 1280 px, and axe-core on every main page and status dialog.

`assert_fits`, `assert_accessible` and `look_at` are the helpers other console tests call:
a page must never scroll sideways as a whole, axe must find nothing serious or critical, and
every main page leaves a screenshot per width under tests/e2e/screenshots/ (git-ignored)
for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tenure.adapters.phone import E164Numbers
from tenure.domain.catalog import LineKind
from tenure.domain.model import Account, ActivateMode, ClientType, HoldReason, Kind
from tenure.services import accounts, lines, offices, wizard
from tests.e2e.browser.conftest import SCREENSHOTS, Server, sign_in, start_server
from tests.e2e.browser.test_console import choose_status_action, create, open_client, server_today

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

NARROW: ViewportSize = {"width": 390, "height": 844}
WIDE: ViewportSize = {"width": 1280, "height": 900}
WIDTHS = {"390": NARROW, "1280": WIDE}
BLOCKING = ("serious", "critical")
LONG_NETWORK_ID = "northwind-architecture-interior-design@pppoe.example.net"  # one word that must wrap
_AXE = Axe()


# The elements that stick out past the window's right edge, innermost first: what to fix.
_OVERFLOWING = """() => Array.from(document.querySelectorAll("body *"))
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5 && !el.closest(".table-scroll"))
  .filter(el => !Array.from(el.children).some(c => c.getBoundingClientRect().right > window.innerWidth + 0.5))
  .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + "." + el.className)"""


def assert_fits(page: Page) -> None:
    """No horizontal page scroll: whatever is wide scrolls inside its own box."""
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if widths[0] > widths[1]:
        culprits = page.evaluate(_OVERFLOWING)
        pytest.fail(f"{page.url} is {widths[0]} px wide in a {widths[1]} px window; sticking out: {culprits}")


def assert_accessible(page: Page, name: str) -> None:
    """axe-core finds no serious or critical violation on the page as it is now (dialogs included)."""
    results = _AXE.run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:5]}" for v in blocking
    )
    assert not blocking, f"axe on {name} ({page.url}):\n{report}"


def look_at(page: Page, name: str, *, full_page: bool = True) -> None:
    """Keep a screenshot for a person to look at (tests/e2e/screenshots is git-ignored).

    A dialog is shot as the window shows it (`full_page=False`): its backdrop covers the window only.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=full_page)


def assert_dialog_fits(page: Page) -> None:
    """The open dialog lies wholly inside the window's width."""
    box = page.get_by_role("dialog").bounding_box()
    assert box is not None
    viewport = page.viewport_size
    assert viewport is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box


@dataclass(frozen=True)
class Data:
    """The accounts each page shows, made once per module."""

    client: Account
    suspended: Account
    new: Account
    virtual: Account
    reseller: Account
    draft: Account
    leaving: Account


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with start_server(tmp_path_factory.mktemp("layout"), policy="connect") as running:
        yield running


@pytest.fixture(scope="module")
def data(server: Server) -> Data:
    day = server_today(server)
    room = offices.create_office(server.uow(), caller=server.admin, name="1.01", floor="1", capacity=4, now=server.now)
    offices.create_office(server.uow(), caller=server.admin, name="2.14", floor="2", capacity=12, now=server.now)
    client = create(
        server,
        "Northwind Architecture & Interior Design Partnership",
        client_type=ClientType.RESIDENTIAL,
        start_date=day - timedelta(days=40),
        end_date=day + timedelta(days=700),
    )
    uow, admin, now = server.uow(), server.admin, server.now
    offices.assign_office(uow, caller=admin, account_id=client.id, office_id=room.id, expected_version=None, now=now)
    for kind, label in [(LineKind.PHONE_NUMBER, "+44 20 7946 0123"), (LineKind.INTERNET, "Fibre 1 Gbit/s")]:
        lines.add_service(
            server.uow(),
            numbers=E164Numbers(),
            caller=server.admin,
            account_id=client.id,
            kind=kind,
            label=label,
            monthly_price="45.00",
            start_date=day - timedelta(days=40),
            now=server.now,
            network_id=LONG_NETWORK_ID if kind is LineKind.INTERNET else None,
        )
    suspended = create(server, "Harbour Freight", start_date=day - timedelta(days=90))
    accounts.suspend(
        server.uow(),
        caller=server.admin,
        account_id=suspended.id,
        reason=HoldReason.NON_PAYMENT,
        note="invoice 1042 unpaid",
        expected_version=None,
        now=server.now,
    )
    reseller = create(server, "Valley Resellers", kind=Kind.RESELLER)
    channel = create(server, "Valley Channel North", kind=Kind.CHANNEL, parent_id=reseller.id)
    create(server, "Channel Client", parent_id=channel.id)
    request = accounts.CreateAccount(Kind.CLIENT, server.operator_id, "Draft Dental", client.main_contact)
    draft = wizard.start(server.uow(), caller=server.admin, request=request, now=server.now)
    leaving = create(server, "Juniper Health", start_date=day - timedelta(days=200))
    on = day + timedelta(days=20)
    accounts.decommission(server.uow(), caller=admin, account_id=leaving.id, on=on, expected_version=None, now=now)
    return Data(
        client=client,
        suspended=suspended,
        new=create(server, "Birch & Co", activate=ActivateMode.MANUAL),
        virtual=create(server, "Ember Law", client_type=ClientType.VIRTUAL),
        reseller=reseller,
        draft=draft,
        leaving=leaving,
    )


@pytest.fixture(params=list(WIDTHS), ids=[f"{w}px" for w in WIDTHS])
def sized(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh context at one of the two widths every main page is checked at."""
    context = browser.new_context(viewport=WIDTHS[request.param])
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


# Every main page of the console, by name: the path to open for the module's data.
PAGES: dict[str, Callable[[Data], str]] = {
    "clients": lambda d: "/clients",
    "clients-inactive": lambda d: "/clients?inactive=1",
    "client": lambda d: f"/clients/{d.client.id}",
    "client-suspended": lambda d: f"/clients/{d.suspended.id}",
    "partner": lambda d: f"/clients/{d.reseller.id}",
    "partners": lambda d: "/partners",
    "wizard-details": lambda d: "/clients/new",
    "wizard-type": lambda d: f"/clients/{d.draft.id}/setup/type",
    "wizard-services": lambda d: f"/clients/{d.draft.id}/setup/services",
    "wizard-review": lambda d: f"/clients/{d.draft.id}/setup/review",
    "edit-client": lambda d: f"/clients/{d.client.id}/edit",
    "view-as-client": lambda d: f"/clients/{d.client.id}/as-client",
    "not-found": lambda d: "/clients/no-such-client",
    "billing": lambda d: "/billing",
    "offices": lambda d: "/offices",
    "events": lambda d: "/events",
    # pages added beside this test (issue 14 items 1-3, 7-10 and issue 11's keys)
    "partner-clients": lambda d: f"/clients?within={d.reseller.id}",
    "partner-new": lambda d: "/partners/new",
    "users": lambda d: "/users",
    "client-users": lambda d: f"/accounts/{d.client.id}/users",
    "user-new": lambda d: f"/accounts/{d.reseller.id}/users/new",
    "own-password": lambda d: "/account/password",
    "webhooks": lambda d: "/webhooks",
    "webhook-new": lambda d: "/webhooks/new",
    "policy": lambda d: "/policy",
    "api-keys": lambda d: "/api-keys",
    "service-new": lambda d: f"/clients/{d.client.id}/services/new",
    "office-assign": lambda d: f"/clients/{d.client.id}/offices/assign",
    "office-new": lambda d: "/offices/new",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_every_main_page_fits_and_passes_axe(sized: Page, server: Server, data: Data, name: str) -> None:
    sign_in(sized, server)
    expect(sized).to_have_url(re.compile(r"/clients$"))
    sized.goto(server.url + PAGES[name](data))
    # a dialog's form opened as a page of its own (no script) is headed by its dialog's h2
    expect(sized.locator("main").locator("h1, h2").first).to_be_visible()
    look_at(sized, name)
    assert_fits(sized)
    assert_accessible(sized, name)


def test_sign_in_page_fits_and_passes_axe(sized: Page, server: Server) -> None:
    sized.goto(server.url + "/login")
    look_at(sized, "sign-in")
    assert_fits(sized)
    assert_accessible(sized, "sign-in")
    sized.get_by_label("Email").fill("nobody@example.com")
    sized.get_by_label("Password").fill("wrong password")
    sized.get_by_role("button", name="Sign in").click()
    expect(sized.get_by_role("alert")).to_be_visible()
    assert_fits(sized)
    assert_accessible(sized, "sign-in refused")


DIALOGS: dict[str, tuple[Callable[[Data], Account], str]] = {
    "suspend": (lambda d: d.client, "Suspend"),
    "unsuspend": (lambda d: d.suspended, "Unsuspend"),
    "decommission": (lambda d: d.client, "Decommission"),
    "activate": (lambda d: d.new, "Activate"),
    "convert-virtual": (lambda d: d.client, "Convert to virtual"),
    "convert-residential": (lambda d: d.virtual, "Convert to residential"),
    "cancel-decommission": (lambda d: d.leaving, "Cancel scheduled decommission"),
}


@pytest.mark.parametrize("name", list(DIALOGS))
def test_every_status_dialog_fits_and_passes_axe(sized: Page, server: Server, data: Data, name: str) -> None:
    account, label = DIALOGS[name][0](data), DIALOGS[name][1]
    sign_in(sized, server)
    expect(sized).to_have_url(re.compile(r"/clients$"))
    open_client(sized, server, account)
    choose_status_action(sized, label)
    look_at(sized, f"dialog-{name}", full_page=False)
    assert_dialog_fits(sized)
    assert_fits(sized)
    assert_accessible(sized, f"the {name} dialog")


def test_a_form_error_in_a_dialog_passes_axe(sized: Page, server: Server, data: Data) -> None:
    sign_in(sized, server)
    open_client(sized, server, data.client)
    choose_status_action(sized, "Decommission")
    sized.get_by_label(re.compile("to confirm")).fill("northwind")
    sized.get_by_role("dialog").get_by_role("button", name="Decommission").click()
    expect(sized.get_by_role("dialog").get_by_role("alert")).to_be_visible()
    assert_dialog_fits(sized)
    assert_accessible(sized, "the decommission dialog with an error")


def test_narrow_top_bar_collapses_into_a_menu_that_reaches_sign_out(browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport=NARROW)
    page = context.new_page()
    try:
        sign_in(page, server)
        expect(page).to_have_url(re.compile(r"/clients$"))
        sign_out = page.get_by_role("button", name="Sign out")
        menu = page.get_by_role("button", name="Menu")
        expect(sign_out).to_be_hidden()
        expect(menu).to_have_attribute("aria-expanded", "false")
        menu.focus()
        page.keyboard.press("Enter")
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Billing")).to_be_in_viewport()
        expect(sign_out).to_be_in_viewport()
        assert_fits(page)
        look_at(page, "topbar-menu-open")
        assert_accessible(page, "the open top-bar menu")
        page.keyboard.press("Escape")
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(menu).to_be_focused()
        menu.click()
        sign_out.click()
        expect(page).to_have_url(re.compile(r"/login"))
    finally:
        context.close()


def test_without_javascript_the_narrow_top_bar_wraps_and_sign_out_is_in_view(browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport=NARROW, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, server)
        expect(page).to_have_url(re.compile(r"/clients$"))
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        for link in ("Clients", "Partners", "Offices", "Billing", "Recent changes"):
            expect(page.get_by_role("navigation", name="Main").get_by_role("link", name=link)).to_be_in_viewport()
        expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
        assert_fits(page)
        look_at(page, "topbar-no-js")
    finally:
        context.close()


def test_a_wide_table_scrolls_inside_a_focusable_labelled_region(browser: Browser, server: Server, data: Data) -> None:
    context = browser.new_context(viewport=NARROW)
    page = context.new_page()
    try:
        sign_in(page, server)
        expect(page).to_have_url(re.compile(r"/clients$"))
        region = page.get_by_role("region", name="Clients")
        expect(region).to_have_attribute("tabindex", "0")
        assert region.evaluate("el => el.scrollWidth > el.clientWidth"), "the table should be wider than 390 px"
        last = page.locator("#clients thead th").last
        expect(last).not_to_be_in_viewport()
        region.focus()
        for _ in range(40):  # the arrow keys scroll a focused region, 40 px a press
            page.keyboard.press("ArrowRight")
        expect(last).to_be_in_viewport()
        assert_fits(page)
    finally:
        context.close()


def test_narrow_status_and_more_menus_open_inside_the_window(browser: Browser, server: Server, data: Data) -> None:
    context = browser.new_context(viewport=NARROW)
    page = context.new_page()
    try:
        sign_in(page, server)
        open_client(page, server, data.client)
        for menu, item in (("Edit status", "Suspend…"), ("More", "Edit client")):
            page.get_by_text(menu, exact=True).click()
            link = page.get_by_role("link", name=item)
            expect(link).to_be_visible()
            box = page.locator("details[open] .menu-list").bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= NARROW["width"], (menu, box)
            assert_fits(page)
            look_at(page, f"menu-{menu.lower().replace(' ', '-')}", full_page=False)
            page.keyboard.press("Escape")
    finally:
        context.close()


@pytest.mark.parametrize("width", [360, 600, 800, 1024])
def test_no_sideways_scroll_at_in_between_widths(browser: Browser, server: Server, data: Data, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    try:
        sign_in(page, server)
        expect(page).to_have_url(re.compile(r"/clients$"))
        for name in ("clients", "client", "partners", "billing", "wizard-type", "events"):
            page.goto(server.url + PAGES[name](data))
            assert_fits(page)
    finally:
        context.close()


def test_a_table_swapped_in_without_the_macro_is_wrapped_in_a_named_region(
    browser: Browser, server: Server, data: Data
) -> None:
    """The safety net in tenure.js for a table a new template or fragment left bare."""
    context = browser.new_context(viewport=NARROW)
    page = context.new_page()
    try:
        sign_in(page, server)
        expect(page).to_have_url(re.compile(r"/clients$"))
        page.evaluate(
            """() => {
              const main = document.querySelector("main");
              main.insertAdjacentHTML("beforeend",
                '<div class="card flush"><table class="data" id="bare"><caption class="sr-only">Deliveries</caption>' +
                '<thead><tr>' + '<th scope="col">A rather long column heading</th>'.repeat(6) +
                '</tr></thead></table></div>');
              main.dispatchEvent(new CustomEvent("htmx:afterSwap", {bubbles: true, detail: {target: main}}));
            }"""
        )
        region = page.get_by_role("region", name="Deliveries")
        expect(region).to_have_attribute("tabindex", "0")
        expect(region.locator("table#bare")).to_have_count(1)
        assert_fits(page)
        assert_accessible(page, "a bare table wrapped by tenure.js")
    finally:
        context.close()
