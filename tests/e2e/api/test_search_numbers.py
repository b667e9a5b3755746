"""`GET /accounts?q=`: a number the client holds, in any spelling, and the main contact's email.

Runs on SQLite and PostgreSQL (the `site` fixture), whose SQL differs (number_search.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.api.conftest import World

OWN_NUMBER = "+442079460123"
OTHER_NUMBER = "+442079460999"


@pytest.fixture
def numbered(world: World) -> World:
    """Acme (own tenant) holds +44 20 7946 0123, Zenith (the other tenant) +44 20 7946 0999."""
    add_number(world, world.own_client.id, "+44 20 7946 0123")
    add_number(world, world.other_client.id, "+44 20 7946 0999")
    world.site.client(world.own_channel.id, "Old Number Ltd", email="Billing@Old-Number.example")
    return world


def add_number(world: World, account_id: str, number: str) -> dict[str, Any]:
    response = world.post(
        f"/accounts/{account_id}/services",
        json={"kind": "phone_number", "label": number, "monthly_price": "5.00"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def names(world: World, q: str, token: str | None = None, **params: Any) -> list[str]:
    response = world.get("/accounts", token, params={"q": q, "limit": 500, **params})
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


@pytest.mark.parametrize(
    "q",
    [
        "+442079460123",
        "+44 20 7946 0123",
        "00442079460123",
        "0044 20 7946 0123",
        " +44 (0)20 7946-0123 ",
        "+44.20.7946.0123",
        "+44 20 7946",  # the start of a number: a block of numbers
    ],
)
def test_a_number_in_any_spelling_finds_its_holder(numbered: World, q: str) -> None:
    found = names(numbered, q, kind="client")
    assert "Acme Ltd" in found
    assert found == (["Acme Ltd", "Zenith Ltd"] if q.strip() == "+44 20 7946" else ["Acme Ltd"])


@pytest.mark.parametrize("q", ["2079460123", "7946 0123", "+44 20", "44207946012x"])
def test_a_term_that_is_not_the_start_of_an_international_number_finds_no_number(numbered: World, q: str) -> None:
    assert names(numbered, q, kind="client") == []


def test_a_tenant_never_finds_another_tenants_client_by_number(numbered: World) -> None:
    for token in (numbered.reseller_admin, numbered.reseller_viewer):
        assert names(numbered, "+44 20 7946 0999", token) == []
        assert names(numbered, "00442079460999", token) == []
        assert names(numbered, "+44 20 7946", token) == ["Acme Ltd"]
    assert names(numbered, OWN_NUMBER, numbered.portal) == ["Acme Ltd"]
    assert names(numbered, OTHER_NUMBER, numbered.portal) == []
    assert names(numbered, OTHER_NUMBER) == ["Zenith Ltd"]  # the operator sees both tenants


def test_a_removed_number_no_longer_finds_the_client(numbered: World) -> None:
    service = add_number(numbered, numbered.own_client.id, "+44 20 7946 0555")
    assert names(numbered, "+44 20 7946 0555") == ["Acme Ltd"]
    response = numbered.call(
        "DELETE", f"/accounts/{numbered.own_client.id}/services/{service['id']}", numbered.operator_admin
    )
    assert response.status_code == 204
    assert names(numbered, "+44 20 7946 0555") == []


@pytest.mark.parametrize(
    "q", ["billing@old-number.example", "BILLING@OLD-NUMBER.EXAMPLE", "old-number.example", "Billing@"]
)
def test_the_main_contacts_email_any_case_and_any_part(numbered: World, q: str) -> None:
    assert names(numbered, q) == ["Old Number Ltd"]


def test_another_tenants_email_is_not_found(numbered: World) -> None:
    assert names(numbered, "zenith.ltd@example.com") == ["Zenith Ltd"]
    assert names(numbered, "zenith.ltd@example.com", numbered.reseller_admin) == []


def test_a_number_term_still_matches_names_and_billing_refs(numbered: World) -> None:
    named = numbered.site.client(numbered.own_channel.id, "Call +44 20 7946 0123 Ltd")
    found = names(numbered, "+44 20 7946 0123")
    assert found == ["Acme Ltd", named.name]


def test_a_number_search_pages_and_filters_like_any_other(numbered: World) -> None:
    for n in range(3):
        client = numbered.site.client(numbered.own_channel.id, f"Block {n}")
        add_number(numbered, client.id, f"+44 20 7946 01{n}0")
    first = numbered.get("/accounts", params={"q": "+44 20 7946 01", "limit": 2}).json()
    second = numbered.get(
        "/accounts", params={"q": "+44 20 7946 01", "limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [i["name"] for i in first["items"] + second["items"]] == ["Acme Ltd", "Block 0", "Block 1", "Block 2"]
    assert names(numbered, "+44 20 7946 01", within=numbered.other_reseller.id) == []


@pytest.mark.parametrize("param", ["q", "within"])
@pytest.mark.parametrize("value", ["a\x00b", "+44\x00 20 7946 0123", "x\x1fy"])
def test_control_characters_in_a_search_are_bad_input_not_a_crash(world: World, param: str, value: str) -> None:
    response = world.get("/accounts", params={param: value})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation-error"
