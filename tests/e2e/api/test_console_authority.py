"""The console offers only what the user may do (issue 10), over HTTP on both databases.

Unsuspend one hold at a time and only the holds the user may lift; no
lifecycle action on the user's own account; "View as client" shows what a
client's own users see (no staff note, no staff email); a partner whose
scheduled decommission is stuck says so on its page and in /metrics.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from tenure.domain.access import Role
from tenure.domain.model import HoldReason
from tenure.services import accounts as svc
from tests.e2e.api.conftest import TestClient, World, app_for
from tests.support import ADMIN_EMAIL, PASSWORD

NORTHWIND_ADMIN = "admin@northwind.example"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def browser_for(world: World) -> Iterator[dict[str, TestClient]]:
    """A signed-in console session per email, opened on first use."""
    sessions: dict[str, TestClient] = {}
    yield sessions
    for session in sessions.values():
        session.close()


def signed_in(world: World, sessions: dict[str, TestClient], email: str) -> TestClient:
    if email not in sessions:
        client = TestClient(app_for(world.site))
        client.__enter__()
        token = _csrf(client.get("/login").text)
        answer = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
        assert answer.status_code == 200 and "/login" not in str(answer.url), answer.text
        sessions[email] = client
    return sessions[email]


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found, html
    return found.group(1)


def test_unsuspend_offers_only_the_holds_the_user_may_lift(world: World, browser_for: dict[str, TestClient]) -> None:
    client = world.own_client
    world.site.suspend(client.id, HoldReason.FRAUD)  # the operator's
    northwind = world.site.user(world.own_reseller.id, Role.ADMIN, "second@northwind.example")
    svc.suspend(
        world.site.uow(),
        caller=northwind,
        account_id=client.id,
        reason=HoldReason.NON_PAYMENT,
        note="",
        expected_version=None,
        now=world.site.now,
    )
    console = signed_in(world, browser_for, NORTHWIND_ADMIN)
    form = console.get(f"/clients/{client.id}/status/unsuspend")
    assert form.status_code == 200, form.text
    offered = re.findall(r'name="reason" value="([a-z_]+)"', form.text)
    assert offered == ["non_payment"]
    assert "The fraud hold was placed by Meridian" in form.text

    lifted = console.post(
        f"/clients/{client.id}/status/unsuspend",
        data={"reason": "non_payment", "csrf_token": _csrf(form.text), "return_to": ""},
    )
    assert lifted.status_code == 200, lifted.text
    assert [h.reason for h in world.site.get(client.id).holds] == [HoldReason.FRAUD]

    page = console.get(f"/clients/{client.id}")
    assert f"/clients/{client.id}/status/unsuspend" not in page.text  # nothing left it may lift
    refused = console.post(
        f"/clients/{client.id}/status/unsuspend",
        data={"reason": "fraud", "csrf_token": _csrf(page.text), "return_to": ""},
    )
    assert refused.status_code == 422 and "placed by Meridian" in refused.text, refused.text
    assert [h.reason for h in world.site.get(client.id).holds] == [HoldReason.FRAUD]


def test_the_operator_lifts_one_hold_at_a_time(world: World, browser_for: dict[str, TestClient]) -> None:
    client = world.own_client
    world.site.suspend(client.id, HoldReason.FRAUD)
    world.site.suspend(client.id, HoldReason.OTHER)
    console = signed_in(world, browser_for, ADMIN_EMAIL)
    form = console.get(f"/clients/{client.id}/status/unsuspend")
    assert re.findall(r'name="reason" value="([a-z_]+)"', form.text) == ["fraud", "other"]
    console.post(
        f"/clients/{client.id}/status/unsuspend",
        data={"reason": "other", "csrf_token": _csrf(form.text), "return_to": ""},
    )
    assert [h.reason for h in world.site.get(client.id).holds] == [HoldReason.FRAUD]


def test_no_lifecycle_action_is_offered_on_the_users_own_account(
    world: World, browser_for: dict[str, TestClient]
) -> None:
    world.site.suspend(world.own_reseller.id, HoldReason.NON_PAYMENT)
    console = signed_in(world, browser_for, NORTHWIND_ADMIN)
    own = console.get(f"/clients/{world.own_reseller.id}")
    assert own.status_code == 200
    assert "/status/" not in own.text
    assert 'id="own-account"' in own.text
    assert f"/clients/{world.own_reseller.id}/edit" in own.text  # its details stay editable
    below = console.get(f"/clients/{world.own_channel.id}")
    assert f"/clients/{world.own_channel.id}/status/suspend" in below.text
    form = console.get(f"/clients/{world.own_reseller.id}/status/unsuspend")
    assert form.status_code == 403 and "own account" in form.text, form.text
    partners = console.get("/partners")
    assert f"/clients/{world.own_reseller.id}/status/" not in partners.text


def test_view_as_client_shows_no_staff_note_nor_staff_email(world: World, browser_for: dict[str, TestClient]) -> None:
    client = world.own_client
    svc.suspend(
        world.site.uow(),
        caller=world.site.admin,
        account_id=client.id,
        reason=HoldReason.FRAUD,
        note="Chargeback on card payment",
        expected_version=None,
        now=world.site.now,
    )
    console = signed_in(world, browser_for, NORTHWIND_ADMIN)
    staff = console.get(f"/clients/{client.id}")
    assert "Chargeback on card payment" in staff.text and ADMIN_EMAIL in staff.text
    as_client = console.get(f"/clients/{client.id}/as-client")
    assert as_client.status_code == 200
    assert "Fraud" in as_client.text
    assert "Chargeback" not in as_client.text
    assert ADMIN_EMAIL not in as_client.text

    portal = signed_in(world, browser_for, "portal@acme.example")
    own = portal.get(f"/clients/{client.id}")
    assert own.status_code == 200 and "Chargeback" not in own.text and ADMIN_EMAIL not in own.text
    trail = portal.get("/events")
    assert "Chargeback" not in trail.text and ADMIN_EMAIL not in trail.text


def test_a_stuck_decommission_shows_on_the_partners_page_and_in_metrics(
    world: World, browser_for: dict[str, TestClient]
) -> None:
    """A child whose own decommission was cancelled blocks its channel's, which the worker refuses forever."""
    site = world.site
    channel = site.channel(world.own_reseller.id, "Closing Sales")
    child = site.client(channel.id, "Last Co")
    day = site.now.date() + timedelta(days=3)
    site.decommission(child.id, on=day)
    site.decommission(channel.id, on=day)
    console = signed_in(world, browser_for, ADMIN_EMAIL)
    assert 'id="decommission-stuck"' not in console.get(f"/clients/{channel.id}").text
    assert _gauge(console) == 0

    cancel = console.get(f"/clients/{child.id}/status/cancel-decommission")
    console.post(
        f"/clients/{child.id}/status/cancel-decommission",
        data={"csrf_token": _csrf(cancel.text), "return_to": ""},
    )
    page = console.get(f"/clients/{channel.id}").text
    assert 'id="decommission-stuck"' in page and "1 child account" in page
    assert _gauge(console) == 0  # blocked, but not due yet

    site.clock.set(site.now + timedelta(days=4))
    assert site.now.date() > day
    assert _gauge(console) == 1
    assert "on every pass" in console.get(f"/clients/{channel.id}").text


def _gauge(console: TestClient) -> float:
    text = console.get("/metrics").text
    found = re.search(r"^tenure_stuck_decommissions (\S+)$", text, re.MULTILINE)
    assert found, text[-2000:]
    return float(found.group(1))


def test_a_taken_billing_ref_is_marked_on_its_field_in_the_wizard(
    world: World, browser_for: dict[str, TestClient]
) -> None:
    """`BillingRefTaken.field` tells the form which field to mark (no console code names the error's slug)."""
    taken = world.site.client(name="First Ltd", billing_ref="TAKEN-1")
    console = signed_in(world, browser_for, ADMIN_EMAIL)
    token = _csrf(console.get("/clients/new").text)
    form = {"name": "Second Ltd", "billing_ref": "", "contact_email": "s@example.com", "csrf_token": token}
    started = console.post("/clients/new", data=form)
    draft_id = started.url.path.split("/")[2]
    answer = console.post(
        f"/clients/{draft_id}/setup/details",
        data={**form, "billing_ref": taken.billing_ref, "contact_name": "S"},
    )
    assert answer.status_code == 422
    assert 'id="billing_ref-error"' in answer.text
