"""The permission table: every endpoint x role x own / other tenant -> status.

Callers are a reseller's admin and viewer, and the portal user of a client in
that reseller's tree. "own" is an account in the caller's reach (for the portal
user: its own client); "other" is the same kind of account in another
reseller's tree, which the caller must not learn exists: 404, never 403.
Every case acts on fresh accounts, so the cases do not depend on each other,
and a refused case must leave its target exactly as it was.

Authority is narrower than reach (issue 10, lifecycle.md §3): the "own account"
cases act on the caller's own account (every lifecycle action 403, editing its
details 200), and the "hold placed above" cases try to lift a hold the operator
placed on an account in the caller's tree (403 naming the operator).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from tenure.adapters.db.tables import accounts, users
from tenure.domain.access import Caller, Role
from tenure.domain.model import Account, ActivateMode, HoldReason, Kind
from tests.e2e.api.conftest import World, token_for

pytestmark = pytest.mark.xdist_group("api-permissions")

ROLES = ("admin", "viewer", "portal")
OK, DENIED, HIDDEN = "ok", 403, 404
_names = itertools.count()
EMAILS = {"admin": "admin@northwind.example", "viewer": "viewer@northwind.example", "portal": "portal@acme.example"}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    body: dict[str, Any] | None = None
    ok: int = 200
    # who may do it with their own account: "read" (every role) or "change" (admins only)
    needs: str = "change"
    target: str = "client"  # kind of the fresh target account: client or channel
    prepare: str = "active"  # state of the target: active, new, suspended, decommission_scheduled
    tenant_bound: bool = True  # False: the endpoint names no account (me, sign out)
    listing: bool = False  # a filtered list: "other" answers 200 without the target, never 404
    params: dict[str, str] = field(default_factory=dict)
    staff_only: bool = False  # names staff and their notes: never a client's own (portal) users (issue 10)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


# One row per endpoint of issue 2. `{id}` is the target account, `{user_id}` a user of it.
TABLE = [
    Endpoint("GET", "/me", needs="read", tenant_bound=False),
    Endpoint("DELETE", "/auth/token", ok=204, needs="read", tenant_bound=False),
    Endpoint(
        "POST",
        "/users",
        {"email": "{email}", "password": "long enough pass", "account_id": "{id}", "role": "portal"},
        201,
    ),
    Endpoint("GET", "/users", needs="read", listing=True, params={"account_id": "{id}"}),
    Endpoint("DELETE", "/users/{user_id}", ok=204),
    Endpoint(
        "POST",
        "/accounts",
        {"kind": "client", "parent_id": "{id}", "name": "New Co", "main_contact": {"email": "new@example.com"}},
        201,
        target="channel",
    ),
    Endpoint("GET", "/accounts", needs="read", listing=True, params={"within": "{id}"}),
    Endpoint("GET", "/accounts/{id}", needs="read"),
    Endpoint("PATCH", "/accounts/{id}", {"notes": "changed"}),
    Endpoint("POST", "/accounts/{id}/activate", {}, prepare="new"),
    Endpoint("POST", "/accounts/{id}/suspend", {"reason": "fraud", "note": "chargebacks"}),
    Endpoint("POST", "/accounts/{id}/unsuspend", {}, prepare="suspended"),
    Endpoint("POST", "/accounts/{id}/decommission", {}),
    Endpoint("DELETE", "/accounts/{id}/scheduled-decommission", prepare="decommission_scheduled"),
    Endpoint("POST", "/accounts/{id}/convert", {"to": "virtual"}),
    Endpoint("GET", "/accounts/{id}/events", needs="read", staff_only=True),
]


def expected(endpoint: Endpoint, role: str, tenancy: str) -> int | str:
    if tenancy == "other" and endpoint.tenant_bound and not endpoint.listing:
        return HIDDEN
    if endpoint.needs == "change" and role != "admin":
        return DENIED
    if endpoint.staff_only and role == "portal":
        return DENIED
    return OK


@dataclass
class Case:
    token: str
    target: Account
    user_id: str


def _admin_of(world: World, reseller: Account) -> Caller:
    """An admin of `reseller` (made once per world), to place holds as that tenant would."""
    email = f"placer@{reseller.id.lower()}.example"
    with world.site.uow().reading() as uow:
        user = uow.users.by_email(email)
    return user.as_caller() if user else world.site.user(reseller.id, Role.ADMIN, email)


def _fresh(world: World, endpoint: Endpoint, tenancy: str) -> Account:
    site, n = world.site, next(_names)
    if endpoint.target == "channel":
        parent = world.own_reseller if tenancy == "own" else world.other_reseller
        return site.channel(parent.id, f"Channel {n}")
    parent = world.own_channel if tenancy == "own" else world.other_channel
    manual = {"activate": ActivateMode.MANUAL} if endpoint.prepare == "new" else {}
    account = site.client(parent.id, f"Client {n}", **manual)
    if endpoint.prepare == "suspended":
        # Placed from the tenant's own reseller, so its admin may lift it (a hold from above: see below).
        reseller = world.own_reseller if tenancy == "own" else world.other_reseller
        site.suspend(account.id, HoldReason.NON_PAYMENT, caller=_admin_of(world, reseller))
    elif endpoint.prepare == "decommission_scheduled":
        site.decommission(account.id, on=site.now.date().replace(year=site.now.year + 1))
    return account


def arrange(world: World, endpoint: Endpoint, role: str, tenancy: str) -> Case:
    site = world.site
    if role == "portal" and tenancy == "own":
        # The portal user's own account is its client, whatever the endpoint's usual target.
        target = _fresh(world, Endpoint("GET", "", prepare=endpoint.prepare), "own")
        email = f"portal{next(_names)}@example.com"
        site.user(target.id, Role.PORTAL, email)
        token = token_for(site, email)
    else:
        target = _fresh(world, endpoint, tenancy)
        # A fresh token each time, so signing out in one case leaves the others signed in.
        token = token_for(site, EMAILS[role])
    role_for_target = Role.PORTAL if target.kind is Kind.CLIENT else Role.VIEWER
    user_id = site.user(target.id, role_for_target, f"user{next(_names)}@example.com").user_id
    return Case(token, target, user_id)


def _fill(value: Any, case: Case) -> Any:
    if isinstance(value, str):
        return value.format(id=case.target.id, user_id=case.user_id, email=f"made{next(_names)}@example.com")
    if isinstance(value, dict):
        return {k: _fill(v, case) for k, v in value.items()}
    return value


def request(world: World, endpoint: Endpoint, case: Case, token: str | None) -> Any:
    kwargs: dict[str, Any] = {"params": _fill(endpoint.params, case)}
    if endpoint.body is not None:
        kwargs["json"] = _fill(endpoint.body, case)
    return world.call(endpoint.method, _fill(endpoint.path, case), token, **kwargs)


def snapshot(world: World, account: Account) -> tuple[int, int, int, int]:
    """What a refused request must not change: version, audit trail, users and children."""
    with world.site.uow().reading() as uow:
        conn = uow.connection
        version = conn.execute(select(accounts.c.version).where(accounts.c.id == account.id)).scalar_one()
        n_users = conn.execute(select(func.count()).where(users.c.account_id == account.id)).scalar_one()
        children = conn.execute(select(func.count()).where(accounts.c.parent_id == account.id)).scalar_one()
    return version, world.event_count(account.id), n_users, children


CASES = [
    pytest.param(e, role, tenancy, id=f"{e.label}-{role}-{tenancy}")
    for e in TABLE
    for role in ROLES
    for tenancy in ("own", "other")
]


@pytest.mark.parametrize(("endpoint", "role", "tenancy"), CASES)
def test_permission_table(shared_world: World, endpoint: Endpoint, role: str, tenancy: str) -> None:
    world = shared_world
    case = arrange(world, endpoint, role, tenancy)
    before = snapshot(world, case.target)
    response = request(world, endpoint, case, case.token)
    want = expected(endpoint, role, tenancy)
    if want == OK:
        assert response.status_code == endpoint.ok, response.text
    else:
        assert response.status_code == want, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == ("not-found" if want == HIDDEN else "forbidden")
        assert snapshot(world, case.target) == before
    if endpoint.listing:
        ids = {item["id"] for item in response.json()["items"]}
        wanted = case.user_id if endpoint.path == "/users" else case.target.id
        assert (wanted in ids) is (tenancy == "own"), ids
    if endpoint.label == "DELETE /auth/token":
        assert world.call("GET", "/me", case.token).status_code == 401


@pytest.mark.parametrize("endpoint", TABLE, ids=[e.label for e in TABLE])
def test_every_endpoint_wants_a_valid_token(shared_world: World, endpoint: Endpoint) -> None:
    case = arrange(shared_world, endpoint, "admin", "own")
    before = snapshot(shared_world, case.target)
    for token in (None, "not-a-token"):
        response = request(shared_world, endpoint, case, token)
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"
    assert snapshot(shared_world, case.target) == before


OPERATOR: list[tuple[str, Callable[[World], str], int]] = [
    ("admin", lambda w: w.operator_admin, 200),
    ("viewer", lambda w: w.operator_viewer, 403),
]


@pytest.mark.parametrize(("role", "token", "status"), OPERATOR, ids=[r for r, _, _ in OPERATOR])
def test_the_operator_reaches_every_tenant(
    shared_world: World, role: str, token: Callable[[World], str], status: int
) -> None:
    """The operator's users see both trees; only its admins change them."""
    for tenancy in ("own", "other"):
        target = _fresh(shared_world, Endpoint("GET", ""), tenancy)
        assert shared_world.get(f"/accounts/{target.id}", token(shared_world)).status_code == 200
        response = shared_world.post(f"/accounts/{target.id}/suspend", token(shared_world), json={"reason": "other"})
        assert response.status_code == status, response.text


