"""Issue 12 over HTTP: network ids on services, their lookup, rlm_rest's authorize/accounting, sessions, NAS."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tenure.adapters.db.listing import encode_cursor
from tenure.adapters.db.tables import nas as nas_table
from tenure.domain.model import HoldReason
from tests.e2e.api.conftest import World


def _problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


def _internet(world: World, account_id: str, network_id: str, kind: str = "internet") -> Any:
    body = {"kind": kind, "label": f"PPPoE {network_id}", "monthly_price": "30.00", "network_id": network_id}
    return world.post(f"/accounts/{account_id}/services", json=body)


def _rlm(**attributes: str) -> dict[str, Any]:
    """rlm_rest's default JSON body: every attribute as {"type", "value": [...]}."""
    return {name.replace("_", "-"): {"type": "string", "value": [value]} for name, value in attributes.items()}


def test_a_network_id_is_set_on_create_or_patch_and_unique_per_kind_among_open_services(world: World) -> None:
    acme, zenith = world.own_client.id, world.other_client.id
    created = _internet(world, acme, "acme-ppp1")
    assert created.status_code == 201 and created.json()["network_id"] == "acme-ppp1"
    _problem(_internet(world, zenith, "acme-ppp1"), 409, "network-id-taken")
    assert _internet(world, zenith, "acme-ppp1", kind="wifi").status_code == 201  # another kind
    plain = world.post(f"/accounts/{zenith}/services", json={"kind": "internet", "label": "x", "monthly_price": "1"})
    path = f"/accounts/{zenith}/services/{plain.json()['id']}"
    _problem(world.call("PATCH", path, world.operator_admin, json={"network_id": "acme-ppp1"}), 409, "network-id-taken")
    events = world.event_count(zenith)
    patched = world.call("PATCH", path, world.operator_admin, json={"network_id": "zenith-ppp1"})
    assert patched.status_code == 200 and patched.json()["network_id"] == "zenith-ppp1"
    assert world.event_count(zenith) == events + 1
    trail = world.get(f"/accounts/{zenith}/events").json()["items"][0]
    assert trail["action"] == "updated" and trail["after"]["network_id"] == "zenith-ppp1"
    same = world.call("PATCH", path, world.operator_admin, json={"network_id": "zenith-ppp1"})
    assert same.status_code == 200 and world.event_count(zenith) == events + 1  # no change, no event
    _problem(world.call("PATCH", path, world.reseller_admin, json={"network_id": "x"}), 404, "not-found")
    for bad in ("", "a\x00b", "tab\there", "é", "x" * 254):
        _problem(world.call("PATCH", path, world.operator_admin, json={"network_id": bad}), 422, "validation-error")
    world.call("DELETE", f"/accounts/{acme}/services/{created.json()['id']}", world.operator_admin)
    assert _internet(world, zenith, "acme-ppp1").status_code == 201  # an ended service frees its id


def test_the_service_lookup_answers_like_the_number_lookup(world: World) -> None:
    _internet(world, world.own_client.id, "acme-ppp1")
    path = "/entitlements/services/internet/acme-ppp1"
    found = world.get(path, params={"capability": "internet"}).json()
    assert found["allowed"] is True and found["because"] == "active"
    assert found["account_id"] == world.own_client.id and found["network_id"] == "acme-ppp1"
    world.site.suspend(world.own_channel.id, HoldReason.NON_PAYMENT)
    denied = world.get(path, world.reseller_viewer, params={"capability": "internet"}).json()
    assert denied["allowed"] is False and denied["because"].startswith("suspended: non-payment hold on channel")
    _problem(world.get("/entitlements/services/wifi/acme-ppp1", params={"capability": "internet"}), 404, "not-found")
    _problem(world.get("/entitlements/services/internet/nobody", params={"capability": "internet"}), 404, "not-found")
    _internet(world, world.other_client.id, "zenith-ppp1")
    other = world.get(
        "/entitlements/services/internet/zenith-ppp1", world.reseller_admin, params={"capability": "internet"}
    )
    _problem(other, 404, "not-found")


def test_authorize_accepts_rejects_with_the_reason_or_answers_notfound(world: World) -> None:
    _internet(world, world.own_client.id, "acme-ppp1")
    allowed = world.post("/radius/authorize", json=_rlm(User_Name="acme-ppp1", NAS_IP_Address="192.0.2.1"))
    assert allowed.status_code == 200
    assert allowed.json() == {"reply:Reply-Message": "active", "reply:Class": f"tenure:{world.own_client.id}"}
    plain = world.post("/radius/authorize", json={"User-Name": "acme-ppp1", "Called-Station-Id": "AA-BB:Café"})
    assert plain.status_code == 200
    long_class = {"User-Name": "acme-ppp1", "Class": {"type": "octets", "value": ["0x" + "ab" * 253]}}
    assert world.post("/radius/authorize", json=long_class).status_code == 200  # unread attributes pass
    world.site.suspend(world.own_client.id, HoldReason.FRAUD)
    rejected = world.post("/radius/authorize", json={"User-Name": "acme-ppp1"})
    assert rejected.status_code == 401
    assert rejected.json()["reply:Reply-Message"].startswith("suspended: fraud hold on client Acme Ltd")
    unknown = world.post("/radius/authorize", json={"User-Name": "nobody"})
    assert unknown.status_code == 404 and unknown.content == b""
    _internet(world, world.other_client.id, "zenith-ppp1")
    unseen = world.post("/radius/authorize", world.reseller_admin, json={"User-Name": "zenith-ppp1"})
    assert unseen.status_code == 404
    _problem(world.call("POST", "/radius/authorize", json={"User-Name": "acme-ppp1"}), 401, "unauthorized")


