"""A client's page does Connect's Edit Client work (issue 14, items 1, 2 and 5), driven as a person would.

Offices: assign a free one found by searching, change it, release it; the Offices
page links each room to its holder and lets an operator admin create and edit rooms.
Services: add one (errors beside the field, in words), remove one after a
confirmation that says billing stops after today. Charges: this month and last
month with days and amounts, and the client's own CSV.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tenure.adapters.phone import E164Numbers
from tenure.domain.access import Role
from tenure.domain.catalog import LineKind
from tenure.domain.model import ClientType
from tenure.services import accounts, auth, lines, offices
from tests.e2e.browser.conftest import PASSWORD, SCREENSHOTS, Server, sign_in, start_server, wait_until
from tests.e2e.browser.test_console import create, open_client, server_today

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
VIEWER = "viewer@meridian.example"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with start_server(tmp_path_factory.mktemp("client-page"), policy="connect") as running:
        auth.create_user(
            running.uow(),
            caller=running.admin,
            email=VIEWER,
            password=PASSWORD,
            account_id=running.operator_id,
            role=Role.VIEWER,
            now=running.now,
        )
        yield running


def room(server: Server, name: str, capacity: int = 4) -> str:
    office = offices.create_office(
        server.uow(), caller=server.admin, name=name, floor=name.split(".")[0], capacity=capacity, now=server.now
    )
    return office.id


def service(server: Server, account_id: str, kind: LineKind, label: str, price: str, start: date) -> None:
    lines.add_service(
        server.uow(),
        numbers=E164Numbers(),
        caller=server.admin,
        account_id=account_id,
        kind=kind,
        label=label,
        monthly_price=price,
        start_date=start,
        now=server.now,
    )


def dialog_button(page: Page, name: str) -> None:
    page.get_by_role("dialog").get_by_role("button", name=name).click()


def test_offices_are_assigned_changed_and_released_on_the_client_page(page: Page, server: Server) -> None:
    for name in ("2.14", "2.15", "3.01"):
        room(server, name)
    taken = room(server, "2.16")
    neighbour = create(server, "Neighbour Ltd")
    offices.assign_office(
        server.uow(),
        caller=server.admin,
        account_id=neighbour.id,
        office_id=taken,
        expected_version=None,
        now=server.now,
    )
    quill = create(server, "Quill Studio", client_type=ClientType.VIRTUAL)
    accounts.convert(  # "a client converted to residential shows Offices: None"
        server.uow(),
        caller=server.admin,
        account_id=quill.id,
        to=ClientType.RESIDENTIAL,
        expected_version=None,
        now=server.now,
    )
    sign_in(page, server)
    open_client(page, server, quill)
    card = page.locator("#client-offices")
    expect(card).to_contain_text("No offices.")

    opener = card.get_by_role("link", name="Assign an office…")
    opener.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Assign an office to Quill Studio")
    search = dialog.get_by_label("Search free offices")
    expect(search).to_be_focused()
    page.keyboard.type("2.1")  # only free rooms, narrowed as one types
    choices = dialog.locator("#office-choices")
    expect(choices.get_by_role("radio")).to_have_count(2)
    expect(choices).to_contain_text("2.14")
    expect(choices).to_contain_text("2.15")
    expect(choices).not_to_contain_text("2.16")  # held by Neighbour Ltd
    expect(choices).not_to_contain_text("3.01")
    expect(search).to_be_focused()  # typing goes on where it was
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "client-assign-office.png"))

    dialog_button(page, "Assign office")  # nothing chosen
    expect(dialog.get_by_role("alert")).to_contain_text("Choose a free office.")
    expect(dialog.get_by_role("alert")).to_be_focused()
    expect(dialog.get_by_label("Search free offices")).to_have_value("2.1")  # the search is kept

    dialog.get_by_role("radio", name=re.compile(r"^2\.14")).focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Assign office")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_have_text("Office 2.14 assigned to Quill Studio")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.locator(".summary")).to_contain_text("2.14")
    expect(card.locator("#held-offices")).to_contain_text("2.14")

    card.get_by_role("link", name="Change office 2.14").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Change office 2.14 of Quill Studio")
    dialog.get_by_role("radio", name=re.compile(r"^3\.01")).check()  # chosen before the search narrows
    dialog.get_by_label("Search free offices").fill("3.0")
    expect(dialog.get_by_role("radio")).to_have_count(1)
    expect(dialog.get_by_role("radio", name=re.compile(r"^3\.01"))).to_be_checked()  # still chosen
    dialog_button(page, "Change office")
    expect(page.locator(".flash")).to_have_text("Quill Studio moved to office 3.01")
    expect(card.locator("#held-offices")).not_to_contain_text("2.14")
    expect(page.locator("#audit tbody tr").nth(0)).to_contain_text("Office assigned")
    expect(page.locator("#audit tbody tr").nth(1)).to_contain_text("Office released")

    card.get_by_role("link", name="Release office 3.01").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Release office 3.01 from Quill Studio?")
    dialog_button(page, "Keep as it is")
    expect(dialog).to_be_hidden()
    expect(card.get_by_role("link", name="Release office 3.01")).to_be_focused()  # back where it opened
    page.keyboard.press("Enter")
    dialog_button(page, "Release office")
    expect(page.locator(".flash")).to_have_text("Office 3.01 released from Quill Studio")
    expect(card).to_contain_text("No offices.")
    expect(page.locator(".summary")).to_contain_text("None")

    page.get_by_text("More", exact=True).click()  # Edit client points to where offices change
    page.get_by_role("link", name="Edit client").click()
    page.get_by_role("link", name="Assign, change or release offices on the client page").click()
    expect(page.locator("#client-offices").get_by_role("link", name="Assign an office…")).to_be_visible()


def test_the_offices_page_links_holders_and_lets_the_operator_admin_create_and_edit(page: Page, server: Server) -> None:
    held = room(server, "5.01")
    tenant = create(server, "Umber Holdings")
    offices.assign_office(
        server.uow(), caller=server.admin, account_id=tenant.id, office_id=held, expected_version=None, now=server.now
    )
    sign_in(page, server)
    page.goto(server.url + "/offices")
    row = page.locator("#offices tbody tr", has_text="5.01")
    row.get_by_role("link", name="Umber Holdings").click()
    expect(page.locator("h1")).to_contain_text("Umber Holdings")

    page.goto(server.url + "/offices")
    page.get_by_role("link", name="New office…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Name")).to_be_focused()
    dialog.get_by_label("Name").fill("5.01")  # taken
    dialog.get_by_label("Floor").fill("5")
    dialog.get_by_label("Capacity").fill("lots")
    dialog_button(page, "Create office")
    expect(dialog.locator("#capacity-error")).to_contain_text("Enter the number of people")
    expect(dialog.get_by_label("Floor")).to_have_value("5")  # kept
    dialog.get_by_label("Capacity").fill("6")
    dialog_button(page, "Create office")
    expect(dialog.locator("#name-error")).to_have_text("There is already an office named 5.01.")
    expect(dialog.get_by_role("alert")).to_be_focused()
    dialog.get_by_label("Name").fill("5.02")
    dialog_button(page, "Create office")
    expect(page.locator(".flash")).to_have_text("Office 5.02 created")
    new_row = page.locator("#offices tbody tr", has_text="5.02")
    expect(new_row).to_contain_text("6")
    expect(new_row.locator(".badge")).to_have_text("Free")

    new_row.get_by_role("link", name="Edit office 5.02").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Name")).to_have_value("5.02")
    dialog.get_by_label("Name").fill("5.02 East")
    dialog.get_by_label("Capacity").fill("8")
    dialog_button(page, "Save")
    expect(page.locator(".flash")).to_have_text("Office 5.02 East saved")
    expect(page.locator("#offices tbody tr", has_text="5.02 East")).to_contain_text("8")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "offices-admin.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # on a phone the table scrolls inside its card
    table = page.get_by_role("region", name="Offices", exact=True)
    assert table.evaluate("e => getComputedStyle(e).overflowX === 'auto' && e.scrollWidth > e.clientWidth")
    table.focus()
    page.keyboard.press("ArrowRight")  # the keyboard scrolls it too
    wait_until(page, "document.activeElement.scrollLeft > 0")
    page.screenshot(path=str(SCREENSHOTS / "offices-admin-390.png"), full_page=True)


def test_services_are_added_with_errors_beside_the_field_and_removed_with_a_confirmation(
    page: Page, server: Server
) -> None:
    other = create(server, "Vesper Calls")
    service(server, other.id, LineKind.PHONE_NUMBER, "+44 20 7946 0101", "10.00", server_today(server))
    rook = create(server, "Rook Telecom")
    day = server_today(server)
    sign_in(page, server)
    open_client(page, server, rook)
    adder = page.get_by_role("link", name="Add a service…")
    adder.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Kind")).to_be_focused()
    expect(dialog.get_by_label("Start date")).to_have_value(day.isoformat())

    dialog.get_by_label("Kind").select_option(label="Phone number")
    dialog.get_by_label("Number or label").fill("020 7946 0102")  # not international
    dialog.get_by_label("Monthly price").fill("12.5")
    dialog_button(page, "Add service")
    number_error = dialog.locator("#label-error")
    expect(number_error).to_contain_text("is not a phone number")
    expect(number_error).to_contain_text("with + and the country code")
    expect(dialog.get_by_label("Number or label")).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_role("alert")).to_be_focused()
    expect(dialog.get_by_label("Number or label")).to_have_value("020 7946 0102")  # kept
    expect(dialog.get_by_label("Monthly price")).to_have_value("12.5")

    dialog.get_by_label("Number or label").fill("+44 20 7946 0101")  # Vesper Calls holds it
    dialog_button(page, "Add service")
    expect(dialog.locator("#label-error")).to_contain_text("+442079460101 is already held by a client")

    dialog.get_by_label("Number or label").fill("+44 20 7946 0102")
    dialog.get_by_label("Monthly price").fill("twelve")
    dialog_button(page, "Add service")
    price_error = dialog.locator("#monthly_price-error")
    expect(price_error).to_contain_text("Monthly price must be a decimal string")
    expect(dialog).not_to_contain_text("monthly_price")  # the label, never the field's name

    dialog.get_by_label("Monthly price").fill("12.50")
    dialog_button(page, "Add service")
    expect(page.locator(".flash")).to_have_text("Phone number +442079460102 added")
    table = page.locator("#services")
    expect(table).to_contain_text("+442079460102")
    expect(table).to_contain_text("12.50")

    page.get_by_role("link", name="Add a service…").click()  # a second one, by the keyboard only
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Kind")).to_be_focused()
    dialog.get_by_label("Kind").select_option(label="Wi-Fi")
    page.keyboard.press("Tab")
    page.keyboard.type("Guest network")
    page.keyboard.press("Tab")
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_have_text("Wi-Fi Guest network added")

    remove = table.get_by_role("link", name="Remove Phone number +442079460102")
    remove.click()
    dialog = page.get_by_role("dialog")
    shown = f"{day.day} {day.strftime('%b %Y')}"
    expect(dialog.locator("#billing-stops")).to_contain_text(f"billing stops after today, {shown}")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(remove).to_be_focused()
    remove.click()
    dialog_button(page, "Remove service")
    expect(page.locator(".flash")).to_have_text("Phone number +442079460102 removed: billed through today")
    expect(table).not_to_contain_text("+442079460102")
    expect(table).to_contain_text("Guest network")
    expect(page.locator("#audit tbody tr").first).to_contain_text("Service removed")

    page.set_viewport_size({"width": 390, "height": 844})  # the dialog fits a phone
    page.get_by_role("link", name="Add a service…").click()
    box = page.get_by_role("dialog").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "client-add-service-390.png"))


def test_charges_for_this_month_and_last_month_with_the_clients_csv(page: Page, server: Server) -> None:
    day = server_today(server)
    this_first = day.replace(day=1)
    last_first = (this_first - timedelta(days=1)).replace(day=1)
    days_last = (this_first - last_first).days
    days_this = ((this_first + timedelta(days=32)).replace(day=1) - this_first).days
    sable = create(server, "Sable Partners", start_date=last_first - timedelta(days=10))
    service(server, sable.id, LineKind.PHONE_NUMBER, "+44 20 7946 0201", "30.00", last_first)
    service(server, sable.id, LineKind.INTERNET, "Fibre 1 Gbit/s", "45.00", this_first)
    other = create(server, "Teal Other", start_date=last_first)
    service(server, other.id, LineKind.OTHER, "Locker", "9.00", last_first)

    sign_in(page, server)
    open_client(page, server, sable)
    card = page.locator("#client-charges")
    this_month, last_month = (f"{d:%Y-%m}" for d in (this_first, last_first))
    expect(card.get_by_role("heading", name=f"This month: {this_first:%B %Y}")).to_be_visible()
    expect(card.get_by_role("heading", name=f"Last month: {last_first:%B %Y}")).to_be_visible()
    expect(card.locator(f"table[data-month='{this_month}'] tbody tr td")).to_have_text(
        [
            "Phone number",
            "+442079460201",
            str(days_this),
            "30.00",
            "Internet",
            "Fibre 1 Gbit/s",
            str(days_this),
            "45.00",
        ]
    )
    expect(card.locator(f"table[data-month='{this_month}'] tfoot td")).to_have_text("75.00")
    expect(card.locator(f"table[data-month='{last_month}'] tbody tr td")).to_have_text(
        ["Phone number", "+442079460201", str(days_last), "30.00"]
    )
    expect(card.locator(f"table[data-month='{last_month}'] tfoot td")).to_have_text("30.00")
    expect(card).not_to_contain_text("Locker")  # another client's

    with page.expect_download() as download:
        card.get_by_role("link", name=f"Download CSV of charges for {last_first:%B %Y}").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert rows[0] == ["billing_ref", "client", "service", "label", "month", "days", "amount"]
    assert [r[1:] for r in rows[1:]] == [
        ["Sable Partners", "phone_number", "+442079460201", last_month, str(days_last), "30.00"]
    ]
    page.screenshot(path=str(SCREENSHOTS / "client-charges.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "client-charges-390.png"), full_page=True)


def test_a_viewer_reads_offices_services_and_charges_but_changes_nothing(page: Page, server: Server) -> None:
    office_id = room(server, "6.01")
    wren = create(server, "Wren Viewing")
    offices.assign_office(
        server.uow(),
        caller=server.admin,
        account_id=wren.id,
        office_id=office_id,
        expected_version=None,
        now=server.now,
    )
    service(server, wren.id, LineKind.LOCAL_NETWORK, "VLAN 12", "3.00", server_today(server))
    sign_in(page, server, VIEWER)
    open_client(page, server, wren)
    expect(page.locator("#held-offices")).to_contain_text("6.01")
    expect(page.locator("#services")).to_contain_text("VLAN 12")
    expect(page.locator("#client-charges")).to_contain_text("VLAN 12")
    for control in ("Assign an office…", "Add a service…", "Release office 6.01", "Change office 6.01"):
        expect(page.get_by_role("link", name=control)).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("^Remove "))).to_have_count(0)
    for path in (f"/clients/{wren.id}/offices/assign", f"/clients/{wren.id}/services/new"):
        response = page.goto(server.url + path)
        assert response is not None and response.status == 403
        expect(page.locator("main")).to_contain_text("Your role can read but not change")
        expect(page.locator("main form")).to_have_count(0)
    page.goto(server.url + "/offices")
    expect(page.get_by_role("link", name="New office…")).to_have_count(0)
    response = page.goto(server.url + "/offices/new")
    assert response is not None and response.status == 403
