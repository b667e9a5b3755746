"""The client page's office, service and charge routes over HTTP, on both databases.

The browser tests drive these dialogs as a person would (SQLite); this file
holds the promises a person cannot see: CSRF, the role checked on the server,
a stale form, scoping of the client's CSV, and nothing written when refused.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterator
from datetime import date

import pytest

from tenure.domain.access import Role
from tenure.domain.model import Account
from tenure.services import lines
from tests.e2e.api.conftest import app_for
from tests.integration.catalog_kit import add, assign, office
from tests.support import ADMIN_EMAIL, PASSWORD, Installation

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PARTNER = "admin@northwind.example"
VIEWER = "viewer@operator.example"


@pytest.fixture
def http(site: Installation) -> Iterator[TestClient]:
    with TestClient(app_for(site), follow_redirects=False) as client:
        yield client


def sign_in(http: TestClient, email: str) -> str:
    """Sign in and return the session's CSRF token."""
    http.cookies.clear()
    token = _csrf(http.get("/login").text)
    signed = http.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert signed.status_code == 303, signed.text
    return _csrf(http.get("/clients").text)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _services(site: Installation, account: Account) -> list[str]:
    items, _ = lines.list_services(
        site.uow(), caller=site.admin, account_id=account.id, include_ended=False, limit=50, cursor=None
    )
    return [item.label for item in items]


def _form(**fields: str) -> dict[str, str]:
    return {"kind": "phone_number", "monthly_price": "10.00", "start_date": "", **fields}


def test_adding_a_service_needs_the_csrf_token_and_an_admin(site: Installation, http: TestClient) -> None:
    client = site.client()
    site.user(site.operator_id, Role.VIEWER, VIEWER)
    path = f"/clients/{client.id}/services/new"
    token = sign_in(http, ADMIN_EMAIL)
    refused = http.post(path, data=_form(label="+44 20 7946 0000"))
    assert refused.status_code == 403 and "This form has expired" in refused.text
    forged = http.post(path, data=_form(label="+44 20 7946 0000", csrf_token="forged"))
    assert forged.status_code == 403
    assert _services(site, client) == []

    token = sign_in(http, VIEWER)
    opened = http.get(path)
    assert opened.status_code == 403 and "Your role can read but not change" in opened.text
    assert 'name="label"' not in opened.text
    posted = http.post(path, data=_form(label="+44 20 7946 0000", csrf_token=token))
    assert posted.status_code == 403
    assert _services(site, client) == []

    token = sign_in(http, ADMIN_EMAIL)
    added = http.post(path, data=_form(label="+44 20 7946 0000", csrf_token=token))
    assert added.status_code == 303 and added.headers["location"] == f"/clients/{client.id}"
    assert _services(site, client) == ["+442079460000"]


def test_a_refused_service_comes_back_beside_its_field_with_what_was_typed(
    site: Installation, http: TestClient
) -> None:
    holder, client = site.client(name="Holder"), site.client(name="Newcomer")
    add(site, holder.id, "+44 20 7946 0000")
    token = sign_in(http, ADMIN_EMAIL)
    path = f"/clients/{client.id}/services/new"
    taken = http.post(path, data=_form(label="+44 20 7946 0000", monthly_price="12.5", csrf_token=token))
    assert taken.status_code == 422
    assert re.search(r'id="label-error">\+442079460000 is already held by a client', taken.text)
    assert 'value="12.5"' in taken.text
    for fields, error in [
        ({"label": "+44 20", "monthly_price": "1"}, "label-error"),
        ({"label": "+44 20 7946 0001", "monthly_price": "1.234"}, "monthly_price-error"),
        ({"label": "+44 20 7946 0001", "start_date": "2026-02-30"}, "start_date-error"),
        ({"label": "+44 20 7946 0001", "kind": "pigeon"}, "kind-error"),
        ({"kind": "other", "label": "Locker\x071"}, "label-error"),  # a control character (NUL stops at the door)
    ]:
        refused = http.post(path, data={**_form(**fields), "csrf_token": token})
        assert refused.status_code == 422, fields
        assert f'id="{error}"' in refused.text, fields
        assert "monthly_price must" not in refused.text  # the label, not the field's name
    assert _services(site, client) == []


def test_a_stale_office_form_changes_nothing_and_says_so(site: Installation, http: TestClient) -> None:
    old, new = office(site, "2.14"), office(site, "2.15")
    client = site.client()
    stale = client.version
    assign(site, client.id, old.id)  # someone else, meanwhile
    token = sign_in(http, ADMIN_EMAIL)
    changed = http.post(
        f"/clients/{client.id}/offices/assign",
        data={"office_id": new.id, "replace": old.id, "version": str(stale), "csrf_token": token},
    )
    assert changed.status_code == 422
    assert "changed by someone else" in changed.text
    page = http.get(f"/clients/{client.id}")
    assert re.search(r'<td class="name">2\.14</td>', page.text)


def test_a_clients_csv_is_only_its_own_and_only_for_those_who_see_it(site: Installation, http: TestClient) -> None:
    reseller = site.reseller()
    own = site.client(reseller.id, "Own Ltd", start_date=date(2026, 11, 1))
    other = site.client(name="Other Ltd", start_date=date(2026, 11, 1))
    add(site, own.id, "+44 20 7946 0000", price="30.00", start=date(2026, 11, 1))
    add(site, other.id, "+44 20 7946 0001", price="30.00", start=date(2026, 11, 1))
    site.user(reseller.id, Role.ADMIN, PARTNER)
    sign_in(http, PARTNER)
    response = http.get(f"/clients/{own.id}/charges/2026-11.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert [row[1] for row in rows[1:]] == ["Own Ltd"]
    assert http.get(f"/clients/{other.id}/charges/2026-11.csv").status_code == 404
    assert http.get(f"/clients/{own.id}/charges/2026-13.csv").status_code == 422
    assert http.get("/offices/new").status_code == 403  # rooms are the operator's
