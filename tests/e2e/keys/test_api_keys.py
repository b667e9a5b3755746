"""API keys over HTTP (api.md "API keys"): created once, stored as a hash, scoped, revoked at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tenure.adapters.db.tables import api_keys, events
from tenure.entrypoints.cli import app
from tests.e2e.api.conftest import World

NUMBER = "+442079460000"


def _create(world: World, token: str | None = None, **body: Any) -> Any:
    return world.post("/api-keys", token, json={"name": "kamailio", "scopes": ["entitlements:read"], **body})


def _key(world: World, *scopes: str, account_id: str | None = None) -> str:
    body: dict[str, Any] = {"scopes": list(scopes or ["entitlements:read"])}
    if account_id:
        body["account_id"] = account_id
    answer = _create(world, **body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["key"])


def _with_number(world: World, client_id: str, number: str = NUMBER) -> None:
    body = {"kind": "phone_number", "label": number, "monthly_price": "12.00"}
    assert world.post(f"/accounts/{client_id}/services", json=body).status_code == 201


def _lookup(world: World, key: str, number: str = NUMBER) -> Any:
    return world.get(f"/entitlements/numbers/{number}", key, params={"capability": "outbound_calls"})


def test_creating_answers_the_key_once_and_stores_only_its_hash(world: World) -> None:
    answer = _create(world)
    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == {"id", "name", "account_id", "scopes", "key", "created_at"}
    assert body["key"].startswith("tnk_") and len(body["key"]) > 40
    assert body["account_id"] == world.site.operator_id
    assert body["scopes"] == ["entitlements:read"]
    assert body["created_at"].endswith("Z")
    listed = world.get("/api-keys").json()["items"]
    assert [k["id"] for k in listed] == [body["id"]]
    assert "key" not in listed[0] and listed[0]["last_used_at"] is None
    with world.site.uow().reading() as uow:
        row = uow.connection.execute(select(api_keys)).one()
    assert body["key"] not in [str(value) for value in row]
    assert len(row.key_hash) == 64


def test_a_key_reads_entitlements_and_records_its_last_use_once_a_minute(world: World) -> None:
    _with_number(world, world.own_client.id)
    key = _key(world)
    assert _lookup(world, key).json()["allowed"] is True
    first = world.get("/api-keys").json()["items"][0]["last_used_at"]
    assert first == "2026-11-23T10:00:00Z"
    world.site.clock.set(world.site.now + timedelta(seconds=30))
    assert world.get(f"/accounts/{world.own_client.id}/entitlements", key).status_code == 200
    assert world.get("/api-keys").json()["items"][0]["last_used_at"] == first
    world.site.clock.set(world.site.now + timedelta(seconds=31))
    assert _lookup(world, key).status_code == 200
    assert world.get("/api-keys").json()["items"][0]["last_used_at"] == "2026-11-23T10:01:01Z"


def test_a_key_never_expires_by_itself(world: World) -> None:
    _with_number(world, world.own_client.id)
    key = _key(world)
    world.site.clock.set(world.site.now + timedelta(days=800))
    assert _lookup(world, key).status_code == 200


def test_a_key_sees_its_accounts_subtree_only(world: World) -> None:
    _with_number(world, world.own_client.id)
    _with_number(world, world.other_client.id, "+442079460001")
    key = _key(world, account_id=world.own_reseller.id)
    assert _lookup(world, key).status_code == 200
    assert _lookup(world, key, "+442079460001").status_code == 404
    assert world.get(f"/accounts/{world.own_client.id}/entitlements", key).status_code == 200
    assert world.get(f"/accounts/{world.other_client.id}/entitlements", key).status_code == 404


# Every scope against a request of each kind: an entitlement read, another GET, a change.
SCOPE_TABLE = [
    ("entitlements:read", 200, 403, 403),
    ("read", 200, 200, 403),
    ("radius", 403, 403, 403),
]


@pytest.mark.parametrize(("scope", "entitlements", "other_get", "change"), SCOPE_TABLE)
def test_a_request_outside_the_keys_scopes_is_403(
    world: World, scope: str, entitlements: int, other_get: int, change: int
) -> None:
    _with_number(world, world.own_client.id)
    key = _key(world, scope)
    assert _lookup(world, key).status_code == entitlements
    assert world.get(f"/accounts/{world.own_client.id}/entitlements", key).status_code == entitlements
    answer = world.get(f"/accounts/{world.own_client.id}", key)
    assert answer.status_code == other_get
    if other_get == 403:
        assert answer.json()["code"] == "forbidden"
    assert world.get("/accounts", key).status_code == other_get
    suspend = world.post(f"/accounts/{world.own_client.id}/suspend", key, json={"reason": "fraud"})
    assert suspend.status_code == change
    assert _create(world, key).status_code == change
    assert world.call("DELETE", "/auth/token", key).status_code == 403


def test_revoking_refuses_the_key_at_once_and_a_second_revoke_is_harmless(world: World) -> None:
    _with_number(world, world.own_client.id)
    created = _create(world).json()
    assert _lookup(world, created["key"]).status_code == 200
    assert world.call("DELETE", f"/api-keys/{created['id']}", world.operator_admin).status_code == 204
    refused = _lookup(world, created["key"])
    assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
    assert world.call("DELETE", f"/api-keys/{created['id']}", world.operator_admin).status_code == 204
    assert world.get("/api-keys").json()["items"] == []


def test_creating_and_revoking_are_events_on_the_owning_accounts_trail(world: World) -> None:
    created = _create(world, world.reseller_admin, account_id=world.own_channel.id).json()
    world.call("DELETE", f"/api-keys/{created['id']}", world.reseller_admin)
    trail = world.get(f"/accounts/{world.own_channel.id}/events").json()["items"]
    assert [e["action"] for e in trail[:2]] == ["api_key_revoked", "api_key_created"]
    assert trail[1]["actor"] == "admin@northwind.example"
    assert trail[1]["after"]["scopes"] == ["entitlements:read"]
    with world.site.uow().reading() as uow:
        rows = uow.connection.execute(select(events.c.action).where(events.c.account_id == world.site.operator_id))
        assert "api_key_created" not in [r.action for r in rows]


# Who may create keys, on whose account: (caller, account, status).
PERMISSIONS = [
    ("operator_admin", None, 201),
    ("operator_admin", "other_channel", 201),
    ("reseller_admin", None, 201),
    ("reseller_admin", "own_client", 201),
    ("reseller_admin", "other_channel", 404),
    ("reseller_admin", "operator", 404),
    ("operator_viewer", None, 403),
    ("reseller_viewer", None, 403),
    ("portal", None, 403),
]


@pytest.mark.parametrize(("who", "account", "status"), PERMISSIONS)
def test_only_admins_create_keys_for_their_own_account_or_one_below_it(
    world: World, who: str, account: str | None, status: int
) -> None:
    account_id = None
    if account == "operator":
        account_id = world.site.operator_id
    elif account is not None:
        account_id = getattr(world, account).id
    answer = _create(world, getattr(world, who), **({"account_id": account_id} if account_id else {}))
    assert answer.status_code == status, answer.text


def test_lists_and_revocations_stay_within_the_callers_tree(world: World) -> None:
    mine = _create(world, world.reseller_admin).json()
    theirs = _create(world, account_id=world.other_reseller.id).json()
    listed = world.get("/api-keys", world.reseller_viewer).json()["items"]
    assert [k["id"] for k in listed] == [mine["id"]]
    assert world.call("DELETE", f"/api-keys/{theirs['id']}", world.reseller_admin).status_code == 404
    assert world.call("DELETE", f"/api-keys/{mine['id']}", world.reseller_viewer).status_code == 403
    assert world.get("/api-keys", world.portal).status_code == 403
    assert len(world.get("/api-keys").json()["items"]) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"name": "kamailio", "scopes": []},
        {"name": "kamailio", "scopes": ["write"]},
        {"name": "kamailio"},
        {"name": "", "scopes": ["read"]},
        {"name": "bad\x00name", "scopes": ["read"]},
        {"name": "tab\tname", "scopes": ["read"]},
        {"name": "x" * 101, "scopes": ["read"]},
        {"name": "kamailio", "scopes": ["read"], "account_id": "x" * 65},
        {"name": "kamailio", "scopes": ["read"], "expires": "never"},
    ],
)
def test_bad_key_requests_are_422(world: World, body: dict[str, Any]) -> None:
    answer = world.post("/api-keys", json=body)
    assert answer.status_code == 422
    assert answer.json()["code"] == "validation-error"


def test_an_unknown_or_malformed_key_is_401(world: World) -> None:
    _with_number(world, world.own_client.id)
    for key in ("tnk_nothing", "tnk_" + "a" * 600):
        answer = _lookup(world, key)
        assert answer.status_code == 401 and answer.json()["code"] == "unauthorized"


def test_a_suspended_accounts_key_works_and_a_decommissioned_ones_is_refused(world: World) -> None:
    _with_number(world, world.own_client.id)
    key = _key(world, account_id=world.own_client.id)
    world.post(f"/accounts/{world.own_client.id}/suspend", json={"reason": "fraud"})
    assert _lookup(world, key).json()["allowed"] is False
    world.site.unsuspend(world.own_client.id)
    world.site.decommission(world.own_client.id)
    assert _lookup(world, key).status_code == 401


def test_the_cli_prints_only_a_key_that_works(world: World) -> None:
    _with_number(world, world.own_client.id)
    url = world.site.engine.url.render_as_string(hide_password=False)
    args = ["api-key", "create", "--name", "kamailio", "--scope", "entitlements:read"]
    result = CliRunner().invoke(app, args, env={"TENURE_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    key = result.output.strip()
    assert key.startswith("tnk_") and "\n" not in key
    assert _lookup(world, key).status_code == 200
    listed = world.get("/api-keys").json()["items"]
    assert [(k["name"], k["account_id"], k["created_by"]) for k in listed] == [
        ("kamailio", world.site.operator_id, "cli")
    ]
    bad = CliRunner().invoke(app, [*args[:-1], "write"], env={"TENURE_DATABASE_URL": url})
    assert bad.exit_code == 2 and "scopes must be" in bad.output
