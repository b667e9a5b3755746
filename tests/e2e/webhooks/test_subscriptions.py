"""POST/GET/DELETE /api/v1/webhooks: Standard Webhooks secrets, validation, and who may do what."""

from __future__ import annotations

import base64

import pytest

from tests.e2e.api.conftest import World

EVENTS = ["account.suspended", "entitlements.changed"]
PUBLIC_URL = "http://93.184.215.14:9/hook"  # a public address: partners may target it (nothing is sent here)


def _create(world: World, token: str, **body: object) -> dict[str, object]:
    answer = world.post("/webhooks", token, json={"url": PUBLIC_URL, "events": EVENTS, **body})
    assert answer.status_code == 201, answer.text
    created: dict[str, object] = answer.json()
    return created


def test_a_generated_secret_is_shown_only_in_the_creation_answer(world: World) -> None:
    created = _create(world, world.operator_admin)
    secret = str(created["secret"])
    assert secret.startswith("whsec_") and 24 <= len(base64.b64decode(secret.removeprefix("whsec_"))) <= 64
    assert created["events"] == EVENTS and created["account_id"] == world.site.operator_id
    again = world.get(f"/webhooks/{created['id']}")
    assert again.status_code == 200 and "secret" not in again.json()
    listed = world.get("/webhooks").json()
    assert [w["id"] for w in listed["items"]] == [created["id"]] and "secret" not in listed["items"][0]
    assert _create(world, world.operator_admin)["secret"] != secret


def test_a_given_secret_is_kept_when_it_is_a_standard_webhooks_secret(shared_world: World) -> None:
    for size in (24, 64):
        good = "whsec_" + base64.b64encode(b"k" * size).decode()
        assert _create(shared_world, shared_world.operator_admin, secret=good)["secret"] == good


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("secret", "not-a-secret"),
        ("secret", "whsec_" + base64.b64encode(b"short").decode()),
        ("secret", "whsec_" + base64.b64encode(b"x" * 65).decode()),
        ("secret", "whsec_###"),
        ("events", ["account.exploded"]),
        ("events", []),
        ("url", "ftp://example.com/hook"),
        ("url", "not a url"),
        ("url", "http://"),
        ("url", "http://example.com:99999/"),
    ],
)
def test_bad_input_is_a_422_validation_error(shared_world: World, field: str, value: object) -> None:
    body = {"url": "https://hooks.example/in", "events": EVENTS, field: value}
    answer = shared_world.post("/webhooks", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "validation-error"


def test_a_partner_admin_manages_only_its_own_tree(world: World) -> None:
    operator_hook = _create(world, world.operator_admin)
    own = _create(world, world.reseller_admin)
    assert own["account_id"] == world.own_reseller.id
    on_channel = _create(world, world.reseller_admin, account_id=world.own_channel.id)
    foreign = world.post(
        "/webhooks",
        world.reseller_admin,
        json={"url": PUBLIC_URL, "events": EVENTS, "account_id": world.other_reseller.id},
    )
    assert foreign.status_code == 404
    listed = {w["id"] for w in world.get("/webhooks", world.reseller_admin).json()["items"]}
    assert listed == {own["id"], on_channel["id"]}
    assert world.get(f"/webhooks/{operator_hook['id']}", world.reseller_admin).status_code == 404
    assert world.call("DELETE", f"/webhooks/{operator_hook['id']}", world.reseller_admin).status_code == 404
    assert {w["id"] for w in world.get("/webhooks").json()["items"]} == {
        operator_hook["id"],
        own["id"],
        on_channel["id"],
    }


def test_viewers_read_but_do_not_change_and_portal_users_see_nothing(shared_world: World) -> None:
    world = shared_world
    hook = _create(world, world.reseller_admin)
    assert world.get(f"/webhooks/{hook['id']}", world.reseller_viewer).status_code == 200
    body = {"url": PUBLIC_URL, "events": EVENTS}
    assert world.post("/webhooks", world.reseller_viewer, json=body).status_code == 403
    assert world.call("DELETE", f"/webhooks/{hook['id']}", world.reseller_viewer).status_code == 403
    assert world.get("/webhooks", world.portal).status_code == 403
    assert world.post("/webhooks", world.portal, json=body).status_code == 403
    assert world.call("GET", "/webhooks").status_code == 401


def test_delete_answers_204_and_the_subscription_is_gone(world: World) -> None:
    hook = _create(world, world.operator_admin)
    answer = world.call("DELETE", f"/webhooks/{hook['id']}", world.operator_admin)
    assert answer.status_code == 204 and answer.content == b""
    assert world.get(f"/webhooks/{hook['id']}").status_code == 404
    assert world.call("DELETE", f"/webhooks/{hook['id']}", world.operator_admin).status_code == 404


def test_list_pages_with_a_cursor(world: World) -> None:
    made = {str(_create(world, world.operator_admin)["id"]) for _ in range(3)}
    first = world.get("/webhooks", params={"limit": 2}).json()
    second = world.get("/webhooks", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert second["next_cursor"] is None
    assert {w["id"] for w in first["items"] + second["items"]} == made
    assert world.get("/webhooks", params={"cursor": "junk!"}).status_code == 422
