"""Offices and services over HTTP (api.md "Offices and services"): shapes, codes, nothing half-written."""

from __future__ import annotations

from typing import Any

from tenure.domain.model import ClientType
from tests.e2e.api.conftest import World


def call(world: World, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
    """Any method, as the operator's admin unless told otherwise."""
    return world.call(method, path, token or world.operator_admin, **kwargs)


def _problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


def test_offices_are_created_listed_assigned_and_released(world: World) -> None:
    created = world.post("/offices", json={"name": "2.14", "floor": "2", "capacity": 4})
    assert created.status_code == 201
    office = created.json()
    assert {k: office[k] for k in ("name", "floor", "capacity")} == {"name": "2.14", "floor": "2", "capacity": 4}
    _problem(world.post("/offices", world.reseller_admin, json={"name": "9.99"}), 403, "forbidden")
    _problem(world.post("/offices", json={"name": "2.15", "colour": "red"}), 422, "validation-error")

    path = f"/accounts/{world.own_client.id}/offices/{office['id']}"
    assigned = call(world, "PUT", path, world.reseller_admin)
    assert assigned.status_code == 200
    assert assigned.json()["offices"] == [{"id": office["id"], "name": "2.14"}]
    assert assigned.headers["ETag"] == f'"{assigned.json()["version"]}"'
    assert world.get("/offices", params={"free": "true"}).json()["items"] == []
    held = world.get("/offices").json()["items"][0]
    assert held["held_by"] == {"id": world.own_client.id, "name": "Acme Ltd"} and held["free"] is False

    before = world.event_count(world.other_client.id)
    _problem(call(world, "PUT", f"/accounts/{world.other_client.id}/offices/{office['id']}"), 409, "office-taken")
    assert world.event_count(world.other_client.id) == before

    assert call(world, "DELETE", path, world.reseller_admin).status_code == 204
    _problem(call(world, "DELETE", path, world.reseller_admin), 404, "not-found")
    assert [o["name"] for o in world.get("/offices", params={"free": "true"}).json()["items"]] == ["2.14"]


def test_a_virtual_client_gets_no_office_and_a_stale_if_match_changes_nothing(world: World) -> None:
    office = world.post("/offices", json={"name": "1.01"}).json()
    virtual = world.site.client(name="Virtual Ltd", client_type=ClientType.VIRTUAL)
    _problem(call(world, "PUT", f"/accounts/{virtual.id}/offices/{office['id']}"), 409, "invalid-transition")
    path = f"/accounts/{world.own_client.id}/offices/{office['id']}"
    _problem(call(world, "PUT", path, world.operator_admin, headers={"If-Match": '"99"'}), 412, "version-conflict")
    _problem(call(world, "PUT", path, world.reseller_viewer), 403, "forbidden")
    _problem(call(world, "PUT", f"/accounts/{world.other_client.id}/offices/x", world.reseller_admin), 404, "not-found")
    assert world.get(f"/accounts/{world.own_client.id}").json()["offices"] == []


def test_services_are_added_listed_and_removed(world: World) -> None:
    path = f"/accounts/{world.own_client.id}/services"
    created = world.post(path, json={"kind": "phone_number", "label": "+44 20 7946 0123", "monthly_price": "12.5"})
    assert created.status_code == 201, created.text
    service = created.json()
    assert (service["label"], service["monthly_price"], service["start_date"], service["end_date"]) == (
        "+442079460123",
        "12.50",
        "2026-11-23",
        None,
    )
    world.post(path, json={"kind": "internet", "label": "Fibre", "monthly_price": "45.00", "start_date": "2026-12-01"})
    assert [s["kind"] for s in world.get(path, world.portal).json()["items"]] == ["phone_number", "internet"]
    _problem(
        world.post(f"/accounts/{world.other_client.id}/services", json={**_number(), "label": "+442079460123"}),
        409,
        "number-taken",
    )
    assert call(world, "DELETE", f"{path}/{service['id']}").status_code == 204
    assert [s["kind"] for s in world.get(path).json()["items"]] == ["internet"]
    ended = world.get(path, params={"include_ended": "true"}).json()["items"]
    assert ended[0]["end_date"] == "2026-11-23"
    assert world.post(f"/accounts/{world.other_client.id}/services", json=_number("+442079460123")).status_code == 201


def _number(label: str = "+44 20 7946 0000", price: object = "12.00", **extra: object) -> dict[str, object]:
    return {"kind": "phone_number", "label": label, "monthly_price": price, **extra}


BAD_BODIES: list[dict[str, Any]] = [
    _number("020 7946 0000"),
    _number("+44 20 79"),
    _number(price="-1.00"),
    _number(price="ten"),
    _number(price="1.005"),
    _number(price=12),
    _number(price=None),
    _number(colour="red"),
    {"kind": "fax", "label": "x", "monthly_price": "1.00"},
    {"kind": "internet", "label": "", "monthly_price": "1.00"},
    {"kind": "internet", "label": "x", "monthly_price": "1.00", "start_date": "2026-02-30"},
]


def test_bad_service_input_is_422_and_writes_nothing(world: World) -> None:
    before = world.event_count(world.own_client.id)
    for body in BAD_BODIES:
        _problem(world.post(f"/accounts/{world.own_client.id}/services", json=body), 422, "validation-error")
    assert world.event_count(world.own_client.id) == before
    assert (
        world.get(f"/accounts/{world.own_client.id}/services", params={"include_ended": "true"}).json()["items"] == []
    )


def test_who_may_touch_services(world: World) -> None:
    path = f"/accounts/{world.own_client.id}/services"
    _problem(world.post(path, world.portal, json=_number()), 403, "forbidden")
    _problem(world.post(path, world.reseller_viewer, json=_number()), 403, "forbidden")
    _problem(
        world.post(f"/accounts/{world.other_client.id}/services", world.reseller_admin, json=_number()),
        404,
        "not-found",
    )
    _problem(world.get(f"/accounts/{world.other_client.id}/services", world.portal), 404, "not-found")
    _problem(world.post(f"/accounts/{world.own_channel.id}/services", json=_number()), 409, "invalid-transition")
    _problem(call(world, "DELETE", f"{path}/no-such-service"), 404, "not-found")
