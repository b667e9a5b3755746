"""Where webhooks may go (api.md "Webhooks"): anywhere for the operator, only public addresses for partners.

Checked at creation (422 on `url`) and again before every delivery after
DNS, so a partner's name that later resolves inside the provider's network
(DNS rebinding) gets nothing sent; the delivery records why and the others
in the pass go out.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from tenure.adapters.destinations import DestinationGuard
from tenure.config import Settings
from tenure.domain.destinations import parse_networks
from tests.e2e.api.conftest import TestClient, World, app_for, bearer
from tests.e2e.webhooks.test_deliveries import _deliveries, _suspend
from tests.receivers import http_receiver
from tests.unit.test_destinations import FakeDns
from tests.worker_support import worker_for

EVENTS = ["account.suspended"]
PUBLIC = "93.184.215.14"
INTERNAL_URLS = [
    "http://127.0.0.1:8080/hook",
    "http://[::1]/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://10.0.0.7/hook",
    "http://192.168.1.1/hook",
    "http://0.0.0.0:9/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://localhost:8000/hook",
]


def _create(world: World, token: str, url: str, **extra: Any) -> Any:
    return world.post("/webhooks", token, json={"url": url, "events": EVENTS, **extra})


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_a_partner_admin_cannot_target_internal_addresses(shared_world: World, url: str) -> None:
    refused = _create(shared_world, shared_world.reseller_admin, url)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "validation-error" and refused.json()["field"] == "url"
    assert "public addresses" in refused.json()["detail"]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_the_operators_admins_may_target_any_address(shared_world: World, url: str) -> None:
    assert _create(shared_world, shared_world.operator_admin, url).status_code == 201


def test_a_partner_may_target_a_public_address(shared_world: World) -> None:
    assert _create(shared_world, shared_world.reseller_admin, f"https://{PUBLIC}/hook").status_code == 201


def test_the_allowed_networks_let_partners_reach_what_the_operator_lists(world: World) -> None:
    with TestClient(app_for(world.site, webhook_allowed_networks="10.20.0.0/16")) as allowing:
        body = {"url": "http://10.20.3.4:8443/hook", "events": EVENTS}
        assert allowing.post("/api/v1/webhooks", json=body, headers=bearer(world.reseller_admin)).status_code == 201
        body["url"] = "http://10.21.3.4/hook"
        assert allowing.post("/api/v1/webhooks", json=body, headers=bearer(world.reseller_admin)).status_code == 422
    with pytest.raises(ValidationError, match="not a CIDR"):
        Settings(webhook_allowed_networks="10.20.0.0/16, intranet")


def test_credentials_in_a_url_are_shown_only_in_the_creation_answer(world: World) -> None:
    url = f"https://hooks:s3cret-pass@{PUBLIC}/in"
    created = _create(world, world.reseller_admin, url).json()
    assert created["url"] == url
    shown = world.get(f"/webhooks/{created['id']}", world.reseller_admin).json()
    listed = world.get("/webhooks").json()["items"]
    assert shown["url"] == f"https://***@{PUBLIC}/in"
    assert [w["url"] for w in listed] == [f"https://***@{PUBLIC}/in"]


def test_a_delivery_whose_host_now_resolves_inside_is_not_sent_and_the_others_go(world: World) -> None:
    dns = FakeDns({"rebind.test": [PUBLIC]})
    world.client.app.state.ctx.destinations = DestinationGuard((), dns)  # type: ignore[attr-defined]
    with http_receiver() as receiver:
        port = receiver.url.rsplit(":", 1)[1]
        partner = _create(world, world.reseller_admin, f"http://user:pw-123@rebind.test:{port}/partner").json()
        operator = _create(world, world.operator_admin, receiver.url + "/operator").json()
        dns.answers["rebind.test"] = ["127.0.0.1"]  # the name now points at the receiver, inside
        _suspend(world, world.own_channel.id)
        worker_for(world.site, destinations=DestinationGuard((), dns)).one_pass()
        assert receiver.on("/partner") == []
        assert len(receiver.on("/operator")) == 1
    (refused,) = _deliveries(world, partner["id"])
    assert refused["status"] == "pending" and refused["attempts"] == 1  # retried: it is checked again each time
    assert "rebind.test resolves to a refused address: 127.0.0.1 is a loopback address" in refused["last_error"]
    assert "pw-123" not in refused["last_error"]
    assert [d["status"] for d in _deliveries(world, operator["id"])] == ["delivered"]


def test_a_partners_delivery_goes_to_the_checked_address_under_its_own_name(world: World) -> None:
    dns = FakeDns({"hooks.test": ["127.0.0.1"]})
    loopback_allowed = DestinationGuard(parse_networks("127.0.0.1/32"), dns)
    world.client.app.state.ctx.destinations = loopback_allowed  # type: ignore[attr-defined]
    with http_receiver() as receiver:
        port = receiver.url.rsplit(":", 1)[1]
        partner = _create(world, world.reseller_admin, f"http://hooks.test:{port}/partner").json()
        _suspend(world, world.own_channel.id)
        worker_for(world.site, destinations=loopback_allowed).one_pass()
        (hit,) = receiver.on("/partner")
    assert hit.headers["host"] == f"hooks.test:{port}"
    assert [d["status"] for d in _deliveries(world, partner["id"])] == ["delivered"]


def test_url_credentials_reach_the_endpoint_as_basic_auth_and_never_the_logs(world: World) -> None:
    with http_receiver() as receiver, capture_logs() as logs:
        url = receiver.url.replace("http://", "http://hook:pw-123@") + "/creds"
        _create(world, world.operator_admin, url)
        _suspend(world, world.own_channel.id)
        worker_for(world.site).one_pass()
        (hit,) = receiver.on("/creds")
    assert hit.headers["authorization"] == "Basic " + base64.b64encode(b"hook:pw-123").decode()
    delivered = [entry for entry in logs if entry["event"] == "webhook delivered"]
    assert [entry["url"] for entry in delivered] == [receiver.url.replace("http://", "http://***@") + "/creds"]
    assert "pw-123" not in repr(logs)
