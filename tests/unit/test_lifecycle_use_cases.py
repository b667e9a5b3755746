"""The lifecycle use cases (services.accounts) on the in-memory unit of work (tests/fakes.py).

Suspend, unsuspend (the channel cascade included), decommission, activate and convert:
the rules and the events and notifications they leave, with no database, so the whole
file runs in a fraction of a second. Moved from tests/integration (issue 15 §1); what
only a database can show (row locks, SKIP LOCKED, status and the cascade in SQL, the
whole-database dump of a refused change) stays there, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tenure.domain.catalog import Office
from tenure.domain.errors import (
    AlreadySuspended,
    HasActiveChildren,
    InheritedSuspension,
    InvalidTransition,
    NotSuspended,
    VersionConflict,
)
from tenure.domain.ids import new_id
from tenure.domain.model import ActivateMode, ClientType, HoldReason, Stage, Status
from tenure.services import accounts as svc
from tests.fakes import FakeInstallation, Message, State

TODAY = date(2026, 11, 23)  # tests.support.START in Europe/London
LATER = TODAY + timedelta(days=10)


@pytest.fixture
def site() -> FakeInstallation:
    return FakeInstallation()


def _activate(site: FakeInstallation, account_id: str, on: date | None = None) -> None:
    svc.activate(site.uow(), caller=site.admin, account_id=account_id, on=on, expected_version=None, now=site.now)


def _cancel(site: FakeInstallation, account_id: str, version: int | None = None) -> None:
    svc.cancel_decommission(
        site.uow(), caller=site.admin, account_id=account_id, expected_version=version, now=site.now
    )


def _convert(site: FakeInstallation, account_id: str, to: ClientType) -> None:
    svc.convert(site.uow(), caller=site.admin, account_id=account_id, to=to, expected_version=None, now=site.now)


def _give_office(site: FakeInstallation, account_id: str, name: str) -> str:
    office = Office(new_id(), name)
    with site.uow() as uow:
        uow.offices.add(office, now=site.now)
        uow.offices.assign(office.id, account_id, now=site.now)
        uow.commit()
    return office.id


def _events_since(state: State, since: int) -> list[tuple[str, str]]:
    return [(r.event.account_id, r.event.action.value) for r in state.events[since:]]


def _outbox_since(state: State, since: int) -> list[tuple[str, str, str]]:
    return [(m.kind, m.topic, m.account_id) for m in state.outbox[since:]]


# -- the fake itself -------------------------------------------------------


def test_a_unit_of_work_left_without_commit_leaves_nothing(site: FakeInstallation) -> None:
    client = site.client()
    before = repr(site.state)
    with site.uow() as uow:
        account = uow.accounts.get(client.id, lock=True)
        account.name = "Renamed"
        uow.accounts.save(account, now=site.now)
    assert repr(site.state) == before
    assert site.get(client.id).name == "Acme Ltd"


# -- activate --------------------------------------------------------------


def test_activate_now_and_on_a_date(site: FakeInstallation) -> None:
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


def test_decommission_now_ends_services_releases_offices_and_notifies(site: FakeInstallation) -> None:
    client = site.client(start_date=TODAY - timedelta(days=30))
    _give_office(site, client.id, "2.14")
    events, outbox = len(site.state.events), len(site.state.outbox)
    site.decommission(client.id)
    stored = site.get(client.id)
    assert (stored.stage, stored.status, stored.decommissioned_on) == (Stage.DECOMMISSIONED, Status.INACTIVE, TODAY)
    assert site.state.services_ended == [(client.id, TODAY)]
    assert site.state.assignments == {}
    assert site.state.disconnects == [(client.id, "decommissioned")]
    assert _events_since(site.state, events) == [(client.id, "office_released"), (client.id, "decommissioned")]
    assert sorted(_outbox_since(site.state, outbox)) == [
        ("email", "decommissioned", client.id),
        ("webhook", "account.decommissioned", client.id),
        ("webhook", "entitlements.changed", client.id),
    ]


def test_decommission_on_a_date_only_records_the_date(site: FakeInstallation) -> None:
    client = site.client()
    outbox = len(site.state.outbox)
    site.decommission(client.id, on=LATER)
    stored = site.get(client.id)
    assert (stored.stage, stored.decommission_on, stored.version) == (Stage.ACTIVE, LATER, 2)
    rows = site.state.outbox[outbox:]
    assert [(m.kind, m.topic) for m in rows] == [
        ("webhook", "account.decommission_scheduled"),
        ("email", "decommission_scheduled"),
    ]
    assert rows[1].payload == {"decommission_on": LATER.isoformat(), "decommissioned_on": None}


def test_a_partner_goes_only_after_its_children(site: FakeInstallation) -> None:
    reseller = site.reseller()
    channel = site.channel(reseller.id)
    client = site.client(channel.id)
    before = repr(site.state)
    for partner in (reseller, channel):
        for on in (None, LATER):
            with pytest.raises(HasActiveChildren):
                site.decommission(partner.id, on=on)
    assert repr(site.state) == before
    site.decommission(client.id)
    site.decommission(channel.id)
    site.decommission(reseller.id)
    assert site.get(reseller.id).stage is Stage.DECOMMISSIONED


def test_scheduling_a_partner_after_children_scheduled_earlier(site: FakeInstallation) -> None:
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


def test_a_partner_is_not_decommissioned_now_while_a_due_child_waits_for_the_worker(site: FakeInstallation) -> None:
    channel = site.channel()
    client = site.client(channel.id)
    site.decommission(client.id, on=TODAY + timedelta(days=1))
    site.clock.set(site.now + timedelta(days=1))  # the child is due, but the worker has not run yet
    with pytest.raises(HasActiveChildren):
        site.decommission(channel.id)
    assert site.get(client.id).stage is Stage.ACTIVE


def test_cancel_a_scheduled_decommission(site: FakeInstallation) -> None:
    client = site.client()
    site.decommission(client.id, on=LATER)
    events, outbox = len(site.state.events), len(site.state.outbox)
    _cancel(site, client.id, version=2)
    assert site.get(client.id).decommission_on is None
    assert _events_since(site.state, events) == [(client.id, "decommission_cancelled")]
    assert _outbox_since(site.state, outbox) == [
        ("webhook", "account.decommission_cancelled", client.id),
        ("email", "decommission_cancelled", client.id),
    ]
    before = repr(site.state)
    with pytest.raises(InvalidTransition):
        _cancel(site, client.id)
    assert repr(site.state) == before


def test_a_stale_version_is_refused_and_changes_nothing(site: FakeInstallation) -> None:
    client = site.client()
    site.decommission(client.id, on=LATER)
    before = repr(site.state)
    with pytest.raises(VersionConflict):
        _cancel(site, client.id, version=1)
    assert repr(site.state) == before


# -- convert ---------------------------------------------------------------


def test_convert_to_virtual_releases_offices(site: FakeInstallation) -> None:
    client = site.client()
    _give_office(site, client.id, "1.01")
    _give_office(site, client.id, "1.02")
    events, outbox = len(site.state.events), len(site.state.outbox)
    _convert(site, client.id, ClientType.VIRTUAL)
    assert site.get(client.id).client_type is ClientType.VIRTUAL
    assert _events_since(site.state, events) == [
        (client.id, "office_released"),
        (client.id, "office_released"),
        (client.id, "converted"),
    ]
    assert _outbox_since(site.state, outbox) == [("webhook", "account.converted", client.id)]
    assert site.state.assignments == {}
    _convert(site, client.id, ClientType.RESIDENTIAL)
    assert site.get(client.id).client_type is ClientType.RESIDENTIAL
    with pytest.raises(InvalidTransition):
        _convert(site, site.channel().id, ClientType.VIRTUAL)


# -- suspend, unsuspend and the channel cascade ------------------------------


def test_unsuspending_the_channel_restores_each_client_to_its_own_state(site: FakeInstallation) -> None:
    channel = site.channel()
    plain = site.client(channel.id, "Plain")
    fraudster = site.client(channel.id, "Fraudster")
    site.suspend(fraudster.id, HoldReason.FRAUD)
    site.suspend(channel.id, HoldReason.NON_PAYMENT)
    assert site.get(plain.id).status is Status.SUSPENDED
    site.unsuspend(channel.id)
    site.fan_out()
    assert site.messages("email", "unsuspended") == sorted([channel.id, plain.id])  # not the fraudster, still held
    assert site.get(plain.id).status is Status.ACTIVE
    assert site.get(fraudster.id).status is Status.SUSPENDED
    assert [h.reason for h in site.get(fraudster.id).holds] == [HoldReason.FRAUD]


def test_a_second_hold_with_the_same_reason_is_refused(site: FakeInstallation) -> None:
    client = site.client()
    site.suspend(client.id, HoldReason.FRAUD)
    with pytest.raises(AlreadySuspended):
        site.suspend(client.id, HoldReason.FRAUD)
    site.suspend(client.id, HoldReason.NON_PAYMENT)
    assert {h.reason for h in site.get(client.id).holds} == {HoldReason.FRAUD, HoldReason.NON_PAYMENT}


def test_unsuspend_names_the_ancestor_when_suspension_is_only_inherited(site: FakeInstallation) -> None:
    channel = site.channel(name="North Sales")
    client = site.client(channel.id)
    site.suspend(channel.id)
    with pytest.raises(InheritedSuspension) as raised:
        site.unsuspend(client.id)
    assert "North Sales" in raised.value.detail
    other = site.client(name="Other")
    with pytest.raises(NotSuspended):
        site.unsuspend(other.id)


def test_the_cascade_notifies_each_client_whose_status_flipped(site: FakeInstallation) -> None:
    channel = site.channel()
    flipped = [site.client(channel.id, f"Client {i}").id for i in range(3)]
    already = site.client(channel.id, "Already suspended")
    site.suspend(already.id, HoldReason.FRAUD)
    site.suspend(channel.id, HoldReason.NON_PAYMENT)
    assert site.messages("cascade", "suspended") == [channel.id]  # one job at the commit
    assert site.messages("email", "suspended") == [already.id]
    site.fan_out()  # the worker expands it after the commit
    emails = site.messages("email", "suspended")
    # the earlier own suspension sent one email; the cascade one to each flipped client and the channel
    assert emails.count(already.id) == 1
    assert sorted(set(emails) - {already.id}) == sorted([*flipped, channel.id])
    changed = site.messages("webhook", "entitlements.changed")
    assert set(flipped) <= set(changed)
    assert changed.count(already.id) == 1
    email = next(m for m in site.state.outbox if m.topic == "suspended" and m.account_id == flipped[0])
    assert email.recipient == "client.0@example.com"  # each client's own contact, not the channel's


def test_unsuspend_of_one_of_two_holds_sends_nothing(site: FakeInstallation) -> None:
    client = site.client()
    site.suspend(client.id, HoldReason.FRAUD)
    site.suspend(client.id, HoldReason.NON_PAYMENT)
    site.unsuspend(client.id, HoldReason.FRAUD)
    assert site.messages("email", "unsuspended") == []
    assert site.get(client.id).status is Status.SUSPENDED
    site.unsuspend(client.id)
    assert site.messages("email", "unsuspended") == [client.id]


def test_the_nearest_held_ancestor_is_named_and_each_level_restores_on_its_own(site: FakeInstallation) -> None:
    reseller = site.reseller("Northwind")
    channel = site.channel(reseller.id, "North Sales")
    client = site.client(channel.id)
    site.suspend(reseller.id, HoldReason.NON_PAYMENT)
    inherited = site.get(client.id).inherited
    assert inherited is not None and inherited.account_id == reseller.id
    site.suspend(channel.id, HoldReason.FRAUD)  # an active channel takes a hold while suspended through its reseller
    inherited = site.get(client.id).inherited
    assert inherited is not None and (inherited.account_id, inherited.reason) == (channel.id, HoldReason.FRAUD)
    site.unsuspend(reseller.id)
    assert site.get(channel.id).status is Status.SUSPENDED and site.get(client.id).status is Status.SUSPENDED
    site.unsuspend(channel.id)
    assert site.get(client.id).status is Status.ACTIVE and site.get(client.id).inherited is None


def test_lifting_one_of_two_channel_holds_keeps_its_clients_suspended(site: FakeInstallation) -> None:
    channel = site.channel()
    client = site.client(channel.id)
    site.suspend(channel.id, HoldReason.FRAUD)
    site.suspend(channel.id, HoldReason.NON_PAYMENT)
    site.unsuspend(channel.id, HoldReason.FRAUD)
    site.fan_out()
    assert site.get(client.id).status is Status.SUSPENDED
    assert site.messages("email", "unsuspended") == []


def test_a_channel_suspension_cuts_the_sessions_of_the_clients_it_flipped(site: FakeInstallation) -> None:
    channel = site.channel()
    active = site.client(channel.id, "Active")
    held = site.client(channel.id, "Held")
    site.suspend(held.id, HoldReason.FRAUD)
    site.state.disconnects.clear()
    site.suspend(channel.id, HoldReason.NON_PAYMENT)
    assert site.state.disconnects == []  # cut when the worker expands the job
    site.fan_out()
    assert [account_id for account_id, _ in site.state.disconnects] == [channel.id, active.id]
    assert all(reason.startswith("suspended: non-payment hold on channel") for _, reason in site.state.disconnects)


def test_every_event_names_its_actor(site: FakeInstallation) -> None:
    client = site.client()
    site.suspend(client.id)
    site.unsuspend(client.id)
    assert site.actions()[-2:] == ["suspended", "unsuspended"]
    assert {r.actor for r in site.state.events[-2:]} == {site.admin.email}
    assert all(isinstance(m, Message) for m in site.state.outbox)