# -- authority over a lifecycle (issue 10, lifecycle.md §3 "Who may act") ----------------

LIFECYCLE = [e for e in TABLE if e.path.startswith("/accounts/{id}/") and e.needs == "change"]


def _own_partner(world: World, endpoint: Endpoint, role: str) -> tuple[Account, str]:
    """A fresh reseller in the state the endpoint needs, and a token of one of its own users."""
    site, n = world.site, next(_names)
    reseller = site.reseller(f"Reseller {n}")
    if endpoint.prepare == "suspended":
        site.suspend(reseller.id, HoldReason.NON_PAYMENT)
    elif endpoint.prepare == "decommission_scheduled":
        site.decommission(reseller.id, on=site.now.date().replace(year=site.now.year + 1))
    email = f"own{n}@reseller.example"
    site.user(reseller.id, Role(role), email)
    return reseller, token_for(site, email)


@pytest.mark.parametrize("role", ["admin", "viewer"])
@pytest.mark.parametrize("endpoint", LIFECYCLE, ids=[e.label for e in LIFECYCLE])
def test_nobody_changes_the_lifecycle_of_their_own_account(shared_world: World, endpoint: Endpoint, role: str) -> None:
    """Own account: 403 `forbidden` for every lifecycle action, whatever the role, and nothing changes."""
    target, token = _own_partner(shared_world, endpoint, role)
    case = Case(token, target, user_id="")
    before = snapshot(shared_world, target)
    response = request(shared_world, endpoint, case, token)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "forbidden"
    assert snapshot(shared_world, target) == before