def test_bad_radius_input_is_400_which_rlm_rest_reads_as_invalid(world: World) -> None:
    bodies: list[Any] = [
        {},
        {"User-Name": ""},
        {"User-Name": "a\x00b"},
        {"User-Name": 7},
        {"User-Name": None},
        {"User-Name": {"type": "string", "value": "not-a-list"}},
        {"User-Name": "x" * 254},
        {"User-Name": "acme", "NAS-IP-Address": "not-an-ip"},
        {"User-Name": "acme", "Called-Station-Id": "bell\x07"},
        {"User-Name": "acme", "Class": 1.5},
        ["User-Name"],
    ]
    for body in bodies:
        _problem(world.post("/radius/authorize", json=body), 400, "validation-error")
    raw = world.post("/radius/authorize", content=b"{not json", headers={"Content-Type": "application/json"})
    _problem(raw, 400, "validation-error")
    start = {"Acct-Session-Id": "S1", "User-Name": "acme", "NAS-IP-Address": "192.0.2.1"}
    for extra in ({"Acct-Status-Type": "Reboot"}, {}, {"Acct-Status-Type": "Start", "Event-Timestamp": "yesterday"}):
        _problem(world.post("/radius/accounting", json={**start, **extra}), 400, "validation-error")


def test_accounting_keeps_sessions_and_the_list_is_scoped(world: World) -> None:
    _internet(world, world.own_client.id, "acme-ppp1")
    _internet(world, world.other_client.id, "zenith-ppp1")
    base = {"NAS-IP-Address": "192.0.2.1", "Framed-IP-Address": "100.64.0.10"}
    for status in ("Start", "Start", "Interim-Update", 3):
        sent = world.post(
            "/radius/accounting",
            json={**base, "Acct-Status-Type": status, "Acct-Session-Id": "A1", "User-Name": "acme-ppp1"},
        )
        assert sent.status_code == 204, sent.text
    rlm_start = _rlm(
        Acct_Status_Type="Start", Acct_Session_Id="Z1", User_Name="zenith-ppp1", NAS_IP_Address="192.0.2.1"
    )
    rlm_start["Event-Timestamp"] = {"type": "date", "value": ["Nov 23 2026 09:59:00 UTC"]}
    assert world.post("/radius/accounting", json=rlm_start).status_code == 204
    booted = {"Acct-Status-Type": "Accounting-On", "NAS-IP-Address": "192.0.2.1"}
    assert world.post("/radius/accounting", json=booted).status_code == 204
    stop = {**base, "Acct-Status-Type": 2, "Acct-Session-Id": "X1", "User-Name": "stranger"}
    assert world.post("/radius/accounting", json=stop).status_code == 204  # a Stop without a Start
    everything = {s["acct_session_id"]: s for s in world.get("/radius/sessions").json()["items"]}
    assert set(everything) == {"A1", "Z1", "X1"}
    assert everything["Z1"]["started_at"] == "2026-11-23T09:59:00Z"
    assert everything["X1"]["state"] == "stopped" and everything["X1"]["account_id"] is None
    assert everything["A1"]["state"] == "open" and everything["A1"]["framed_ip"] == "100.64.0.10"
    own = world.get("/radius/sessions", world.reseller_viewer).json()["items"]
    assert [s["acct_session_id"] for s in own] == ["A1"]
    stopped = world.get("/radius/sessions", params={"state": "stopped"}).json()["items"]
    assert [s["acct_session_id"] for s in stopped] == ["X1"]
    _problem(world.get("/radius/sessions", params={"state": "bogus"}), 422, "validation-error")
    first = world.get("/radius/sessions", params={"limit": 2}).json()
    rest = world.get("/radius/sessions", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [s["acct_session_id"] for s in first["items"] + rest["items"]] == ["X1", "Z1", "A1"]
    forged = world.get("/radius/sessions", params={"cursor": encode_cursor(["abc"])})
    _problem(forged, 422, "validation-error")


def test_nas_are_registered_by_operator_admins_and_their_secret_never_shown(world: World) -> None:
    body = {"name": "bng1", "ip": "192.0.2.1", "secret": "s3cret-value", "coa_port": 3799}
    _problem(world.post("/nas", world.reseller_admin, json=body), 403, "forbidden")
    _problem(world.post("/nas", world.operator_viewer, json=body), 403, "forbidden")
    created = world.post("/nas", json=body)
    assert created.status_code == 201 and "secret" not in created.json()
    assert "s3cret-value" not in created.text
    _problem(world.post("/nas", json={**body, "name": "bng2"}), 409, "nas-taken")
    _problem(world.post("/nas", json={**body, "ip": "999.1.1.1", "name": "bng3"}), 422, "validation-error")
    listed = world.get("/nas")
    assert [n["name"] for n in listed.json()["items"]] == ["bng1"] and "s3cret-value" not in listed.text
    with world.site.engine.connect() as connection:
        stored = connection.execute(select(nas_table.c.secret_encrypted)).scalar_one()
    assert "s3cret-value" not in stored
    assert world.call("DELETE", f"/nas/{created.json()['id']}", world.operator_admin).status_code == 204
    assert world.get("/nas").json()["items"] == []
