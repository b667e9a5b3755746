"""ETag / If-Match (optimistic locking) and Idempotency-Key (safe retries), over HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tenure.domain.model import ActivateMode
from tests.e2e.api.conftest import World, token_for
from tests.support import ADMIN_EMAIL


def _account(world: World, account_id: str) -> dict[str, Any]:
    response = world.get(f"/accounts/{account_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_every_account_answer_carries_its_version_as_etag(world: World) -> None:
    contact = {"email": "ops@example.com"}
    created = world.post(
        "/accounts",
        json={"kind": "client", "parent_id": world.own_channel.id, "name": "Etag Co", "main_contact": contact},
    )
    assert created.status_code == 201
    account_id = created.json()["id"]
    answers = [
        created,
        world.get(f"/accounts/{account_id}"),
        world.call("PATCH", f"/accounts/{account_id}", world.operator_admin, json={"notes": "n"}),
        world.post(f"/accounts/{account_id}/suspend", json={"reason": "fraud"}),
        world.post(f"/accounts/{account_id}/unsuspend"),
        world.post(f"/accounts/{account_id}/convert", json={"to": "virtual"}),
        world.post(f"/accounts/{account_id}/decommission", json={"on": "2027-06-01"}),
        world.call("DELETE", f"/accounts/{account_id}/scheduled-decommission", world.operator_admin),
        world.post(f"/accounts/{account_id}/decommission"),
    ]
    versions = []
    for response in answers:
        assert response.status_code in (200, 201), response.text
        assert response.headers["etag"] == f'"{response.json()["version"]}"'
        versions.append(response.json()["version"])
    assert versions == sorted(versions) and len(set(versions[1:])) == len(versions) - 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/suspend", {"reason": "fraud"}),
        ("PATCH", "", {"name": "Renamed"}),
        ("POST", "/decommission", {}),
        ("POST", "/convert", {"to": "virtual"}),
    ],
)
def test_a_stale_if_match_changes_nothing(world: World, method: str, path: str, body: dict[str, Any]) -> None:
    account_id = world.own_client.id
    world.call("PATCH", f"/accounts/{account_id}", world.operator_admin, json={"notes": "moved on"})
    before = _account(world, account_id)
    events = world.event_count(account_id)
    stale = world.call(
        method, f"/accounts/{account_id}{path}", world.operator_admin, json=body, headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["code"] == "version-conflict"
    assert _account(world, account_id) == before
    assert world.event_count(account_id) == events
    current = world.call(
        method,
        f"/accounts/{account_id}{path}",
        world.operator_admin,
        json=body,
        headers={"If-Match": f'"{before["version"]}"'},
    )
    assert current.status_code == 200, current.text


def test_stale_if_match_on_cancelling_a_scheduled_decommission(world: World) -> None:
    account_id = world.own_client.id
    scheduled = world.post(f"/accounts/{account_id}/decommission", json={"on": "2027-01-31"}).json()
    path = f"/accounts/{account_id}/scheduled-decommission"
    stale = world.call("DELETE", path, world.operator_admin, headers={"If-Match": f'"{scheduled["version"] - 1}"'})
    assert stale.status_code == 412
    assert _account(world, account_id)["decommission_on"] == "2027-01-31"
    weak = world.call("DELETE", path, world.operator_admin, headers={"If-Match": f'W/"{scheduled["version"]}"'})
    assert weak.status_code == 200
    assert weak.json()["decommission_on"] is None


@pytest.mark.parametrize("junk", ["7", "abc", '"seven"', '"1"x', '"-1"', "W/", '"' + "9" * 40 + '"'])
def test_a_malformed_if_match_is_bad_input_and_changes_nothing(world: World, junk: str) -> None:
    account_id = world.own_client.id
    before = _account(world, account_id)
    response = world.post(f"/accounts/{account_id}/suspend", json={"reason": "fraud"}, headers={"If-Match": junk})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation-error"
    assert _account(world, account_id) == before


def test_if_match_star_means_any_version(world: World) -> None:
    response = world.post(
        f"/accounts/{world.own_client.id}/suspend", json={"reason": "fraud"}, headers={"If-Match": "*"}
    )
    assert response.status_code == 200


def _create(world: World, key: str, name: str = "Once Ltd", token: str | None = None) -> Any:
    body = {
        "kind": "client",
        "parent_id": world.own_channel.id,
        "name": name,
        "main_contact": {"email": "o@example.com"},
    }
    return world.post("/accounts", token, json=body, headers={"Idempotency-Key": key})


def _children(world: World, parent_id: str) -> list[str]:
    items = world.get("/accounts", params={"parent_id": parent_id, "limit": 500}).json()["items"]
    return [item["name"] for item in items]


def test_a_repeated_create_returns_the_first_answer_and_creates_once(world: World) -> None:
    first = _create(world, "create-1")
    again = _create(world, "create-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    assert _children(world, world.own_channel.id).count("Once Ltd") == 1
    assert world.event_count(first.json()["id"]) == 1


def test_a_repeated_suspend_acts_once(world: World) -> None:
    account_id = world.own_client.id
    path = f"/accounts/{account_id}/suspend"
    first = world.post(path, json={"reason": "fraud"}, headers={"Idempotency-Key": "s-1"})
    again = world.post(path, json={"reason": "fraud"}, headers={"Idempotency-Key": "s-1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    trail = world.get(f"/accounts/{account_id}/events").json()["items"]
    assert [e["action"] for e in trail].count("suspended") == 1
    # Without the key the repeat is a second request, which the rules refuse.
    assert world.post(path, json={"reason": "fraud"}).json()["code"] == "already-suspended"


def test_the_same_key_with_another_body_is_refused_and_does_nothing(world: World) -> None:
    assert _create(world, "k").status_code == 201
    reused = _create(world, "k", name="Other Ltd")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency-key-reused"
    assert "Other Ltd" not in _children(world, world.own_channel.id)


def test_a_refused_request_replays_its_refusal(world: World) -> None:
    manual = world.site.client(world.own_channel.id, "Manual Co", activate=ActivateMode.MANUAL)
    path = f"/accounts/{manual.id}/suspend"
    refused = world.post(path, json={"reason": "other"}, headers={"Idempotency-Key": "r-1"})
    assert refused.status_code == 409
    assert world.post(f"/accounts/{manual.id}/activate").status_code == 200
    replay = world.post(path, json={"reason": "other"}, headers={"Idempotency-Key": "r-1"})
    assert replay.status_code == 409
    assert replay.json() == refused.json()
    assert replay.headers["content-type"] == "application/problem+json"
    assert _account(world, manual.id)["status"] == "active"


def test_keys_belong_to_one_user_and_last_a_day(world: World) -> None:
    first = _create(world, "shared")
    by_reseller = _create(world, "shared", token=world.reseller_admin)
    assert by_reseller.status_code == 201 and by_reseller.json()["id"] != first.json()["id"]
    world.site.clock.set(world.site.now + timedelta(hours=24, minutes=1))
    world.operator_admin = token_for(world.site, ADMIN_EMAIL)  # tokens last 12 h
    later = _create(world, "shared")
    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]
    assert _children(world, world.own_channel.id).count("Once Ltd") == 3


def test_a_repeated_user_creation_creates_one_user(world: World) -> None:
    body = {
        "email": "twice@example.com",
        "password": "long enough pass",
        "account_id": world.own_client.id,
        "role": "portal",
    }
    first = world.post("/users", json=body, headers={"Idempotency-Key": "u-1"})
    again = world.post("/users", json=body, headers={"Idempotency-Key": "u-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    listed = world.get("/users", params={"account_id": world.own_client.id}).json()["items"]
    assert [u["email"] for u in listed].count("twice@example.com") == 1
