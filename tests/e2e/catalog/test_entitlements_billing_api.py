"""Entitlements, billing and the policy over HTTP: the number lookup never serves a stale "allowed"."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.e2e.api.conftest import World
from tests.integration.catalog_kit import statements

NUMBER = "+442079460000"


def _lookup(world: World, capability: str = "outbound_calls", token: str | None = None) -> Any:
    return world.get(f"/entitlements/numbers/{NUMBER}", token, params={"capability": capability})


def _with_number(world: World) -> None:
    body = {"kind": "phone_number", "label": "+44 20 7946 0000", "monthly_price": "12.00"}
    assert world.post(f"/accounts/{world.own_client.id}/services", json=body).status_code == 201


def test_the_next_lookup_after_a_suspension_is_denied_and_allowed_again_after_unsuspension(world: World) -> None:
    _with_number(world)
    assert _lookup(world).json() == {
        "number": NUMBER,
        "account_id": world.own_client.id,
        "capability": "outbound_calls",
        "allowed": True,
        "because": "active",
    }
    suspended = world.post(f"/accounts/{world.own_channel.id}/suspend", json={"reason": "fraud"})
    assert suspended.status_code == 200
    denied = _lookup(world).json()
    assert denied["allowed"] is False
    assert denied["because"] == "suspended: fraud hold on channel North Sales since 2026-11-23"
    inbound = _lookup(world, "inbound_calls").json()
    assert inbound["allowed"] is True
    assert world.post(f"/accounts/{world.own_channel.id}/unsuspend", json={}).status_code == 200
    assert _lookup(world).json()["allowed"] is True


class CountingRunner:
    """The hot path's statement runner, counting the statements it runs (PostgreSQL's bypass SQLAlchemy)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.count = inner, 0

    async def rows(self, statement: Any, params: dict[str, Any]) -> Any:
        self.count += 1
        return await self.inner.rows(statement, params)

    async def close(self) -> None:
        await self.inner.close()


def test_a_lookup_is_one_statement_once_its_credential_is_cached(world: World) -> None:
    _with_number(world)
    hot_path = world.client.app.state.ctx.hot_path  # type: ignore[attr-defined]
    hot_path.runner = runner = CountingRunner(hot_path.runner)
    assert _lookup(world).status_code == 200  # the first one checks the token and caches it
    assert runner.count == 1
    sqlite = world.site.engine.dialect.name == "sqlite"
    for ask in (_lookup, lambda w: w.get(f"/accounts/{w.own_client.id}/entitlements")):
        with statements(world.site.engine) as others:
            assert ask(world).status_code == 200
        assert runner.count == 2
        assert others.count == (1 if sqlite else 0), others.statements  # SQLite's runs on the engine
        runner.count = 1


def test_lookup_answers_for_unknown_foreign_and_malformed_numbers(world: World) -> None:
    _with_number(world)
    assert _lookup(world, token=world.reseller_viewer).status_code == 200
    assert _lookup(world, token=world.portal).status_code == 200
    other = world.post(
        f"/accounts/{world.other_client.id}/services",
        json={"kind": "phone_number", "label": "+442079460001", "monthly_price": "1.00"},
    )
    assert other.status_code == 201
    hidden = world.get(
        "/entitlements/numbers/+442079460001", world.reseller_admin, params={"capability": "inbound_calls"}
    )
    assert (hidden.status_code, hidden.json()["code"]) == (404, "not-found")
    assert world.get("/entitlements/numbers/+442079460999", params={"capability": "inbound_calls"}).status_code == 404
    bad = world.get("/entitlements/numbers/0800-BAD", params={"capability": "inbound_calls"})
    assert (bad.status_code, bad.json()["code"]) == (422, "validation-error")
    assert world.get(f"/entitlements/numbers/{NUMBER}", params={"capability": "teleport"}).status_code == 422
    assert world.get(f"/entitlements/numbers/{NUMBER}").status_code == 422
    unsigned = world.call("GET", f"/entitlements/numbers/{NUMBER}", None, params={"capability": "inbound_calls"})
    assert unsigned.status_code == 401


