"""Console defects found by staff (issue 14, items 6 and 11-19), each driven as a person would."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tenure.adapters.phone import E164Numbers
from tenure.domain.access import Role
from tenure.domain.catalog import LineKind
from tenure.domain.model import ActivateMode, Kind
from tenure.services import auth, lines, offices
from tests.e2e.browser.conftest import PASSWORD, Server, sign_in, start_server, wait_until
from tests.e2e.browser.test_console import choose_status_action, create, open_client, server_today

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with start_server(tmp_path_factory.mktemp("defects"), policy="connect") as running:
        yield running


def test_activate_offers_a_date_beside_now(page: Page, server: Server) -> None:
    kilo = create(server, "Kilo Print", activate=ActivateMode.MANUAL)
    day = server_today(server) + timedelta(days=10)
    sign_in(page, server)
    open_client(page, server, kilo)
    choose_status_action(page, "Activate")
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("On a date").check()
    dialog.get_by_label("Activation date").fill(day.isoformat())
    dialog.get_by_role("button", name="Activate").click()
    shown = f"{day.day} {day.strftime('%b %Y')}"
    expect(page.locator(".flash")).to_have_text(f"Kilo Print will be activated on {shown}")
    expect(page.locator(".status-line .badge")).to_contain_text("Scheduled")


def test_wizard_keeps_the_chosen_office_after_an_error(page: Page, server: Server) -> None:
    offices.create_office(server.uow(), caller=server.admin, name="1.01", floor="1", capacity=4, now=server.now)
    sign_in(page, server)
    page.get_by_role("link", name="New client").click()
    page.get_by_label("Client name").fill("Lima Labs")
    page.get_by_label("Email").fill("ops@lima.example")
    page.get_by_role("button", name="Save and continue").click()
    office = page.get_by_role("checkbox", name=re.compile(r"1\.01"))
    floor = page.locator("label.choice", has_text="1.01").locator(".muted")
    expect(floor).to_have_text("· floor\xa01")
    assert floor.evaluate("e => getComputedStyle(e).marginLeft") != "0px"  # "1.01 · floor 1", not "1.01· floor 1"
    office.check()
    today = server_today(server)
    page.get_by_label("Start date").fill(today.isoformat())
    page.get_by_label("End date").fill((today - timedelta(days=3)).isoformat())
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("alert").first).to_contain_text("End date must not be before start date")
    expect(page.get_by_role("checkbox", name=re.compile(r"1\.01"))).to_be_checked()
    expect(page.get_by_role("alert").first).to_be_focused()  # focus moves to the error summary


def test_edit_client_keeps_the_fixed_start_date_and_uses_labels(page: Page, server: Server) -> None:
    start = server_today(server) - timedelta(days=30)
    mike = create(server, "Mike Motors", start_date=start)
    sign_in(page, server)
    page.goto(f"{server.url}/clients/{mike.id}/edit")
    page.get_by_label("Client name").fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the client's name.")
    expect(page.get_by_role("alert")).to_be_focused()
    expect(page.get_by_label("Start date")).to_be_disabled()
    expect(page.get_by_label("Start date")).to_have_value(start.isoformat())

    page.get_by_label("Client name").fill("Mike Motors")
    page.get_by_label("Billing ref").fill("bad ref!")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main")).to_contain_text("Billing reference must be 1-32 characters")
    expect(page.locator("main")).not_to_contain_text("Billing_ref")


def test_an_impossible_date_is_refused_at_the_field(page: Page, server: Server) -> None:
    november = create(server, "November Nets", activate=ActivateMode.MANUAL)
    sign_in(page, server)
    page.goto(f"{server.url}/clients/{november.id}/edit")
    end = page.get_by_label("End date")
    end.click()
    page.keyboard.type("02302031")  # mm/dd/yyyy in Chromium's en-US field: 30 February 2031
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_have_count(0)  # not "saved"
    assert end.evaluate("e => e.validity.badInput || !e.validity.valid")
    assert end.evaluate("e => e.validationMessage").startswith("Enter a real date")
    expect(page).to_have_url(re.compile(r"/edit$"))


def test_decommission_confirmation_must_match_the_name_exactly(page: Page, server: Server) -> None:
    oscar = create(server, "Oscar Valley Engineering")
    sign_in(page, server)
    open_client(page, server, oscar)
    choose_status_action(page, "Decommission")
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Type the client's name").fill("oscar valley engineering")
    dialog.get_by_role("button", name="Decommission").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Type the client's name, Oscar Valley Engineering")
    expect(page.locator(".status-line .badge")).to_have_text("Active")


def test_a_viewer_opening_a_status_form_is_told_it_is_the_role(page: Page, server: Server) -> None:
    papa = create(server, "Papa Foods")
    auth.create_user(
        server.uow(),
        caller=server.admin,
        email="viewer2@meridian.example",
        password=PASSWORD,
        account_id=server.operator_id,
        role=Role.VIEWER,
        now=server.now,
    )
    sign_in(page, server, "viewer2@meridian.example")
    response = page.goto(f"{server.url}/clients/{papa.id}/status/suspend")
    assert response is not None and response.status == 403
    expect(page.locator("main")).to_contain_text("Your role can read but not change")
    expect(page.locator("form select[name=reason]")).to_have_count(0)


def test_focus_returns_to_the_opener_after_keep_as_it_is_and_after_an_action(page: Page, server: Server) -> None:
    quebec = create(server, "Quebec Quarries")
    sign_in(page, server)
    page.goto(f"{server.url}/clients/{quebec.id}")
    summary = page.locator("#status-menu summary")
    summary.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    opener = page.get_by_role("link", name="Suspend…")
    expect(opener).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(summary).to_be_focused()  # the menu's button: the item itself is hidden in the closed menu

    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Reason").select_option("requested")
    dialog.get_by_role("button", name="Suspend").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("Quebec Quarries suspended")
    wait_until(page, "document.activeElement !== document.body")  # the flash or the menu button
    assert page.evaluate("document.activeElement.matches('.flash, summary')")


def test_small_things(page: Page, server: Server) -> None:
    romeo = create(server, "Romeo Radio")
    lines.add_service(
        server.uow(),
        numbers=E164Numbers(),
        caller=server.admin,
        account_id=romeo.id,
        kind=LineKind.WIFI,
        label="Guest",
        monthly_price="5.00",
        start_date=None,
        now=server.now,
    )
    sign_in(page, server)
    # The suspend reason is a required choice, not preselected.
    open_client(page, server, romeo)
    choose_status_action(page, "Suspend")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Reason")).to_have_value("")
    dialog.get_by_role("button", name="Suspend").click()
    expect(page.locator(".status-line .badge")).to_have_text("Active")
    page.keyboard.press("Escape")
    # Billing says Wi-Fi as everywhere else.
    page.goto(f"{server.url}/billing")
    expect(page.locator("main")).to_contain_text("Wi-Fi")
    expect(page.locator("main")).not_to_contain_text("Wifi")
    # The first chip counts what the list shows, and says so.
    page.goto(f"{server.url}/clients")
    expect(page.locator(".counts li").first).to_contain_text("All current")
    # A disabled button looks disabled.
    create(server, "Sierra Channel", Kind.CHANNEL)
    page.goto(f"{server.url}/partners")
    disabled = page.locator("button[disabled]").first
    expect(disabled).to_be_visible()
    assert float(disabled.evaluate("e => getComputedStyle(e).opacity")) < 1
