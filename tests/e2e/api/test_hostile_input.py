"""Bad input never costs memory or a 500 (issue 10): control characters, NUL, oversized bodies, dates, refs.

Each case is what an attacker or a careless script sent; each answer is a
4xx problem+json with a stable code, on SQLite and PostgreSQL (a NUL used to
reach PostgreSQL, which cannot store one, and answer 500).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from tenure.config import Settings
from tenure.entrypoints.app import create_app
from tests.e2e.api.conftest import API, World
from tests.support import Installation

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

EMAIL = {"email": "ops@fine.example"}


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["status"] == status
    return body


def _client_body(world: World, **fields: Any) -> dict[str, Any]:
    return {"kind": "client", "parent_id": world.own_channel.id, "name": "Fine Ltd", "main_contact": EMAIL, **fields}


# (what, request builder) -> the field the 422 names
CONTROL_CASES: dict[str, tuple[str, str, Any, str]] = {
    "LF in a name": ("POST", "/accounts", {"name": "Acme\nX: y"}, "name"),
    "CR in a name": ("POST", "/accounts", {"name": "Acme\rLtd"}, "name"),
    "NUL in a name": ("POST", "/accounts", {"name": "Acme\x00"}, "name"),
    "C1 (NEL) in a name": ("POST", "/accounts", {"name": "Acme\x85Ltd"}, "name"),
    "tab in a name": ("POST", "/accounts", {"name": "Acme\tLtd"}, "name"),
    "LF in a contact name": (
        "POST",
        "/accounts",
        {"main_contact": {"email": "a@b.example", "name": "Jane\nBcc: x"}},
        "main_contact.name",
    ),
    "LF in notes": ("POST", "/accounts", {"notes": "line one\nline two"}, "notes"),
    "NUL in a parent id": ("POST", "/accounts", {"parent_id": "01\x00"}, "parent_id"),
    "LF in a renamed name": ("PATCH", "/accounts/{client}", {"name": "Acme\nX: y"}, "name"),
    "ESC in patched notes": ("PATCH", "/accounts/{client}", {"notes": "\x1b[31mred"}, "notes"),
    "LF in a hold's note": ("POST", "/accounts/{client}/suspend", {"reason": "fraud", "note": "a\nb"}, "note"),
    "LF in an office name": ("POST", "/offices", {"name": "2.14\nX"}, "name"),
    "NUL in a service label": (
        "POST",
        "/accounts/{client}/services",
        {"kind": "broadband", "label": "Fibre\x00", "monthly_price": "1.00"},
        "label",
    ),
}


@pytest.mark.parametrize("case", list(CONTROL_CASES.values()), ids=list(CONTROL_CASES))
def test_control_characters_are_refused_naming_the_field(world: World, case: tuple[str, str, Any, str]) -> None:
    method, path, fields, field = case
    body = _client_body(world, **fields) if path == "/accounts" else fields
    response = world.call(method, path.format(client=world.own_client.id), world.operator_admin, json=body)
    problem = _problem(response, 422, "validation-error")
    assert problem["field"] == field


def test_a_tab_is_allowed_in_notes(world: World) -> None:
    response = world.post("/accounts", json=_client_body(world, notes="col one\tcol two"))
    assert response.status_code == 201, response.text
    assert response.json()["notes"] == "col one\tcol two"


@pytest.mark.parametrize(
    "path",
    [
        "/accounts?q=%00",
        "/accounts?q=a%00b",
        "/accounts?cursor=%00",
        "/accounts/%00",
        "/accounts/%00/events",
        "/users?account_id=%00",
    ],
)
def test_a_nul_in_the_address_is_422_not_500(world: World, path: str) -> None:
    response = world.client.get(API + path, headers={"Authorization": f"Bearer {world.operator_admin}"})
    _problem(response, 422, "validation-error")


def test_a_nul_in_a_form_is_422_not_500(world: World) -> None:
    response = world.client.post(API + "/auth/token", data={"username": "a\x00@b.example", "password": "x" * 10})
    _problem(response, 422, "validation-error")


def test_the_console_search_with_a_nul_is_422_not_500(world: World) -> None:
    response = world.client.get("/clients?q=%00")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")


def test_a_start_date_whose_default_end_overflows_is_422(world: World) -> None:
    response = world.post("/accounts", json=_client_body(world, start_date="9999-12-31"))
    assert _problem(response, 422, "validation-error")["field"] == "start_date"
    fine = world.post("/accounts", json=_client_body(world, start_date="9999-01-01", end_date="9999-12-31"))
    assert fine.status_code == 201, fine.text


@pytest.mark.parametrize("value", ["-4.4e-271", "0", "1793577600", "2026-11-1", "2026/11/01", "20261101"])
def test_charges_take_only_yyyy_mm_dd(world: World, value: str) -> None:
    """A number is not read as a Unix timestamp (-4.4e-271 was 1970-01-01; 1793577600 was 2026-11-02)."""
    path = f"/accounts/{world.own_client.id}/charges"
    _problem(world.get(path, params={"from": "2026-11-01", "to": value}), 422, "validation-error")
    _problem(world.get(path, params={"from": value, "to": "2026-11-30"}), 422, "validation-error")
    assert world.get(path, params={"from": "2026-11-01", "to": "2026-11-30"}).status_code == 200


def test_a_number_where_a_date_belongs_in_a_body_is_422(world: World) -> None:
    """Midnight timestamps used to pass as dates: 1830297600 was 2028-01-01, 1798761600 2027-01-01."""
    _problem(world.post("/accounts", json=_client_body(world, end_date=1830297600)), 422, "validation-error")
    response = world.post(f"/accounts/{world.own_client.id}/decommission", json={"on": 1798761600})
    _problem(response, 422, "validation-error")
    assert world.get(f"/accounts/{world.own_client.id}").json()["decommission_on"] is None


def test_billing_refs_are_unique_in_any_letter_case(world: World) -> None:
    taken = world.get(f"/accounts/{world.own_client.id}").json()["billing_ref"]
    response = world.post("/accounts", json=_client_body(world, billing_ref=taken.lower()))
    _problem(response, 409, "billing-ref-taken")
    patch = world.call(
        "PATCH", f"/accounts/{world.other_client.id}", world.operator_admin, json={"billing_ref": taken.lower()}
    )
    _problem(patch, 409, "billing-ref-taken")


# -- the body limit ------------------------------------------------------------------------------
@pytest.fixture
def small_limit(site: Installation) -> Iterator[TestClient]:
    settings = Settings(database_url=str(site.engine.url), max_body_bytes=1000)
    with TestClient(create_app(settings, engine=site.engine, clock=site.clock)) as client:
        yield client


def test_a_body_over_the_limit_is_413_before_authentication(small_limit: TestClient) -> None:
    big = b'{"name": "' + b"x" * 2000 + b'"}'
    response = small_limit.post(API + "/accounts", content=big, headers={"Content-Type": "application/json"})
    body = _problem(response, 413, "payload-too-large")
    assert "1000" in body["detail"]


def test_a_chunked_body_without_a_length_is_counted_and_cut_off(small_limit: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(50):
            yield b"x" * 100

    response = small_limit.post(API + "/accounts", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in {k.lower() for k in response.request.headers}
    _problem(response, 413, "payload-too-large")


def test_a_form_over_the_limit_is_413_on_the_console_too(small_limit: TestClient) -> None:
    response = small_limit.post("/login", data={"email": "a@b.example", "password": "p" * 5000})
    assert response.status_code == 413


def test_the_default_limit_is_one_mebibyte(world: World) -> None:
    just_over = b"x" * (1024 * 1024 + 1)
    response = world.client.post(API + "/accounts", content=just_over, headers={"Content-Type": "application/json"})
    _problem(response, 413, "payload-too-large")
    under = world.client.post(API + "/accounts", content=b"x" * 1000, headers={"Content-Type": "application/json"})
    assert under.status_code == 422  # within the limit: read, and refused for what it says