def test_account_entitlements(world: World) -> None:
    world.post(f"/accounts/{world.own_client.id}/suspend", json={"reason": "non_payment"})
    found = world.get(f"/accounts/{world.own_client.id}/entitlements", world.portal).json()
    assert (found["account_id"], found["status"], found["billed"]) == (world.own_client.id, "suspended", True)
    assert set(found["capabilities"]) == {
        "outbound_calls",
        "inbound_calls",
        "internet",
        "local_network",
        "portal_login",
    }
    assert found["capabilities"]["outbound_calls"] == {
        "allowed": False,
        "because": "suspended: non-payment hold on client Acme Ltd since 2026-11-23",
    }
    assert world.get(f"/accounts/{world.other_client.id}/entitlements", world.portal).status_code == 404


def test_charges_for_a_period_and_the_month_csv(world: World) -> None:
    _with_number(world)
    charges = world.get(f"/accounts/{world.own_client.id}/charges", params={"from": "2026-11-01", "to": "2026-12-31"})
    assert charges.status_code == 200
    body = charges.json()
    assert [(line["month"], line["days"], line["amount"], line["service"]) for line in body["lines"]] == [
        ("2026-11", 8, "3.20", "phone_number"),  # 23rd-30th: 12.00 * 8 / 30
        ("2026-12", 31, "12.00", "phone_number"),
    ]
    assert body["total"] == "15.20"
    assert world.get(f"/accounts/{world.own_client.id}/charges").json()["total"] == "3.20"  # this month
    response = world.get("/charges.csv", world.reseller_viewer, params={"month": "2026-11"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["billing_ref", "client", "service", "label", "month", "days", "amount"]
    assert rows[1][1:] == ["Acme Ltd", "phone_number", NUMBER, "2026-11", "8", "3.20"]


BAD_BILLING: list[tuple[str, dict[str, str]]] = [
    ("/charges.csv", {"month": "2026-13"}),
    ("/charges.csv", {"month": "2026-1"}),
    ("/charges.csv", {}),
    ("/accounts/{id}/charges", {"from": "2026-12-01", "to": "2026-11-01"}),
    ("/accounts/{id}/charges", {"from": "1900-01-01", "to": "2026-11-01"}),
    ("/accounts/{id}/charges", {"from": "yesterday"}),
]


def test_bad_billing_input_is_a_422_problem(world: World) -> None:
    for path, params in BAD_BILLING:
        response = world.get(path.format(id=world.own_client.id), params=params)
        assert response.status_code == 422, (path, params)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "validation-error"


def test_the_policy_is_read_by_all_and_set_by_operator_admins(world: World) -> None:
    _with_number(world)
    world.post(f"/accounts/{world.own_client.id}/suspend", json={"reason": "fraud"})
    assert world.get("/policy", world.portal).json()["name"] == "connect"
    refused = world.call("PUT", "/policy", world.reseller_admin, json={"preset": "metis"})
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert _lookup(world, "internet").json()["allowed"] is False
    metis = world.call("PUT", "/policy", world.operator_admin, json={"preset": "metis"})
    assert metis.status_code == 200 and metis.json()["custom"] is False
    assert _lookup(world, "internet").json()["allowed"] is True
    matrix = metis.json()["matrix"]
    matrix["internet"]["suspended"] = False
    custom = world.call("PUT", "/policy", world.operator_admin, json={"matrix": matrix})
    assert custom.status_code == 200 and custom.json()["custom"] is True
    assert _lookup(world, "internet").json()["allowed"] is False
    for body in ({}, {"preset": "metis", "matrix": matrix}, {"matrix": {"internet": {}}}, {"preset": "other"}):
        bad = world.call("PUT", "/policy", world.operator_admin, json=body)
        assert (bad.status_code, bad.json()["code"]) == (422, "validation-error"), body
    assert world.get("/policy").json()["name"] == "custom"
