"""The console refuses control characters with the same rule as the API, shown beside the field."""

from __future__ import annotations

import pytest

from tests.e2e.api.conftest import World, console_csrf, console_sign_in


@pytest.mark.parametrize(
    ("field", "value", "shown_on"),
    [
        ("name", "Acme\nX: y", "name"),
        ("name", "Acme\x85Ltd", "name"),
        ("contact_name", "Jane\rSmith", "contact_name"),
        ("notes", "one\ntwo", "notes"),
    ],
)
def test_an_edit_with_a_control_character_is_refused_on_its_field(
    world: World, field: str, value: str, shown_on: str
) -> None:
    console_sign_in(world)
    path = f"/clients/{world.own_client.id}/edit"
    form = {
        "csrf_token": console_csrf(world, path),
        "version": str(world.site.get(world.own_client.id).version),
        "name": "Acme Ltd",
        "contact_name": "",
        "contact_email": "ops@acme.example",
        "notes": "",
        field: value,
    }
    response = world.client.post(path, data=form, follow_redirects=False)
    assert response.status_code in (200, 422), response.text[:300]
    assert "must not contain control characters" in response.text
    assert f'aria-invalid="true" aria-describedby="{shown_on}-error"' in response.text
    assert world.site.get(world.own_client.id).name == "Acme Ltd"


def test_the_console_search_with_a_nul_is_refused_signed_in(world: World) -> None:
    console_sign_in(world)
    assert world.client.get("/clients?q=%00").status_code == 422
    assert world.client.get("/clients?q=acme").status_code == 200
