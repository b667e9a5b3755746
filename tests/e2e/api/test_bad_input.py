"""Bad input is a 4xx problem+json with a stable code: never a 5xx, never a partial change.

Every case runs against one shared world per database and checks the whole
database is untouched afterwards (row counts of every table we write, and the
sum of all account versions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from tenure.adapters.db import tables
from tests.e2e.api.conftest import World

pytestmark = pytest.mark.xdist_group("api-bad-input")

LONG = "x" * 10_000
CLIENT = "{client}"
EMAIL = {"email": "ok@example.com"}


@dataclass(frozen=True)
class Bad:
    method: str
    path: str
    json: Any = None
    status: int = 422
    code: str = "validation-error"
    content: str | None = None  # a raw body instead of JSON
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] | None = None
    token: bool = True


def _create(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "client", "parent_id": "{channel}", "name": "Fine Ltd", "main_contact": EMAIL}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not ...}


CASES: dict[str, Bad] = {
    # -- creating an account: types, enums, unknown fields, lengths, dates, ids
    "name not a string": Bad("POST", "/accounts", _create(name=123)),
    "name empty": Bad("POST", "/accounts", _create(name="")),
    "name 10,000 chars": Bad("POST", "/accounts", _create(name=LONG)),
    "kind unknown": Bad("POST", "/accounts", _create(kind="planet")),
    "kind operator": Bad("POST", "/accounts", _create(kind="operator")),
    "client_type unknown": Bad("POST", "/accounts", _create(client_type="office")),
    "activate unknown": Bad("POST", "/accounts", _create(activate="later")),
    "unknown field": Bad("POST", "/accounts", _create(colour="blue")),
    "parent missing": Bad("POST", "/accounts", _create(parent_id=...)),
    "parent null": Bad("POST", "/accounts", _create(parent_id=None)),
    "parent unknown": Bad("POST", "/accounts", _create(parent_id="01nosuchaccount"), 404, "not-found"),
    "parent 10,000 chars": Bad("POST", "/accounts", _create(parent_id=LONG)),
    "client under a client": Bad("POST", "/accounts", _create(parent_id=CLIENT), 409, "invalid-transition"),
    "contact not an object": Bad("POST", "/accounts", _create(main_contact="me")),
    "contact email invalid": Bad("POST", "/accounts", _create(main_contact={"email": "not-an-email"})),
    "contact email 10,000 chars": Bad("POST", "/accounts", _create(main_contact={"email": LONG + "@x.com"})),
    "contact name 10,000 chars": Bad("POST", "/accounts", _create(main_contact={"email": "a@b.com", "name": LONG})),
    "billing ref 10,000 chars": Bad("POST", "/accounts", _create(billing_ref=LONG)),
    "billing ref bad characters": Bad("POST", "/accounts", _create(billing_ref="ref with spaces!")),
    "notes over 10,000 chars": Bad("POST", "/accounts", _create(notes=LONG + "x")),
    "start date 2026-02-30": Bad("POST", "/accounts", _create(start_date="2026-02-30")),
    "start date not a date": Bad("POST", "/accounts", _create(start_date="tomorrow")),
    "end date a number": Bad("POST", "/accounts", _create(end_date=20270101)),
    "end before start": Bad("POST", "/accounts", _create(start_date="2026-12-01", end_date="2026-11-01")),
    "body a list": Bad("POST", "/accounts", [_create()]),
    "body null": Bad("POST", "/accounts", content="null"),
    "malformed JSON": Bad("POST", "/accounts", content='{"kind": "client",'),
    "empty body": Bad("POST", "/accounts", content=""),
    "not UTF-8": Bad("POST", "/accounts", content="\udcff"),
    "Idempotency-Key too long": Bad("POST", "/accounts", _create(), headers={"Idempotency-Key": "k" * 256}),
    "Idempotency-Key empty": Bad("POST", "/accounts", _create(), headers={"Idempotency-Key": ""}),
    # -- editing
    "patch name empty": Bad("PATCH", "/accounts/{client}", {"name": ""}),
    "patch unknown field": Bad("PATCH", "/accounts/{client}", {"version": 3}),
    "patch bad date": Bad("PATCH", "/accounts/{client}", {"end_date": "2026-13-01"}),
    "patch unknown id": Bad("PATCH", "/accounts/01nosuchaccount", {"notes": "x"}, 404, "not-found"),
    "patch junk If-Match": Bad("PATCH", "/accounts/{client}", {"notes": "x"}, headers={"If-Match": "yesterday"}),
    "patch stale If-Match": Bad(
        "PATCH", "/accounts/{client}", {"notes": "x"}, 412, "version-conflict", headers={"If-Match": '"99"'}
    ),
    "patch start date once active": Bad(
        "PATCH", "/accounts/{client}", {"start_date": "2027-01-01"}, 409, "invalid-transition"
    ),
    # -- status actions
    "suspend reason unknown": Bad("POST", "/accounts/{client}/suspend", {"reason": "boredom"}),
    "suspend reason missing": Bad("POST", "/accounts/{client}/suspend", {}),
    "suspend reason a list": Bad("POST", "/accounts/{client}/suspend", {"reason": ["fraud"]}),
    "suspend note too long": Bad("POST", "/accounts/{client}/suspend", {"reason": "fraud", "note": LONG + "x"}),
    "suspend unknown id": Bad("POST", "/accounts/01nosuchaccount/suspend", {"reason": "fraud"}, 404, "not-found"),
    "suspend 10,000-char id": Bad("POST", f"/accounts/{LONG}/suspend", {"reason": "fraud"}),
    "suspend junk If-Match": Bad("POST", "/accounts/{client}/suspend", {"reason": "fraud"}, headers={"If-Match": "1"}),
    "suspend management": Bad("POST", "/accounts/{management}/suspend", {"reason": "fraud"}, 409, "invalid-transition"),
    "unsuspend reason unknown": Bad("POST", "/accounts/{client}/unsuspend", {"reason": "x"}),
    "unsuspend not suspended": Bad("POST", "/accounts/{client}/unsuspend", {}, 409, "not-suspended"),
    "activate bad date": Bad("POST", "/accounts/{client}/activate", {"on": "2026-02-30"}),
    "activate date a number": Bad("POST", "/accounts/{client}/activate", {"on": 5}),
    "activate when active": Bad("POST", "/accounts/{client}/activate", {}, 409, "invalid-transition"),
    "decommission bad date": Bad("POST", "/accounts/{client}/decommission", {"on": "2026-02-30"}),
    "decommission unknown field": Bad("POST", "/accounts/{client}/decommission", {"when": "now"}),
    "decommission a partner with children": Bad(
        "POST", "/accounts/{channel}/decommission", {}, 409, "has-active-children"
    ),
    "cancel when none scheduled": Bad(
        "DELETE", "/accounts/{client}/scheduled-decommission", None, 409, "invalid-transition"
    ),
    "convert to unknown": Bad("POST", "/accounts/{client}/convert", {"to": "office"}),
    "convert missing": Bad("POST", "/accounts/{client}/convert", {}),
    "convert a partner": Bad("POST", "/accounts/{channel}/convert", {"to": "virtual"}, 409, "invalid-transition"),
    # -- queries
    "list kind unknown": Bad("GET", "/accounts", params={"kind": "planet"}),
    "list status unknown": Bad("GET", "/accounts", params={"status": "active,asleep"}),
    "list limit words": Bad("GET", "/accounts", params={"limit": "ten"}),
    "list limit 0": Bad("GET", "/accounts", params={"limit": "0"}),
    "list limit 501": Bad("GET", "/accounts", params={"limit": "501"}),
    "list junk cursor": Bad("GET", "/accounts", params={"cursor": "not-a-cursor!"}),
    "list cursor of another shape": Bad("GET", "/accounts", params={"cursor": "WzEsMiwzXQ"}),
    "list empty cursor": Bad("GET", "/accounts", params={"cursor": ""}),
    "list include_inactive maybe": Bad("GET", "/accounts", params={"include_inactive": "maybe"}),
    "list q 10,000 chars": Bad("GET", "/accounts", params={"q": LONG}),
    "list within 10,000 chars": Bad("GET", "/accounts", params={"within": LONG}),
    "get unknown id": Bad("GET", "/accounts/01nosuchaccount", status=404, code="not-found"),
    "events junk cursor": Bad("GET", "/accounts/{client}/events", params={"cursor": "@@@"}),
    "events cursor not a number": Bad("GET", "/accounts/{client}/events", params={"cursor": "WyJ4Il0"}),
    "events cursor huge": Bad(
        "GET", "/accounts/{client}/events", params={"cursor": "Wzk5OTk5OTk5OTk5OTk5OTk5OTk5OTldXQ"}
    ),
    "events unknown id": Bad("GET", "/accounts/01nosuchaccount/events", status=404, code="not-found"),
    # -- users and tokens
    "user email invalid": Bad(
        "POST", "/users", {"email": "x", "password": "0123456789", "account_id": "{client}", "role": "portal"}
    ),
    "user role unknown": Bad(
        "POST", "/users", {"email": "a@b.com", "password": "0123456789", "account_id": "{client}", "role": "god"}
    ),
    "user password short": Bad(
        "POST", "/users", {"email": "a@b.com", "password": "012345678", "account_id": "{client}", "role": "portal"}
    ),
    "user password 10,000 chars": Bad(
        "POST", "/users", {"email": "a@b.com", "password": LONG, "account_id": "{client}", "role": "portal"}
    ),
    "user account unknown": Bad(
        "POST",
        "/users",
        {"email": "a@b.com", "password": "0123456789", "account_id": "01nosuch", "role": "portal"},
        404,
        "not-found",
    ),
    "user unknown field": Bad(
        "POST",
        "/users",
        {"email": "a@b.com", "password": "0123456789", "account_id": "{client}", "role": "portal", "admin": True},
    ),
    "users junk cursor": Bad("GET", "/users", params={"cursor": "%%%"}),
    "users limit 0": Bad("GET", "/users", params={"limit": "0"}),
    "delete unknown user": Bad("DELETE", "/users/01nosuchuser", status=404, code="not-found"),
    "token as JSON": Bad("POST", "/auth/token", {"username": "a@b.com", "password": "x"}, token=False),
    "token without password": Bad("POST", "/auth/token", form={"username": "a@b.com"}, token=False),
    "token username 10,000 chars": Bad("POST", "/auth/token", form={"username": LONG, "password": "p"}, token=False),
    "token other grant type": Bad(
        "POST",
        "/auth/token",
        form={"username": "a@b.com", "password": "p", "grant_type": "client_credentials"},
        token=False,
    ),
    # -- routing
    "unknown path": Bad("GET", "/nowhere", status=404, code="not-found"),
    "method not allowed": Bad("PUT", "/accounts", {}, 405, "method-not-allowed"),
}


def snapshot(world: World) -> tuple[int, ...]:
    written = [
        tables.accounts,
        tables.events,
        tables.holds,
        tables.users,
        tables.api_tokens,
        tables.outbox,
        tables.idempotency_keys,
    ]
    with world.site.uow().reading() as uow:
        counts = [int(uow.connection.execute(select(func.count()).select_from(t)).scalar_one()) for t in written]
        versions = uow.connection.execute(select(func.sum(tables.accounts.c.version))).scalar_one()
    return (*counts, int(versions))


def _fill(value: Any, world: World) -> Any:
    ids = {
        "client": world.own_client.id,
        "channel": world.own_channel.id,
        "management": _management_id(world),
    }
    if isinstance(value, str) and "{" in value and value != LONG:
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


def _management_id(world: World) -> str:
    item: dict[str, Any] = world.get("/accounts", params={"limit": 1}).json()["items"][0]
    assert item["is_management"]
    return str(item["id"])


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_bad_input_is_a_problem_and_changes_nothing(shared_world: World, case: Bad) -> None:
    world = shared_world
    before = snapshot(world)
    kwargs: dict[str, Any] = {"params": case.params, "headers": dict(case.headers)}
    if case.content is not None:
        kwargs["content"] = case.content.encode("utf-8", "surrogateescape")
        kwargs["headers"]["Content-Type"] = "application/json"
    elif case.form is not None:
        kwargs["data"] = case.form
    elif case.json is not None:
        kwargs["json"] = _fill(case.json, world)
    token = world.operator_admin if case.token else None
    response = world.call(case.method, _fill(case.path, world), token, **kwargs)
    assert response.status_code == case.status, response.text[:500]
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == case.code
    assert problem["status"] == case.status
    assert {"type", "title", "detail"} <= set(problem)
    assert snapshot(world) == before


def test_method_not_allowed_keeps_its_allow_header(shared_world: World) -> None:
    response = shared_world.call("PUT", "/accounts", shared_world.operator_admin, json={})
    # Starlette names the methods of the first route on the path only (here POST, not GET too).
    assert "POST" in response.headers["allow"]