def test_a_partner_admin_edits_its_own_details(shared_world: World) -> None:
    target, token = _own_partner(shared_world, Endpoint("PATCH", "/accounts/{id}"), "admin")
    response = shared_world.call("PATCH", f"/accounts/{target.id}", token, json={"notes": "ours", "name": "Renamed"})
    assert response.status_code == 200, response.text


HELD_ABOVE = [
    pytest.param(role, tenancy, body, id=f"{role}-{tenancy}-{'all' if not body else 'fraud'}")
    for role in ROLES
    for tenancy in ("own", "other")
    for body in ({}, {"reason": "fraud"})
]


@pytest.mark.parametrize(("role", "tenancy", "body"), HELD_ABOVE)
def test_a_hold_placed_above_the_caller_is_not_theirs_to_lift(
    shared_world: World, role: str, tenancy: str, body: dict[str, str]
) -> None:
    """The operator's fraud hold on a client of the caller's tree: 403 naming the operator (404 elsewhere)."""
    endpoint = Endpoint("POST", "/accounts/{id}/unsuspend", body, prepare="active")
    case = arrange(shared_world, endpoint, role, tenancy)
    shared_world.site.suspend(case.target.id, HoldReason.FRAUD)  # placed by the operator's admin
    before = snapshot(shared_world, case.target)
    response = request(shared_world, endpoint, case, case.token)
    if tenancy == "other":
        assert response.status_code == 404, response.text
    else:
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"
        if role == "admin":
            assert "Meridian" in response.json()["detail"]
    assert snapshot(shared_world, case.target) == before


def test_a_hold_placed_by_the_callers_own_account_is_theirs_to_lift(shared_world: World) -> None:
    """The control case: the same request on a hold Northwind placed is 200."""
    target = _fresh(shared_world, Endpoint("GET", ""), "own")
    token = token_for(shared_world.site, EMAILS["admin"])
    placed = shared_world.post(f"/accounts/{target.id}/suspend", token, json={"reason": "fraud"})
    assert placed.status_code == 200, placed.text
    response = shared_world.post(f"/accounts/{target.id}/unsuspend", token, json={"reason": "fraud"})
    assert response.status_code == 200 and response.json()["status"] == "active", response.text
