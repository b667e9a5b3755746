"""The console shows a service's network id and sets it (issue 12 §1), through the same service call as the API."""

from __future__ import annotations

from tenure.adapters.db.lines import LineRepository
from tests.e2e.api.conftest import TestClient, app_for
from tests.radius_kit import internet
from tests.support import ADMIN_EMAIL, PASSWORD, Installation


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def test_the_client_page_shows_and_sets_network_ids(site: Installation) -> None:
    acme, zenith = site.client(name="Acme Ltd"), site.client(name="Zenith Ltd")
    service = internet(site, acme.id, "acme-ppp1")
    internet(site, zenith.id, "zenith-ppp1")
    with TestClient(app_for(site), follow_redirects=False) as http:
        token = _csrf(http.get("/login").text)
        assert (
            http.post("/login", data={"email": ADMIN_EMAIL, "password": PASSWORD, "csrf_token": token}).status_code
            == 303
        )
        page = http.get(f"/clients/{acme.id}").text
        assert "acme-ppp1" in page and "Network ID of" in page
        form = f"/clients/{acme.id}/services/{service.id}/network-id"
        changed = http.post(form, data={"network_id": "acme-ppp2", "csrf_token": _csrf(page)})
        assert changed.status_code == 303
        page = http.get(f"/clients/{acme.id}").text
        assert "Network ID of Internet acme-ppp1 set to acme-ppp2" in page and 'value="acme-ppp2"' in page
        assert "network ID of Internet acme-ppp1: acme-ppp1 → acme-ppp2" in page  # the audit trail
        taken = http.post(form, data={"network_id": "zenith-ppp1", "csrf_token": _csrf(page)})
        assert taken.status_code == 409 and "held by another" in taken.text
        cleared = http.post(form, data={"network_id": " ", "csrf_token": _csrf(page)})
        assert cleared.status_code == 303
    with site.uow().reading() as uow:
        assert LineRepository(uow.connection).get(service.id, account_id=acme.id).network_id is None
