"""GET /accounts (filters, order, pages), the events endpoint, and health."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tenure.domain.model import ActivateMode, HoldReason
from tests.e2e.api.conftest import World


@pytest.fixture
def tree(world: World) -> World:
    """More accounts beside the world's: every status, awkward names and refs."""
    site, channel = world.site, world.own_channel.id
    site.client(channel, "beta Widgets", billing_ref="ACME-7")
    site.client(channel, "Gamma 100% Ltd")
    site.client(channel, "Delta_Co")
    site.client(channel, "DeltaXCo")
    site.client(channel, "Fresh Start", activate=ActivateMode.MANUAL)
    site.client(channel, "Later Ltd", start_date=site.now.date() + timedelta(days=30))
    held = site.client(channel, "Held Ltd")
    site.suspend(held.id, HoldReason.FRAUD)
    gone = site.client(channel, "Gone Ltd")
    site.decommission(gone.id)
    return world


def names(world: World, token: str | None = None, **params: Any) -> list[str]:
    response = world.get("/accounts", token, params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def test_sorted_by_name_with_the_management_client_first(tree: World) -> None:
    listed = names(tree)
    assert listed[0] == "Meridian (management)"
    assert listed[1:] == sorted(listed[1:], key=str.casefold)
    assert "Gone Ltd" not in listed  # decommissioned accounts are hidden by default


def test_kind_and_parent_and_within(tree: World) -> None:
    assert names(tree, kind="reseller") == ["Northwind", "Southwind"]
    assert names(tree, kind="channel", within=tree.own_reseller.id) == ["North Sales"]
    assert names(tree, parent_id=tree.own_reseller.id) == ["North Sales"]  # direct children only
    subtree = names(tree, within=tree.own_reseller.id)
    assert {"Northwind", "North Sales", "Acme Ltd", "Held Ltd"} <= set(subtree)
    assert "Zenith Ltd" not in subtree and "Southwind" not in subtree


def test_status_takes_a_comma_list(tree: World) -> None:
    assert names(tree, status="suspended") == ["Held Ltd"]
    assert names(tree, status="new,scheduled") == ["Fresh Start", "Later Ltd"]
    assert names(tree, status=" suspended , new ") == ["Fresh Start", "Held Ltd"]
    assert names(tree, status="inactive") == ["Gone Ltd"]


def test_suspended_through_an_ancestor_is_listed_as_suspended(tree: World) -> None:
    tree.site.suspend(tree.other_channel.id, HoldReason.NON_PAYMENT)
    response = tree.get("/accounts", params={"status": "suspended", "within": tree.other_reseller.id})
    items = {item["name"]: item for item in response.json()["items"]}
    assert set(items) == {"South Sales", "Zenith Ltd"}
    assert items["Zenith Ltd"]["suspended_by"] == {"id": tree.other_channel.id, "name": "South Sales"}
    assert items["Zenith Ltd"]["holds"] == []
    assert items["South Sales"]["suspended_by"] is None
    assert [h["reason"] for h in items["South Sales"]["holds"]] == ["non_payment"]


def test_include_inactive_shows_decommissioned_accounts(tree: World) -> None:
    assert "Gone Ltd" in names(tree, include_inactive="true")
    assert "Gone Ltd" not in names(tree, include_inactive="false")


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("DELTA", ["Delta_Co", "DeltaXCo"]),
        ("delta_", ["Delta_Co"]),  # `_` is literal, not "any one character"
        ("100%", ["Gamma 100% Ltd"]),  # `%` is literal
        ("acme-7", ["beta Widgets"]),  # billing ref, any case
        ("widgets", ["beta Widgets"]),
        ("nothing like it", []),
    ],
)
def test_q_is_a_case_insensitive_substring_of_name_or_billing_ref(tree: World, q: str, expected: list[str]) -> None:
    assert names(tree, q=q, within=tree.own_channel.id) == expected


def test_q_does_not_search_the_hidden_sort_prefix(tree: World) -> None:
    assert names(tree, q="meridian (m") == ["Meridian (management)"]
    assert names(tree, q="0meridian") == []  # the sort key starts with a "management first" flag


def test_q_finds_generated_billing_refs(tree: World) -> None:
    ref = tree.get(f"/accounts/{tree.own_client.id}").json()["billing_ref"]
    assert names(tree, q=ref.lower()) == ["Acme Ltd"]


