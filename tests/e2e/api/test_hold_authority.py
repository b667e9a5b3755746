"""Authority over holds (issue 10, lifecycle.md §3 "Who may act"), over HTTP on both databases.

The world (tests/e2e/api/conftest.py): Meridian (operator) > Northwind (reseller) >
North Sales (channel) > Acme Ltd (client), and the Southwind tree beside it.
Nobody changes the lifecycle of their own account; each hold records the
account that placed it, and only that account or one above it lifts it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tenure.domain.access import Role
from tenure.domain.model import Account
from tests.e2e.api.conftest import World, token_for

NORTH_SALES_ADMIN = "admin@northsales.example"


def north_sales_admin(world: World) -> str:
    world.site.user(world.own_channel.id, Role.ADMIN, NORTH_SALES_ADMIN)
    return token_for(world.site, NORTH_SALES_ADMIN)


def holds(world: World, account_id: str, token: str | None = None) -> list[dict[str, Any]]:
    response = world.get(f"/accounts/{account_id}", token)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["holds"]
    return found


def suspend(world: World, account: Account, reason: str, token: str | None = None, note: str = "") -> None:
    response = world.post(f"/accounts/{account.id}/suspend", token, json={"reason": reason, "note": note})
    assert response.status_code == 200, response.text


def assert_forbidden(response: Any, *names: str) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "forbidden"
    for name in names:
        assert name in problem["detail"], problem["detail"]


# -- the reproduction of issue 10 ---------------------------------------------------


def test_a_channel_admin_cannot_lift_the_operators_fraud_hold_on_its_own_channel(world: World) -> None:
    """Operator suspends channel North Sales for fraud; North Sales' admin unsuspends: 403 (was 200)."""
    token = north_sales_admin(world)
    north = world.own_channel
    suspend(world, north, "fraud", note="Chargebacks")
    events_before = world.event_count(north.id)

    response = world.post(f"/accounts/{north.id}/unsuspend", token)

    assert_forbidden(response)
    assert world.event_count(north.id) == events_before
    assert [h["reason"] for h in holds(world, north.id)] == ["fraud"]
    assert world.get(f"/accounts/{world.own_client.id}").json()["status"] == "suspended"


def test_a_resellers_admin_cannot_lift_the_operators_hold_on_its_channel_nor_its_own(world: World) -> None:
    """Northwind is above North Sales but below Meridian, which placed the hold: the 403 names Meridian."""
    north = world.own_channel
    suspend(world, north, "fraud")
    response = world.post(f"/accounts/{north.id}/unsuspend", world.reseller_admin, json={"reason": "fraud"})
    assert_forbidden(response, "fraud", "Meridian")
    assert response.json()["holds"] == [
        {"reason": "fraud", "placed_by_account": {"id": world.site.operator_id, "name": "Meridian"}}
    ]

    suspend(world, world.own_reseller, "non_payment")
    response = world.post(f"/accounts/{world.own_reseller.id}/unsuspend", world.reseller_admin)
    assert_forbidden(response, "own account")
    assert [h["reason"] for h in holds(world, world.own_reseller.id)] == ["non_payment"]


# -- each hold records who placed it ---------------------------------------------------


def test_each_hold_names_the_account_that_placed_it(world: World) -> None:
    client = world.own_client
    suspend(world, client, "fraud")
    suspend(world, client, "non_payment", world.reseller_admin)
    placed = {h["reason"]: h["placed_by_account"] for h in holds(world, client.id)}
    assert placed == {
        "fraud": {"id": world.site.operator_id, "name": "Meridian"},
        "non_payment": {"id": world.own_reseller.id, "name": "Northwind"},
    }
    by = {h["reason"]: h["placed_by"] for h in holds(world, client.id)}
    assert by == {"fraud": "admin@operator.example", "non_payment": "admin@northwind.example"}


def test_a_hold_is_lifted_from_the_placers_account_or_above_it(world: World) -> None:
    """Northwind's hold on Acme: North Sales (below Northwind) may not lift it, Northwind and Meridian may."""
    token = north_sales_admin(world)
    client = world.own_client
    suspend(world, client, "non_payment", world.reseller_admin)

    refused = world.post(f"/accounts/{client.id}/unsuspend", token, json={"reason": "non_payment"})
    assert_forbidden(refused, "non-payment", "Northwind")

    lifted = world.post(f"/accounts/{client.id}/unsuspend", world.reseller_admin, json={"reason": "non_payment"})
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["status"] == "active"

    suspend(world, client, "requested", token)
    by_operator = world.post(f"/accounts/{client.id}/unsuspend", json={"reason": "requested"})
    assert by_operator.status_code == 200, by_operator.text


def test_unsuspend_without_a_reason_lifts_only_what_the_caller_may_lift(world: World) -> None:
    client = world.own_client
    suspend(world, client, "fraud")  # the operator's
    suspend(world, client, "non_payment", world.reseller_admin)  # Northwind's

    first = world.post(f"/accounts/{client.id}/unsuspend", world.reseller_admin)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "suspended"
    assert [h["reason"] for h in first.json()["holds"]] == ["fraud"]

    events_before = world.event_count(client.id)
    second = world.post(f"/accounts/{client.id}/unsuspend", world.reseller_admin)
    assert_forbidden(second, "fraud", "Meridian")
    assert world.event_count(client.id) == events_before

    by_operator = world.post(f"/accounts/{client.id}/unsuspend")
    assert by_operator.status_code == 200 and by_operator.json()["status"] == "active", by_operator.text


