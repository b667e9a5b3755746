"""rlm_rest's authorize on the hot path: one statement for both kinds, the cached key, the same answers.

FreeRADIUS sends its body with a Content-Length, so `api.lean` answers it before
routing; a chunked body reaches the FastAPI route, which must answer identically.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tenure.domain.model import HoldReason
from tests.e2e.api.conftest import World, bearer

AUTHORIZE = "/api/v1/radius/authorize"


def _service(world: World, account_id: str, network_id: str, kind: str = "internet") -> str:
    body = {"kind": kind, "label": f"{kind} {network_id}", "monthly_price": "30.00", "network_id": network_id}
    created = world.post(f"/accounts/{account_id}/services", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _key(world: World, *scopes: str) -> str:
    created = world.post("/api-keys", json={"name": "freeradius", "scopes": list(scopes)})
    assert created.status_code == 201, created.text
    return str(created.json()["key"])


def _authorize(world: World, credential: str | None, body: Any, *, chunked: bool = False) -> Any:
    headers = {**(bearer(credential) if credential else {}), "Content-Type": "application/json"}
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    content: bytes | Iterator[bytes] = iter([raw[:3], raw[3:]]) if chunked else raw
    return world.client.post(AUTHORIZE, headers=headers, content=content)


def _class(answer: Any) -> str:
    assert answer.status_code == 200, answer.text
    return str(answer.json()["reply:Class"])


@pytest.mark.parametrize("chunked", [False, True], ids=["lean", "route"])
def test_the_lean_path_and_the_route_answer_alike(world: World, chunked: bool) -> None:
    _service(world, world.own_client.id, "acme-ppp1")
    key = _key(world, "radius")
    accepted = _authorize(world, key, {"User-Name": "acme-ppp1"}, chunked=chunked)
    assert accepted.headers["content-type"] == "application/json"
    assert accepted.json() == {"reply:Reply-Message": "active", "reply:Class": f"tenure:{world.own_client.id}"}
    unknown = _authorize(world, key, {"User-Name": "nobody"}, chunked=chunked)
    assert (unknown.status_code, unknown.content) == (404, b"")
    bad = _authorize(world, key, b"{not json", chunked=chunked)
    assert (bad.status_code, bad.json()["code"]) == (400, "validation-error")
    assert bad.headers["content-type"] == "application/problem+json"
    world.site.suspend(world.own_client.id, HoldReason.FRAUD)
    rejected = _authorize(world, key, {"User-Name": "acme-ppp1"}, chunked=chunked)
    assert rejected.status_code == 401 and rejected.headers["content-type"] == "application/json"
    assert rejected.json()["reply:Reply-Message"].startswith("suspended: fraud hold on client")


@pytest.mark.parametrize(
    ("scopes", "status"),
    [(["radius"], 200), (["entitlements:read", "radius"], 200), (["entitlements:read"], 403), (["read"], 403)],
)
def test_only_a_key_with_the_radius_scope_is_answered(world: World, scopes: list[str], status: int) -> None:
    _service(world, world.own_client.id, "acme-ppp1")
    answer = _authorize(world, _key(world, *scopes), {"User-Name": "acme-ppp1"})
    assert answer.status_code == status, answer.text
    if status == 403:
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "forbidden"


def test_a_credential_is_refused_before_the_body_is_read(world: World) -> None:
    """As FastAPI's dependencies order them: no credential is 401, a wrong scope 403, before a bad body's 400."""
    for credential, status in ((None, 401), ("tnk_not-a-key", 401), (_key(world, "read"), 403)):
        answer = _authorize(world, credential, b"{not json")
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == "application/problem+json"


def test_a_revoked_key_is_refused_by_the_next_request(world: World) -> None:
    _service(world, world.own_client.id, "acme-ppp1")
    created = world.post("/api-keys", json={"name": "freeradius", "scopes": ["radius"]}).json()
    assert _authorize(world, created["key"], {"User-Name": "acme-ppp1"}).status_code == 200  # now cached
    assert world.call("DELETE", f"/api-keys/{created['id']}", world.operator_admin).status_code == 204
    refused = _authorize(world, created["key"], {"User-Name": "acme-ppp1"})
    assert (refused.status_code, refused.json()["code"]) == (401, "unauthorized")


def test_a_user_name_is_its_internet_service_else_its_wifi_service(world: World) -> None:
    """One statement answers both kinds, internet first, each only where the caller may see it."""
    key = _key(world, "radius")
    wifi = _service(world, world.other_client.id, "shared-login", "wifi")
    assert _class(_authorize(world, key, {"User-Name": "shared-login"})) == f"tenure:{world.other_client.id}"
    internet = _service(world, world.own_client.id, "shared-login")
    assert _class(_authorize(world, key, {"User-Name": "shared-login"})) == f"tenure:{world.own_client.id}"
    world.site.suspend(world.own_client.id, HoldReason.NON_PAYMENT)
    assert _authorize(world, key, {"User-Name": "shared-login"}).status_code == 401  # the internet service decides
    removed = world.call("DELETE", f"/accounts/{world.own_client.id}/services/{internet}", world.operator_admin)
    assert removed.status_code in (200, 204), removed.text
    assert _class(_authorize(world, key, {"User-Name": "shared-login"})) == f"tenure:{world.other_client.id}"
    world.call("DELETE", f"/accounts/{world.other_client.id}/services/{wifi}", world.operator_admin)
    assert _authorize(world, key, {"User-Name": "shared-login"}).status_code == 404


def test_a_reseller_sees_only_its_own_tree(world: World) -> None:
    """The other client's internet service is outside the reseller's tree; its own Wi-Fi one answers."""
    _service(world, world.other_client.id, "shared-login")
    _service(world, world.own_client.id, "shared-login", "wifi")
    mine = _authorize(world, world.reseller_admin, {"User-Name": "shared-login"})
    assert _class(mine) == f"tenure:{world.own_client.id}"
    assert _class(_authorize(world, world.operator_admin, {"User-Name": "shared-login"})) == (
        f"tenure:{world.other_client.id}"
    )


def test_authorize_is_counted_under_its_route(world: World) -> None:
    _service(world, world.own_client.id, "acme-ppp1")
    assert _authorize(world, _key(world, "radius"), {"User-Name": "acme-ppp1"}).status_code == 200
    assert 'route="/api/v1/radius/authorize",status="200"' in world.client.get("/metrics").text


def test_accounting_files_a_session_under_the_same_service_authorize_chose(world: World) -> None:
    """One rule for both endpoints: a User-Name is its internet service, else its Wi-Fi service."""
    _service(world, world.other_client.id, "shared-login", "wifi")
    _service(world, world.own_client.id, "shared-login")
    start = {"Acct-Status-Type": "Start", "User-Name": "shared-login", "NAS-IP-Address": "192.0.2.1"}
    assert world.post("/radius/accounting", json={**start, "Acct-Session-Id": "S-1"}).status_code == 204
    world.site.decommission(world.own_client.id)  # its internet service ends; the Wi-Fi one is left
    assert world.post("/radius/accounting", json={**start, "Acct-Session-Id": "S-2"}).status_code == 204
    kept = {s["acct_session_id"]: s["account_id"] for s in world.get("/radius/sessions").json()["items"]}
    assert kept == {"S-1": world.own_client.id, "S-2": world.other_client.id}


@pytest.mark.parametrize("chunked", [False, True], ids=["lean", "route"])
def test_an_oversized_body_is_413_before_anything_is_read(world: World, chunked: bool) -> None:
    padding = b'{"User-Name": "acme-ppp1", "Class": "' + b"x" * (1024 * 1024) + b'"}'
    answer = _authorize(world, _key(world, "radius"), padding, chunked=chunked)
    assert (answer.status_code, answer.json()["code"]) == (413, "payload-too-large")