def test_pages_walk_the_whole_list_once(tree: World) -> None:
    everything = names(tree, include_inactive="true")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3, "include_inactive": "true", **({"cursor": cursor} if cursor else {})}
        page = tree.get("/accounts", params=params).json()
        assert len(page["items"]) <= 3
        seen += [item["name"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything
    assert pages == -(-len(everything) // 3) >= 5


@pytest.mark.parametrize("limit", ["0", "501", "-1", "ten"])
def test_limit_outside_1_to_500_is_bad_input(world: World, limit: str) -> None:
    response = world.get("/accounts", params={"limit": limit})
    assert response.status_code == 422
    assert response.json()["code"] == "validation-error"


def test_the_whole_limit_range_is_accepted(world: World) -> None:
    assert world.get("/accounts", params={"limit": 1}).json()["next_cursor"] is not None
    assert world.get("/accounts", params={"limit": 500}).json()["next_cursor"] is None


def test_a_reseller_lists_only_its_own_tree(tree: World) -> None:
    listed = names(tree, tree.reseller_admin)
    assert "Northwind" in listed and "Acme Ltd" in listed
    assert not {"Meridian", "Meridian (management)", "Southwind", "Zenith Ltd"} & set(listed)
    assert names(tree, tree.portal) == ["Acme Ltd"]


def test_client_only_fields_are_absent_on_partners(world: World) -> None:
    partner = world.get(f"/accounts/{world.own_channel.id}").json()
    client = world.get(f"/accounts/{world.own_client.id}").json()
    client_only = {"client_type", "offices", "start_date", "end_date", "contract_expired"}
    assert not client_only & set(partner)
    assert client_only <= set(client)
    assert client["client_type"] == "residential"
    assert client["start_date"] == world.site.now.date().isoformat()
    assert client["end_date"] == date(2027, 11, 23).isoformat()
    assert client["contract_expired"] is False


def test_events_are_newest_first_in_pages(world: World) -> None:
    account_id = world.own_client.id
    for reason in ("fraud", "other", "requested"):
        assert world.post(f"/accounts/{account_id}/suspend", json={"reason": reason}).status_code == 200
    world.post(f"/accounts/{account_id}/unsuspend", json={"reason": "other"})
    first = world.get(f"/accounts/{account_id}/events", params={"limit": 2}).json()
    assert [e["action"] for e in first["items"]] == ["unsuspended", "suspended"]
    second = world.get(f"/accounts/{account_id}/events", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [e["action"] for e in second["items"]] == ["suspended", "suspended"]
    third = world.get(f"/accounts/{account_id}/events", params={"limit": 2, "cursor": second["next_cursor"]}).json()
    assert [e["action"] for e in third["items"]] == ["created"]
    assert third["next_cursor"] is None
    newest = first["items"][0]
    assert {"id", "at", "actor", "action", "reason", "before", "after"} <= set(newest)
    assert newest["actor"] == "admin@operator.example"
    assert newest["at"] == "2026-11-23T10:00:00Z"
    ids = [int(e["id"]) for page in (first, second, third) for e in page["items"]]
    assert ids == sorted(ids, reverse=True)


def test_health_and_metrics_need_no_token(world: World) -> None:
    world.get("/accounts")  # something to count
    assert world.client.get("/healthz").json() == {"status": "ok"}
    ready = world.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "reachable"
    metrics = world.client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "# TYPE tenure_http_requests_total counter" in metrics.text
    assert 'route="/api/v1/accounts"' in metrics.text


def test_request_metrics_count_by_route_template_and_status(world: World) -> None:
    """One label per route (ids folded into the template), with the status it answered."""
    world.get("/accounts/no-such-account")
    text = world.client.get("/metrics").text
    line = next(
        row
        for row in text.splitlines()
        if row.startswith("tenure_http_requests_total{")
        and 'route="/api/v1/accounts/{account_id}"' in row
        and 'status="404"' in row
    )
    assert float(line.rsplit(" ", 1)[1]) >= 1
    assert "no-such-account" not in text


def test_patch_changes_only_what_it_names(world: World) -> None:
    path = f"/accounts/{world.own_client.id}"
    before = world.get(path).json()
    patch = world.call("PATCH", path, world.operator_admin, json={"notes": "VIP", "name": None, "billing_ref": None})
    assert patch.status_code == 200, patch.text
    after = patch.json()
    assert after["notes"] == "VIP"
    assert (after["name"], after["billing_ref"]) == (before["name"], before["billing_ref"])
    renumbered = world.call("PATCH", path, world.operator_admin, json={"billing_ref": ""}).json()
    assert renumbered["billing_ref"] not in ("", before["billing_ref"])
    trail = world.get(f"{path}/events").json()["items"]
    assert [e["action"] for e in trail] == ["updated", "updated", "created"]
    assert trail[1]["before"] == {"notes": ""} and trail[1]["after"] == {"notes": "VIP"}