def test_an_unknown_reason_is_still_not_suspended(world: World) -> None:
    """The rules answer first for a hold that does not exist: 409, not 403."""
    suspend(world, world.own_client, "fraud")
    response = world.post(f"/accounts/{world.own_client.id}/unsuspend", world.reseller_admin, json={"reason": "other"})
    assert response.status_code == 409 and response.json()["code"] == "not-suspended", response.text


# -- nobody changes the lifecycle of their own account ---------------------------------

OWN_ACTIONS = {
    "activate": ("POST", "/activate", {}),
    "suspend": ("POST", "/suspend", {"reason": "requested"}),
    "unsuspend": ("POST", "/unsuspend", {}),
    "decommission now": ("POST", "/decommission", {}),
    "decommission on a date": ("POST", "/decommission", {"on": "2027-06-01"}),
    "cancel a decommission": ("DELETE", "/scheduled-decommission", None),
    "convert": ("POST", "/convert", {"to": "virtual"}),
}


@pytest.mark.parametrize("action", OWN_ACTIONS)
def test_a_partner_admin_changes_nothing_of_its_own_lifecycle(world: World, action: str) -> None:
    method, path, body = OWN_ACTIONS[action]
    reseller = world.own_reseller
    if action == "unsuspend":
        suspend(world, reseller, "requested")
    if action == "cancel a decommission":  # its children go first, then it can be scheduled
        for account in (world.own_client, world.own_channel, reseller):
            scheduled = world.post(f"/accounts/{account.id}/decommission", json={"on": "2027-06-01"})
            assert scheduled.status_code == 200, scheduled.text
    before = world.get(f"/accounts/{reseller.id}").json()
    kwargs = {"json": body} if body is not None else {}
    response = world.call(method, f"/accounts/{reseller.id}{path}", world.reseller_admin, **kwargs)
    assert_forbidden(response, "own account")
    assert world.get(f"/accounts/{reseller.id}").json() == before


def test_the_operators_admins_change_nothing_of_the_operators_lifecycle(world: World) -> None:
    response = world.post(f"/accounts/{world.site.operator_id}/suspend", json={"reason": "other"})
    assert_forbidden(response, "own account")


def test_a_partner_admin_still_edits_its_own_details(world: World) -> None:
    reseller = world.own_reseller
    changes = {"name": "Northwind Telecom", "notes": "our own notes", "main_contact": {"name": "N", "email": "n@x.io"}}
    response = world.call("PATCH", f"/accounts/{reseller.id}", world.reseller_admin, json=changes)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Northwind Telecom"
    assert response.json()["main_contact"] == {"name": "N", "email": "n@x.io"}


def test_the_rule_is_the_account_not_the_kind(world: World) -> None:
    """Northwind's admin may still suspend and lift on the channels and clients below it."""
    response = world.post(f"/accounts/{world.own_channel.id}/suspend", world.reseller_admin, json={"reason": "other"})
    assert response.status_code == 200, response.text
    response = world.post(f"/accounts/{world.own_channel.id}/unsuspend", world.reseller_admin)
    assert response.status_code == 200 and response.json()["status"] == "active", response.text


# -- portal users see what a customer should see ----------------------------------------


def test_a_portal_user_sees_why_and_since_when_but_no_staff_details(world: World) -> None:
    client = world.own_client
    suspend(world, client, "fraud", note="Chargeback on card payment")
    staff = holds(world, client.id)
    assert staff[0]["note"] == "Chargeback on card payment"

    seen = world.get(f"/accounts/{client.id}", world.portal)
    assert seen.status_code == 200
    assert seen.json()["holds"] == [{"id": staff[0]["id"], "reason": "fraud", "placed_at": staff[0]["placed_at"]}]
    assert "Chargeback" not in seen.text and "admin@operator.example" not in seen.text
    listed = world.get("/accounts", world.portal)
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"][0]["holds"] == seen.json()["holds"]  # absent, not null, in lists too
    staff_list = world.get("/accounts", params={"within": client.id})
    assert staff_list.json()["items"][0]["holds"] == staff


def test_a_portal_user_gets_403_on_the_audit_trail(world: World) -> None:
    suspend(world, world.own_client, "fraud", note="Chargeback on card payment")
    response = world.get(f"/accounts/{world.own_client.id}/events", world.portal)
    assert_forbidden(response)
    assert "Chargeback" not in response.text
    assert world.get(f"/accounts/{world.own_client.id}/events", world.reseller_viewer).status_code == 200


# -- loose ends: children of a partner that is going away ----------------------------------


def test_no_account_is_created_under_a_partner_with_a_scheduled_decommission(world: World) -> None:
    channel = world.site.channel(world.own_reseller.id, "Closing Sales")
    scheduled = world.post(f"/accounts/{channel.id}/decommission", json={"on": "2027-01-15"})
    assert scheduled.status_code == 200, scheduled.text
    body = {"kind": "client", "parent_id": channel.id, "name": "Late Co", "main_contact": {"email": "late@x.io"}}
    response = world.post("/accounts", json=body)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "invalid-transition"
    assert "2027-01-15" in response.json()["detail"]

    assert (
        world.call("DELETE", f"/accounts/{channel.id}/scheduled-decommission", world.operator_admin).status_code == 200
    )
    assert world.post("/accounts", json=body).status_code == 201
