"""`require_scope` is the dependency the RADIUS routes (and any key-facing route) use: a key needs the scope."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import pytest
from fastapi import Depends

from tenure.domain.access import Caller, Scope
from tenure.entrypoints.api.deps import require_scope
from tests.e2e.api.conftest import TestClient, World, app_for, bearer, build_world
from tests.support import Installation


@pytest.fixture
def world(site: Installation) -> Iterator[World]:
    app = app_for(site)

    @app.post("/api/v1/radius/probe")
    def probe(caller: Annotated[Caller, Depends(require_scope(Scope.RADIUS))]) -> dict[str, str]:
        return {"account_id": caller.account_id}

    with TestClient(app) as client:
        yield build_world(site, client)


@pytest.mark.parametrize(
    ("scopes", "status"),
    [(["radius"], 200), (["entitlements:read", "radius"], 200), (["read"], 403), (["entitlements:read"], 403)],
)
def test_a_radius_route_answers_only_keys_with_the_radius_scope(world: World, scopes: list[str], status: int) -> None:
    key = world.post("/api-keys", json={"name": "freeradius", "scopes": scopes}).json()["key"]
    answer = world.client.post("/api/v1/radius/probe", headers=bearer(key))
    assert answer.status_code == status
    if status == 200:
        assert answer.json() == {"account_id": world.site.operator_id}
    else:
        assert answer.json()["code"] == "forbidden"


def test_a_users_token_passes_the_scope_check_and_no_credential_is_401(world: World) -> None:
    assert world.client.post("/api/v1/radius/probe", headers=bearer(world.operator_admin)).status_code == 200
    assert world.client.post("/api/v1/radius/probe").status_code == 401
