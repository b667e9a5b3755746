"""`PATCH /api/v1/offices/{id}` and `GET /api/v1/offices?q=` (issue 14, item 1), on both databases."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.api.conftest import World
from tests.e2e.catalog.test_offices_and_services_api import _problem, call


def _office(world: World, name: str = "2.14", **extra: Any) -> dict[str, Any]:
    created = world.post("/offices", json={"name": name, "floor": "2", "capacity": 4, **extra})
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def _patch(world: World, office_id: str, body: Any, token: str | None = None) -> Any:
    return call(world, "PATCH", f"/offices/{office_id}", token, json=body)


def test_patch_changes_only_the_fields_present_and_null_clears_floor_and_capacity(world: World) -> None:
    office = _office(world)
    renamed = _patch(world, office["id"], {"name": "2.14 East"})
    assert renamed.status_code == 200, renamed.text
    assert {k: renamed.json()[k] for k in ("id", "name", "floor", "capacity")} == {
        "id": office["id"],
        "name": "2.14 East",
        "floor": "2",
        "capacity": 4,
    }
    cleared = _patch(world, office["id"], {"floor": None, "capacity": None}).json()
    assert (cleared["name"], cleared["floor"], cleared["capacity"]) == ("2.14 East", None, None)
    listed = world.get("/offices").json()["items"]
    assert [(o["name"], o["floor"], o["capacity"]) for o in listed] == [("2.14 East", None, None)]


@pytest.mark.parametrize(
    "body",
    [
        {"name": None},
        {"name": ""},
        {"name": "x" * 101},
        {"name": "2.1\u00004"},
        {"floor": "f" * 51},
        {"floor": "1\n2"},
        {"capacity": -1},
        {"capacity": 100_001},
        {"capacity": "four"},
        {"colour": "red"},
        {"name": "2.15"},
        [],
    ],
)
def test_patch_refuses_what_create_refuses_and_changes_nothing(world: World, body: Any) -> None:
    office = _office(world)
    _office(world, "2.15")
    _problem(_patch(world, office["id"], body), 422, "validation-error")
    listed = {o["name"]: (o["floor"], o["capacity"]) for o in world.get("/offices").json()["items"]}
    assert listed == {"2.14": ("2", 4), "2.15": ("2", 4)}


def test_only_operator_admins_patch_and_an_unknown_office_is_404(world: World) -> None:
    office = _office(world)
    for token in (world.reseller_admin, world.operator_viewer, world.portal):
        _problem(_patch(world, office["id"], {"name": "Mine"}, token), 403, "forbidden")
    _problem(_patch(world, "no-such-office", {"name": "x"}), 404, "not-found")
    anonymous = world.client.patch(f"/api/v1/offices/{office['id']}", json={"name": "x"})
    _problem(anonymous, 401, "unauthorized")
    assert world.get("/offices").json()["items"][0]["name"] == "2.14"


def test_the_office_list_searches_names_in_any_case_and_literally(world: World) -> None:
    for name in ("2.14 East", "2.15", "3.01", "100% Studio"):
        _office(world, name)
    held = _office(world, "2.16")
    assert call(world, "PUT", f"/accounts/{world.own_client.id}/offices/{held['id']}").status_code == 200

    def names(**params: str) -> list[str]:
        response = world.get("/offices", params=params)
        assert response.status_code == 200, response.text
        return [o["name"] for o in response.json()["items"]]

    assert names(q="2.1") == ["2.14 East", "2.15", "2.16"]
    assert names(q="2.1", free="true") == ["2.14 East", "2.15"]
    assert names(q="EAST") == ["2.14 East"]
    assert names(q="0%") == ["100% Studio"]
    _problem(world.get("/offices", params={"q": "x" * 101}), 422, "validation-error")
    _problem(world.get("/offices", params={"q": "2\u00001"}), 422, "validation-error")
