"""The account use cases (services.accounts) on both databases: lifecycle.md §1-2 and §6.

Each accepted change must leave exactly one audit event and its outbox rows; each refused one
must leave the database exactly as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from tenure.adapters.db.tables import account_ancestors, accounts, office_assignments, services
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain import lifecycle
from tenure.domain.access import Role
from tenure.domain.errors import (
    AccountDecommissioned,
    AlreadySuspended,
    BillingRefTaken,
    DomainError,
    Forbidden,
    HasActiveChildren,
    InheritedSuspension,
    InvalidTransition,
    NotFound,
    NotSuspended,
    ValidationFailed,
    VersionConflict,
)
from tenure.domain.model import Account, ActivateMode, ClientType, Contact, HoldReason, Kind, Stage, Status
from tenure.services import accounts as svc
from tenure.services.scheduler import PassResult, apply_due_changes
from tenure.services.setup import initialise
from tests.integration.trail import (
    Row,
    added,
    dump,
    give_office,
    give_service,
    last_event_id,
    last_outbox_id,
    new_events,
    new_outbox,
    outbox_rows,
)
from tests.support import ADMIN_EMAIL, PASSWORD, Installation, MutableClock

TODAY = date(2026, 11, 23)  # tests.support.START in Europe/London
LATER = TODAY + timedelta(days=10)


def _activate(site: Installation, account_id: str, on: date | None = None, version: int | None = None) -> None:
    svc.activate(site.uow(), caller=site.admin, account_id=account_id, on=on, expected_version=version, now=site.now)


def _cancel(site: Installation, account_id: str, version: int | None = None) -> None:
    svc.cancel_decommission(
        site.uow(), caller=site.admin, account_id=account_id, expected_version=version, now=site.now
    )


def _convert(site: Installation, account_id: str, to: ClientType, version: int | None = None) -> None:
    svc.convert(site.uow(), caller=site.admin, account_id=account_id, to=to, expected_version=version, now=site.now)


def _update(site: Installation, account_id: str, version: int | None = None, **changes: object) -> None:
    svc.update_account(
        site.uow(),
        caller=site.admin,
        account_id=account_id,
        changes=lifecycle.AccountChanges(**changes),  # type: ignore[arg-type]
        expected_version=version,
        now=site.now,
    )


# -- create ----------------------------------------------------------------


def test_create_every_kind_under_every_allowed_parent(site: Installation) -> None:
    reseller = site.reseller()
    top_channel = site.channel(name="Direct")
    channel = site.channel(reseller.id)
    clients = [site.client(parent.id, f"C {parent.name}") for parent in (reseller, top_channel, channel)]
    direct = site.client(name="Direct client")
    for account, parent_id in [
        (reseller, site.operator_id),
        (top_channel, site.operator_id),
        (channel, reseller.id),
        (direct, site.operator_id),
        *zip(clients, [reseller.id, top_channel.id, channel.id], strict=True),
    ]:
        stored = site.get(account.id)
        assert stored.parent_id == parent_id and stored.version == 1 and stored.stage is Stage.ACTIVE
    deep = site.get(clients[2].id)
    assert (deep.start_date, deep.end_date, deep.client_type) == (TODAY, date(2027, 11, 23), ClientType.RESIDENTIAL)
    with site.uow().reading() as uow:
        query = select(account_ancestors.c.ancestor_id, account_ancestors.c.depth).where(
            account_ancestors.c.account_id == deep.id
        )
        chain = sorted(uow.connection.execute(query), key=lambda r: r.depth)
    assert [r.ancestor_id for r in chain] == [deep.id, channel.id, reseller.id, site.operator_id]
    assert new_events(site.engine)[-1] == (direct.id, "created")


@pytest.mark.parametrize(
    ("kind", "parent"),
    [(Kind.RESELLER, "reseller"), (Kind.CHANNEL, "channel"), (Kind.CLIENT, "client"), (Kind.CLIENT, "management")],
)
def test_create_refuses_a_parent_of_the_wrong_kind(site: Installation, kind: Kind, parent: str) -> None:
    reseller = site.reseller()
    channel = site.channel(reseller.id)
    client = site.client(channel.id)
    with site.uow().reading() as uow:
        management = uow.accounts.get(_management_id(site))
    parents = {"reseller": reseller.id, "channel": channel.id, "client": client.id, "management": management.id}
    before = dump(site.engine)
    with pytest.raises(InvalidTransition):
        site.create(kind, parents[parent], "Misplaced")
    assert dump(site.engine) == before


def test_create_under_an_unknown_or_invisible_parent_is_not_found(site: Installation) -> None:
    mine, theirs = site.reseller("Mine"), site.reseller("Theirs")
    admin = site.user(mine.id, Role.ADMIN, "admin@mine.example")
    viewer = site.user(mine.id, Role.VIEWER, "viewer@mine.example")
    before = dump(site.engine)
    with pytest.raises(NotFound):
        site.client("01J0000000000000000000000", "Ghost")
    with pytest.raises(NotFound):
        site.client(theirs.id, "Poached", caller=admin)
    with pytest.raises(Forbidden):
        site.client(mine.id, "Read only", caller=viewer)
    assert dump(site.engine) == before
    assert site.client(mine.id, "Fine", caller=admin).parent_id == mine.id


def test_create_under_a_decommissioned_parent_is_refused(site: Installation) -> None:
    channel = site.channel()
    site.decommission(channel.id)
    with pytest.raises(AccountDecommissioned):
        site.client(channel.id)


def _management_id(site: Installation) -> str:
    with site.uow().reading() as uow:
        return next(a.id for a in _all(uow) if a.is_management)


def _all(uow: UnitOfWork) -> list[Account]:
    return uow.accounts.hydrate(list(uow.connection.execute(select(accounts))))


# -- billing refs ----------------------------------------------------------


def test_generated_billing_refs_follow_the_sequence(site: Installation) -> None:
    refs = [site.client(name=f"C{i}").billing_ref for i in range(3)]
    # the operator and the management client took TEN-000001 and TEN-000002 at init
    assert refs == ["TEN-000003", "TEN-000004", "TEN-000005"]


def test_a_custom_prefix_is_used(engine: Engine, clock: MutableClock) -> None:
    initialise(
        UnitOfWork(engine),
        operator_name="Meridian",
        admin_email=ADMIN_EMAIL,
        admin_password=PASSWORD,
        billing_prefix="MER",
        now=clock.now(),
    )
    with UnitOfWork(engine).reading() as uow:
        assert sorted(a.billing_ref for a in _all(uow)) == ["MER-000001", "MER-000002"]


def test_custom_refs_and_taken_refs(site: Installation) -> None:
    custom = site.client(name="Custom", billing_ref="ACME/2026_01")
    assert custom.billing_ref == "ACME/2026_01"
    site.client(name="Squatter", billing_ref="TEN-000003")
    assert site.client(name="Next").billing_ref == "TEN-000004"  # the generator skips a ref taken by hand
    before = dump(site.engine)
    for ref in ("ACME/2026_01", "TEN-000001"):
        with pytest.raises(BillingRefTaken) as raised:
            site.client(name="Copycat", billing_ref=ref)
        assert raised.value.code == "billing-ref-taken"
    with pytest.raises(ValidationFailed):
        site.client(name="Bad", billing_ref="has space")
    assert dump(site.engine) == before


def test_patching_the_billing_ref(site: Installation) -> None:
    first, second = site.client(name="First"), site.client(name="Second")
    before = dump(site.engine)
    with pytest.raises(BillingRefTaken):
        _update(site, second.id, billing_ref=first.billing_ref)
    with pytest.raises(ValidationFailed):
        _update(site, second.id, billing_ref="x" * 33)
    assert dump(site.engine) == before
    _update(site, second.id, billing_ref="")
    regenerated = site.get(second.id)
    assert regenerated.billing_ref != second.billing_ref
    assert re.fullmatch(r"TEN-\d{6}", regenerated.billing_ref) and regenerated.version == 2
    _update(site, second.id, billing_ref=second.billing_ref)  # the old one is free again
    assert site.get(second.id).billing_ref == second.billing_ref


# -- update ----------------------------------------------------------------


def test_update_records_one_event_and_bumps_the_version(site: Installation) -> None:
    client = site.client()
    since, outbox_since = last_event_id(site.engine), last_outbox_id(site.engine)
    _update(site, client.id, version=1, name="Acme Group", main_contact=Contact("Bo", "bo@acme.example"))
    stored = site.get(client.id)
    assert (stored.name, stored.main_contact.email, stored.version) == ("Acme Group", "bo@acme.example", 2)
    assert new_events(site.engine, since) == [(client.id, "updated")]
    assert new_outbox(site.engine, outbox_since) == []


def test_an_update_that_changes_nothing_writes_nothing(site: Installation) -> None:
    client = site.client(notes="hello")
    before = dump(site.engine)
    _update(site, client.id, name=client.name, notes="hello")
    assert dump(site.engine) == before


def test_start_date_moves_only_while_not_active(site: Installation) -> None:
    scheduled = site.client(name="Later", start_date=LATER)
    new = site.client(name="Manual", activate=ActivateMode.MANUAL)
    active = site.client(name="Now")
    _update(site, scheduled.id, start_date=LATER + timedelta(days=5))
    _update(site, new.id, start_date=LATER)
    assert site.get(scheduled.id).start_date == LATER + timedelta(days=5)
    assert site.get(new.id).start_date == LATER
    before = dump(site.engine)
    with pytest.raises(InvalidTransition):
        _update(site, active.id, start_date=LATER)
    with pytest.raises(ValidationFailed):
        _update(site, new.id, end_date=LATER - timedelta(days=1))
    assert dump(site.engine) == before


# -- activate --------------------------------------------------------------


def test_activate_now_and_on_a_date(site: Installation) -> None:
    new = site.client(name="Manual", activate=ActivateMode.MANUAL)
    scheduled = site.client(name="Scheduled", start_date=LATER)
    assert (new.stage, scheduled.stage) == (Stage.NEW, Stage.SCHEDULED)
    _activate(site, scheduled.id)
    assert (site.get(scheduled.id).stage, site.get(scheduled.id).start_date) == (Stage.ACTIVE, TODAY)
    _activate(site, new.id, on=LATER)
    assert (site.get(new.id).stage, site.get(new.id).start_date) == (Stage.SCHEDULED, LATER)
    _activate(site, new.id, on=TODAY)  # "on" today means now
    assert (site.get(new.id).stage, site.get(new.id).start_date) == (Stage.ACTIVE, TODAY)
    with pytest.raises(InvalidTransition):
        _activate(site, new.id)


# -- decommission ----------------------------------------------------------


def test_decommission_now_ends_services_releases_offices_and_records_it(site: Installation) -> None:
    client = site.client(start_date=TODAY - timedelta(days=30))
    office = give_office(site.engine, client.id, "2.14")
    give_service(site.engine, client.id, "Fibre 1G", TODAY - timedelta(days=30))
    since, outbox_since = last_event_id(site.engine), last_outbox_id(site.engine)
    site.decommission(client.id)
    stored = site.get(client.id)
    assert (stored.stage, stored.status, stored.decommissioned_on) == (Stage.DECOMMISSIONED, Status.INACTIVE, TODAY)
    with site.uow().reading() as uow:
        assert uow.connection.execute(select(services.c.end_date)).scalar_one() == TODAY
        released = uow.connection.execute(select(office_assignments.c.released_at)).scalar_one()
    assert released == site.now
    assert new_events(site.engine, since) == [(client.id, "office_released"), (client.id, "decommissioned")]
    rows = outbox_rows(site.engine, outbox_since)
    assert {(r["kind"], r["topic"], r["account_id"]) for r in rows} == {
        ("webhook", "account.decommissioned", client.id),
        ("email", "decommissioned", client.id),
        ("webhook", "entitlements.changed", client.id),
    }
    assert len(rows) == 3
    email = next(r for r in rows if r["kind"] == "email")
    assert email["recipient"] == client.main_contact.email
    with site.uow().reading() as uow:
        assert uow.offices.held_by([client.id]) == {}
    assert office


def test_decommission_on_a_date_only_records_the_date(site: Installation) -> None:
    client = site.client()
    outbox_since = last_outbox_id(site.engine)
    site.decommission(client.id, on=LATER)
    stored = site.get(client.id)
    assert (stored.stage, stored.decommission_on, stored.version) == (Stage.ACTIVE, LATER, 2)
    rows = outbox_rows(site.engine, outbox_since)
    assert [(r["kind"], r["topic"]) for r in rows] == [
        ("webhook", "account.decommission_scheduled"),
        ("email", "decommission_scheduled"),
    ]
    assert rows[1]["payload"] == {"decommission_on": LATER.isoformat(), "decommissioned_on": None}


def test_a_partner_goes_only_after_its_children(site: Installation) -> None:
    reseller = site.reseller()
    channel = site.channel(reseller.id)
    client = site.client(channel.id)
    before = dump(site.engine)
    for partner in (reseller, channel):
        for on in (None, LATER):
            with pytest.raises(HasActiveChildren):
                site.decommission(partner.id, on=on)
    assert dump(site.engine) == before
    site.decommission(client.id)
    site.decommission(channel.id)
    site.decommission(reseller.id)
    assert site.get(reseller.id).stage is Stage.DECOMMISSIONED


def test_scheduling_a_partner_after_children_scheduled_earlier(site: Installation) -> None:
    channel = site.channel()
    early = site.client(channel.id, "Early")
    same_day = site.client(channel.id, "Same day")
    site.decommission(early.id, on=LATER - timedelta(days=3))
    site.decommission(same_day.id, on=LATER)
    site.decommission(channel.id, on=LATER)
    assert site.get(channel.id).decommission_on == LATER
    _cancel(site, channel.id)
    with pytest.raises(HasActiveChildren):
        site.decommission(channel.id, on=LATER - timedelta(days=1))  # "Same day" would still be there
    with pytest.raises(HasActiveChildren):
        site.decommission(channel.id)  # both children are still undecommissioned today


def test_a_partner_is_not_decommissioned_now_while_a_due_child_waits_for_the_worker(site: Installation) -> None:
    channel = site.channel()
    client = site.client(channel.id)
    site.decommission(client.id, on=TODAY + timedelta(days=1))
    site.clock.set(site.now + timedelta(days=1))  # the child is due, but the worker has not run yet
    with pytest.raises(HasActiveChildren):
        site.decommission(channel.id)
    assert site.get(client.id).stage is Stage.ACTIVE


def test_cancel_a_scheduled_decommission(site: Installation) -> None:
    client = site.client()
    site.decommission(client.id, on=LATER)
    outbox_since, since = last_outbox_id(site.engine), last_event_id(site.engine)
    _cancel(site, client.id, version=2)
    assert site.get(client.id).decommission_on is None
    assert new_events(site.engine, since) == [(client.id, "decommission_cancelled")]
    assert new_outbox(site.engine, outbox_since) == [
        Row("webhook", "account.decommission_cancelled", client.id),
        Row("email", "decommission_cancelled", client.id),
    ]
    before = dump(site.engine)
    with pytest.raises(InvalidTransition):
        _cancel(site, client.id)
    assert dump(site.engine) == before


# -- convert ---------------------------------------------------------------


def test_convert_to_virtual_releases_offices(site: Installation) -> None:
    client = site.client()
    give_office(site.engine, client.id, "1.01")
    give_office(site.engine, client.id, "1.02")
    since, outbox_since = last_event_id(site.engine), last_outbox_id(site.engine)
    _convert(site, client.id, ClientType.VIRTUAL)
    assert site.get(client.id).client_type is ClientType.VIRTUAL
    assert new_events(site.engine, since) == [
        (client.id, "office_released"),
        (client.id, "office_released"),
        (client.id, "converted"),
    ]
    assert new_outbox(site.engine, outbox_since) == [Row("webhook", "account.converted", client.id)]
    with site.uow().reading() as uow:
        assert uow.offices.held_by([client.id]) == {}
    _convert(site, client.id, ClientType.RESIDENTIAL)
    assert site.get(client.id).client_type is ClientType.RESIDENTIAL
    with pytest.raises(InvalidTransition):
        _convert(site, site.channel().id, ClientType.VIRTUAL)


# -- every change leaves one event and its outbox rows ---------------------


@pytest.fixture
def tree(site: Installation) -> dict[str, str]:
    """A channel with an active and a new client, a scheduled client, and a suspended one."""
    channel = site.channel()
    ids = {
        "channel": channel.id,
        "active": site.client(channel.id, "Active").id,
        "new": site.client(channel.id, "New", activate=ActivateMode.MANUAL).id,
        "scheduled": site.client(name="Scheduled", start_date=LATER).id,
        "held": site.client(name="Held").id,
        "doomed": site.client(name="Doomed").id,
    }
    site.suspend(ids["held"], HoldReason.FRAUD)
    site.decommission(ids["doomed"], on=LATER)
    return ids


Change = Callable[[Installation, dict[str, str]], object]

CHANGES: dict[str, tuple[Change, str, str, set[tuple[str, str, str]]]] = {
    # name: (change, acted-on account, event action, outbox rows as (kind, topic, account key))
    "suspend": (
        lambda s, t: s.suspend(t["active"]),
        "active",
        "suspended",
        {("webhook", "account.suspended", "active"), ("email", "suspended", "active")}
        | {("webhook", "entitlements.changed", "active")},
    ),
    "suspend a channel": (
        # the cascade is one job at the commit, expanded by the worker's next pass (run here)
        lambda s, t: (s.suspend(t["channel"]), s.fan_out()),
        "channel",
        "suspended",
        {("cascade", "suspended", "channel")}
        | {("webhook", "account.suspended", "channel"), ("email", "suspended", "channel")}
        | {("email", "suspended", "active"), ("email", "suspended", "new")}
        # connect: a new client's capabilities do not change when suspended through its channel
        | {("webhook", "entitlements.changed", "channel"), ("webhook", "entitlements.changed", "active")},
    ),
    "suspend again": (
        lambda s, t: s.suspend(t["held"], HoldReason.NON_PAYMENT),
        "held",
        "suspended",
        {("webhook", "account.suspended", "held")},  # already suspended: no status flip, no email
    ),
    "unsuspend": (
        lambda s, t: s.unsuspend(t["held"]),
        "held",
        "unsuspended",
        {("webhook", "account.unsuspended", "held"), ("email", "unsuspended", "held")}
        | {("webhook", "entitlements.changed", "held")},
    ),
    "activate": (
        lambda s, t: _activate(s, t["new"]),
        "new",
        "activated",
        {("webhook", "account.activated", "new"), ("webhook", "entitlements.changed", "new")},
    ),
    "activate on a date": (lambda s, t: _activate(s, t["new"], on=LATER), "new", "activation_scheduled", set()),
    "decommission": (
        lambda s, t: s.decommission(t["active"]),
        "active",
        "decommissioned",
        {("webhook", "account.decommissioned", "active"), ("email", "decommissioned", "active")}
        | {("webhook", "entitlements.changed", "active")},
    ),
    "decommission a suspended client": (
        lambda s, t: s.decommission(t["held"]),
        "held",
        "decommissioned",
        {("webhook", "account.decommissioned", "held"), ("email", "decommissioned", "held")}
        | {("webhook", "entitlements.changed", "held")},
    ),
    "decommission a new client": (
        lambda s, t: s.decommission(t["new"]),
        "new",
        "decommissioned",
        {("webhook", "account.decommissioned", "new"), ("email", "decommissioned", "new")}
        | {("webhook", "entitlements.changed", "new")},  # it loses portal_login
    ),
    "decommission on a date": (
        lambda s, t: s.decommission(t["active"], on=LATER),
        "active",
        "decommission_scheduled",
        {("webhook", "account.decommission_scheduled", "active"), ("email", "decommission_scheduled", "active")},
    ),
    "cancel": (
        lambda s, t: _cancel(s, t["doomed"]),
        "doomed",
        "decommission_cancelled",
        {("webhook", "account.decommission_cancelled", "doomed"), ("email", "decommission_cancelled", "doomed")},
    ),
    "convert": (
        lambda s, t: _convert(s, t["active"], ClientType.VIRTUAL),
        "active",
        "converted",
        {("webhook", "account.converted", "active")},
    ),
    "update": (lambda s, t: _update(s, t["scheduled"], start_date=LATER + timedelta(1)), "scheduled", "updated", set()),
}


@pytest.mark.parametrize("name", CHANGES)
def test_every_change_writes_one_event_and_its_outbox_rows(site: Installation, tree: dict[str, str], name: str) -> None:
    change, target, action, expected = CHANGES[name]
    key_of = {account_id: key for key, account_id in tree.items()}
    before = dump(site.engine)
    version = site.get(tree[target]).version
    change(site, tree)
    after = dump(site.engine)
    assert [(key_of[e[1]], e[4]) for e in added(before, after, "events")] == [(target, action)]
    outbox = [(r[1], r[2], key_of[str(r[3])]) for r in added(before, after, "outbox")]
    assert sorted(outbox) == sorted(expected)  # each row once
    assert site.get(tree[target]).version == version + 1
    changed_accounts = {key_of[str(r[0])] for r in added(before, after, "accounts")}
    assert changed_accounts == {target}  # a cascade rewrites no other account


def test_a_cascade_email_goes_to_each_clients_own_contact(site: Installation, tree: dict[str, str]) -> None:
    outbox_since = last_outbox_id(site.engine)
    site.suspend(tree["channel"])
    site.fan_out()
    emails = {r["account_id"]: r for r in outbox_rows(site.engine, outbox_since) if r["kind"] == "email"}
    assert emails[tree["active"]]["recipient"] == "active@example.com"
    payload = emails[tree["active"]]["payload"]
    assert isinstance(payload, dict) and payload["held_account"]["id"] == tree["channel"]
    assert payload["stops"] == ["outbound_calls", "internet"] and "inbound_calls" in payload["goes_on"]


# -- a refused change leaves nothing behind --------------------------------

REFUSALS: dict[str, tuple[Change, type[DomainError]]] = {
    "suspend a new client": (lambda s, t: s.suspend(t["new"]), InvalidTransition),
    "suspend a scheduled client": (lambda s, t: s.suspend(t["scheduled"]), InvalidTransition),
    "same reason twice": (lambda s, t: s.suspend(t["held"], HoldReason.FRAUD), AlreadySuspended),
    "suspend the management client": (lambda s, t: s.suspend(_management_id(s)), InvalidTransition),
    # The operator's admins act on their own account: refused for who they are before the rules speak.
    "suspend the operator": (lambda s, t: s.suspend(s.operator_id), Forbidden),
    "unsuspend a plain client": (lambda s, t: s.unsuspend(t["active"]), NotSuspended),
    "unsuspend a reason not held": (
        lambda s, t: s.unsuspend(t["held"], HoldReason.OTHER),
        NotSuspended,
    ),
    "decommission the management client": (lambda s, t: s.decommission(_management_id(s)), InvalidTransition),
    "decommission the operator": (lambda s, t: s.decommission(s.operator_id), Forbidden),
    "decommission a channel with clients": (lambda s, t: s.decommission(t["channel"]), HasActiveChildren),
    "activate an active client": (lambda s, t: _activate(s, t["active"]), InvalidTransition),
    "cancel with nothing scheduled": (lambda s, t: _cancel(s, t["active"]), InvalidTransition),
    "convert to the same type": (lambda s, t: _convert(s, t["active"], ClientType.RESIDENTIAL), InvalidTransition),
    "stale version": (lambda s, t: _cancel(s, t["doomed"], 1), VersionConflict),
    "stale version on suspend": (
        lambda s, t: svc.suspend(
            s.uow(),
            caller=s.admin,
            account_id=t["active"],
            reason=HoldReason.OTHER,
            note="",
            expected_version=7,
            now=s.now,
        ),
        VersionConflict,
    ),
    "bad name": (lambda s, t: _update(s, t["active"], name=" "), ValidationFailed),
    "taken ref": (lambda s, t: _update(s, t["active"], billing_ref=s.get(t["new"]).billing_ref), BillingRefTaken),
}


@pytest.mark.parametrize("name", REFUSALS)
def test_a_refused_change_writes_nothing(site: Installation, tree: dict[str, str], name: str) -> None:
    change, error = REFUSALS[name]
    before = dump(site.engine)
    with pytest.raises(error):
        change(site, tree)
    assert dump(site.engine) == before


def test_unsuspending_a_client_of_a_suspended_channel_names_the_channel(
    site: Installation, tree: dict[str, str]
) -> None:
    site.suspend(tree["channel"], HoldReason.NON_PAYMENT)
    before = dump(site.engine)
    with pytest.raises(InheritedSuspension) as raised:
        site.unsuspend(tree["active"])
    assert raised.value.extra["suspended_by"] == {"id": tree["channel"], "name": "North Sales"}
    assert dump(site.engine) == before


ON_DECOMMISSIONED: dict[str, Change] = {
    "suspend": lambda s, t: s.suspend(t["active"], HoldReason.FRAUD),
    "unsuspend": lambda s, t: s.unsuspend(t["active"]),
    "activate": lambda s, t: _activate(s, t["active"], on=LATER),
    "decommission": lambda s, t: s.decommission(t["active"]),
    "decommission on": lambda s, t: s.decommission(t["active"], on=LATER),
    "cancel": lambda s, t: _cancel(s, t["active"]),
    "convert": lambda s, t: _convert(s, t["active"], ClientType.RESIDENTIAL),
    "update": lambda s, t: _update(s, t["active"], notes="one more thing"),
    "update bad name": lambda s, t: _update(s, t["active"], name=""),
    "create under it": lambda s, t: s.client(t["active"], "Child"),
    "with a stale version": lambda s, t: _update(s, t["active"], version=1, notes="stale"),
}


@pytest.mark.parametrize("name", ON_DECOMMISSIONED)
def test_a_decommissioned_account_refuses_every_change(site: Installation, tree: dict[str, str], name: str) -> None:
    site.suspend(tree["active"], HoldReason.FRAUD)
    site.decommission(tree["active"])
    before = dump(site.engine)
    with pytest.raises(DomainError) as raised:
        ON_DECOMMISSIONED[name](site, tree)
    assert raised.value.code == "account-decommissioned"
    assert dump(site.engine) == before


def test_version_grows_by_one_per_change_and_guards_stale_writes(site: Installation) -> None:
    client = site.client()
    _update(site, client.id, version=1, notes="a")
    svc.suspend(
        site.uow(),
        caller=site.admin,
        account_id=client.id,
        reason=HoldReason.OTHER,
        note="",
        expected_version=2,
        now=site.now,
    )
    svc.unsuspend(site.uow(), caller=site.admin, account_id=client.id, reason=None, expected_version=3, now=site.now)
    site.decommission(client.id, on=LATER)
    _cancel(site, client.id, version=5)
    assert site.get(client.id).version == 6
    with pytest.raises(VersionConflict) as raised:
        _update(site, client.id, version=5, notes="b")
    assert raised.value.extra == {"version": 6}


# -- the scheduler pass ----------------------------------------------------


def _pass(site: Installation, at: datetime) -> PassResult:
    site.clock.set(at)
    return apply_due_changes(site.uow, now=at)


@pytest.fixture
def new_york(engine: Engine, clock: MutableClock) -> Installation:
    """An operator five hours behind UTC in November: its midnight is 05:00 UTC."""
    return Installation.start(engine, clock, timezone="America/New_York")


def test_a_due_activation_happens_at_midnight_operator_time_once(new_york: Installation) -> None:
    site = new_york
    day = date(2026, 11, 25)
    client = site.client(start_date=day)
    assert client.stage is Stage.SCHEDULED
    # 04:59 UTC on the 25th is still the 24th in New York
    assert _pass(site, datetime(2026, 11, 25, 4, 59, tzinfo=UTC)).activated == []
    assert site.get(client.id).stage is Stage.SCHEDULED
    since, outbox_since = last_event_id(site.engine), last_outbox_id(site.engine)
    assert _pass(site, datetime(2026, 11, 25, 5, 0, tzinfo=UTC)).activated == [client.id]
    assert _pass(site, datetime(2026, 11, 25, 5, 1, tzinfo=UTC)).activated == []
    stored = site.get(client.id)
    assert (stored.stage, stored.start_date, stored.version) == (Stage.ACTIVE, day, 2)
    assert new_events(site.engine, since) == [(client.id, "activated")]
    with site.uow().reading() as uow:
        entries, _ = uow.audit.page(site.admin, account_id=client.id, limit=1, cursor=None)
    assert entries[0].actor == "system"
    assert new_outbox(site.engine, outbox_since) == [
        Row("webhook", "account.activated", client.id),
        Row("webhook", "entitlements.changed", client.id),
    ]


def test_a_due_decommission_is_applied_once_children_first(new_york: Installation) -> None:
    site = new_york
    day = date(2026, 11, 26)
    channel = site.channel()
    clients = [site.client(channel.id, f"C{i}") for i in range(2)]
    give_service(site.engine, clients[0].id, "Fibre", date(2026, 11, 1))
    for client in clients:
        site.decommission(client.id, on=day)
    site.decommission(channel.id, on=day)
    assert _pass(site, datetime(2026, 11, 26, 4, 59, tzinfo=UTC)).decommissioned == []
    since = last_event_id(site.engine)
    result = _pass(site, datetime(2026, 11, 26, 5, 0, tzinfo=UTC))
    assert result.decommissioned == [*sorted(c.id for c in clients), channel.id] and result.refused == {}
    assert _pass(site, datetime(2026, 11, 27, 12, 0, tzinfo=UTC)).decommissioned == []
    for account in (channel, *clients):
        stored = site.get(account.id)
        assert (stored.stage, stored.decommissioned_on, stored.decommission_on) == (Stage.DECOMMISSIONED, day, None)
    assert sorted(new_events(site.engine, since)) == sorted((a.id, "decommissioned") for a in (channel, *clients))
    with site.uow().reading() as uow:
        assert uow.connection.execute(select(services.c.end_date)).scalar_one() == day


def test_a_due_partner_whose_child_stayed_is_refused_and_kept(site: Installation) -> None:
    channel = site.channel()
    child = site.client(channel.id)
    site.decommission(child.id, on=LATER)
    site.decommission(channel.id, on=LATER)
    _cancel(site, child.id)  # the child stays after all
    result = _pass(site, datetime(2026, 12, 3, 12, 0, tzinfo=UTC))
    assert result.decommissioned == [] and channel.id in result.refused
    stored = site.get(channel.id)
    assert (stored.stage, stored.decommission_on) == (Stage.ACTIVE, LATER)


def test_a_scheduled_client_under_a_suspended_channel_starts_suspended(site: Installation) -> None:
    channel = site.channel()
    client = site.client(channel.id, start_date=LATER)
    site.suspend(channel.id)
    assert site.get(client.id).status is Status.SUSPENDED
    assert _pass(site, datetime(2026, 12, 3, 0, 0, tzinfo=UTC)).activated == [client.id]
    stored = site.get(client.id)
    assert (stored.stage, stored.status) == (Stage.ACTIVE, Status.SUSPENDED)


def test_a_client_created_under_a_suspended_channel_is_suspended_from_the_start(site: Installation) -> None:
    reseller = site.reseller()
    channel = site.channel(reseller.id)
    site.suspend(reseller.id, HoldReason.NON_PAYMENT)
    site.suspend(channel.id, HoldReason.FRAUD)
    created = site.client(channel.id)
    stored = site.get(created.id)
    for account in (created, stored):  # the answer to the create request, and what is stored
        assert account.status is Status.SUSPENDED
        assert account.inherited is not None and account.inherited.account_id == channel.id
        assert account.inherited.reason is HoldReason.FRAUD
    after = next(e for e in dump(site.engine)["events"] if e[1] == created.id)[-1]
    assert isinstance(after, dict) and after["status"] == "suspended"
