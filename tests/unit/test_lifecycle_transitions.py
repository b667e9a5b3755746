"""lifecycle.md §2 on the pure domain: every row of the transition table, and its refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from tenure.domain import lifecycle
from tenure.domain.errors import (
    AccountDecommissioned,
    AlreadySuspended,
    DomainError,
    HasActiveChildren,
    InvalidTransition,
    ValidationFailed,
)
from tenure.domain.events import Action
from tenure.domain.model import Account, ClientType, HoldReason, Kind, Stage, Status
from tests.unit.builders import NOW, OPERATOR, TODAY, account, client, held, hold

TOMORROW = TODAY + timedelta(days=1)
NEXT_MONTH = TODAY + timedelta(days=30)
UNDECOMMISSIONED = (Stage.NEW, Stage.SCHEDULED, Stage.ACTIVE)

# -- activate --------------------------------------------------------------


@pytest.mark.parametrize("stage", [Stage.NEW, Stage.SCHEDULED])
def test_activate_now_from_new_or_scheduled(stage: Stage) -> None:
    target = client(stage, start_date=NEXT_MONTH, end_date=NEXT_MONTH + timedelta(days=365))
    event = lifecycle.activate(target, on=None, today=TODAY)
    assert target.stage is Stage.ACTIVE
    assert target.start_date == TODAY  # early activation moves the start date to today
    assert event.action is Action.ACTIVATED
    assert event.before["stage"] == stage.value and event.after["stage"] == "active"
    assert event.before["start_date"] == NEXT_MONTH.isoformat() and event.after["start_date"] == TODAY.isoformat()


def test_activating_a_new_account_whose_start_has_passed_keeps_its_start() -> None:
    past = TODAY - timedelta(days=10)
    target = client(Stage.NEW, start_date=past)
    lifecycle.activate(target, on=None, today=TODAY)
    assert target.stage is Stage.ACTIVE and target.start_date == past


@pytest.mark.parametrize("on", [TODAY, TODAY - timedelta(days=1), TODAY - timedelta(days=400)])
def test_activate_on_today_or_earlier_means_now(on: date) -> None:
    target = client(Stage.SCHEDULED, start_date=NEXT_MONTH, end_date=NEXT_MONTH + timedelta(days=365))
    event = lifecycle.activate(target, on=on, today=TODAY)
    assert event.action is Action.ACTIVATED
    assert target.stage is Stage.ACTIVE and target.start_date == TODAY


@pytest.mark.parametrize("stage", [Stage.NEW, Stage.SCHEDULED])
def test_activate_on_a_future_date_schedules_it(stage: Stage) -> None:
    target = client(stage, start_date=TODAY)
    event = lifecycle.activate(target, on=NEXT_MONTH, today=TODAY)
    assert target.stage is Stage.SCHEDULED and target.start_date == NEXT_MONTH
    assert event.action is Action.ACTIVATION_SCHEDULED
    assert event.after["start_date"] == NEXT_MONTH.isoformat()


def test_activate_on_a_date_after_the_end_date_is_refused() -> None:
    target = client(Stage.NEW, start_date=TODAY, end_date=TOMORROW)
    with pytest.raises(ValidationFailed):
        lifecycle.activate(target, on=NEXT_MONTH, today=TODAY)
    assert target.stage is Stage.NEW and target.start_date == TODAY


@pytest.mark.parametrize("on", [None, NEXT_MONTH])
def test_an_active_account_cannot_be_activated(on: date | None) -> None:
    with pytest.raises(InvalidTransition):
        lifecycle.activate(client(Stage.ACTIVE), on=on, today=TODAY)
    with pytest.raises(InvalidTransition):
        lifecycle.activate(account(Kind.RESELLER), on=on, today=TODAY)


# -- start date reached (the worker) ---------------------------------------


def test_start_date_reached_activates_a_due_scheduled_account() -> None:
    target = client(Stage.SCHEDULED, start_date=TODAY)
    event = lifecycle.start_date_reached(target, today=TODAY)
    assert target.stage is Stage.ACTIVE and target.start_date == TODAY
    assert event.action is Action.ACTIVATED


@pytest.mark.parametrize(("stage", "start"), [(Stage.SCHEDULED, TOMORROW), (Stage.NEW, TODAY), (Stage.ACTIVE, TODAY)])
def test_start_date_reached_refuses_what_is_not_due(stage: Stage, start: date) -> None:
    with pytest.raises(InvalidTransition):
        lifecycle.start_date_reached(client(stage, start_date=start), today=TODAY)


# -- decommission ----------------------------------------------------------


@pytest.mark.parametrize("stage", UNDECOMMISSIONED)
@pytest.mark.parametrize("suspended", [False, True])
def test_decommission_now_from_every_undecommissioned_stage(stage: Stage, suspended: bool) -> None:
    target = client(stage, decommission_on=NEXT_MONTH)
    if suspended:
        held(target, HoldReason.FRAUD)
    event = lifecycle.decommission(target, on=None, today=TODAY, blocking_children=0)
    assert target.stage is Stage.DECOMMISSIONED and target.status is Status.INACTIVE
    assert target.decommissioned_on == TODAY and target.decommission_on is None
    assert event.action is Action.DECOMMISSIONED
    assert event.after["stage"] == "decommissioned" and event.after["decommissioned_on"] == TODAY.isoformat()
    # holds stay as records: decommissioning lifts nothing
    assert [h.reason for h in target.holds] == ([HoldReason.FRAUD] if suspended else [])


@pytest.mark.parametrize("on", [TODAY, TODAY - timedelta(days=3)])
def test_decommission_on_today_or_earlier_means_now(on: date) -> None:
    target = client()
    assert lifecycle.decommission(target, on=on, today=TODAY, blocking_children=0).action is Action.DECOMMISSIONED
    assert target.decommissioned_on == TODAY


@pytest.mark.parametrize("stage", UNDECOMMISSIONED)
def test_decommission_on_a_future_date_records_it_and_keeps_the_stage(stage: Stage) -> None:
    target = client(stage)
    event = lifecycle.decommission(target, on=NEXT_MONTH, today=TODAY, blocking_children=0)
    assert target.stage is stage and target.decommission_on == NEXT_MONTH
    assert event.action is Action.DECOMMISSION_SCHEDULED
    assert event.before == {"decommission_on": None} and event.after == {"decommission_on": NEXT_MONTH.isoformat()}


@pytest.mark.parametrize("kind", [Kind.RESELLER, Kind.CHANNEL])
@pytest.mark.parametrize("on", [None, NEXT_MONTH])
def test_a_partner_waits_for_its_children(kind: Kind, on: date | None) -> None:
    partner = account(kind)
    with pytest.raises(HasActiveChildren) as raised:
        lifecycle.decommission(partner, on=on, today=TODAY, blocking_children=2)
    assert raised.value.code == "has-active-children" and "2 undecommissioned" in raised.value.detail
    assert partner.stage is Stage.ACTIVE and partner.decommission_on is None
    lifecycle.decommission(partner, on=on, today=TODAY, blocking_children=0)
    assert partner.stage is Stage.DECOMMISSIONED or partner.decommission_on == on


# -- cancel scheduled decommission -----------------------------------------


@pytest.mark.parametrize("stage", UNDECOMMISSIONED)
def test_cancel_clears_a_scheduled_decommission(stage: Stage) -> None:
    target = client(stage, decommission_on=NEXT_MONTH)
    event = lifecycle.cancel_decommission(target)
    assert target.decommission_on is None and target.stage is stage
    assert event.action is Action.DECOMMISSION_CANCELLED
    assert event.before == {"decommission_on": NEXT_MONTH.isoformat()} and event.after == {"decommission_on": None}


def test_cancel_without_a_scheduled_decommission_is_refused() -> None:
    with pytest.raises(InvalidTransition):
        lifecycle.cancel_decommission(client())


# -- convert ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "to"), [(ClientType.RESIDENTIAL, ClientType.VIRTUAL), (ClientType.VIRTUAL, ClientType.RESIDENTIAL)]
)
@pytest.mark.parametrize("stage", UNDECOMMISSIONED)
def test_convert_flips_the_client_type(start: ClientType, to: ClientType, stage: Stage) -> None:
    target = client(stage, client_type=start)
    event = lifecycle.convert(target, to=to)
    assert target.client_type is to and target.stage is stage
    assert event.action is Action.CONVERTED
    assert event.before == {"client_type": start.value} and event.after == {"client_type": to.value}


def test_convert_to_the_same_type_or_of_a_partner_is_refused() -> None:
    with pytest.raises(InvalidTransition):
        lifecycle.convert(client(client_type=ClientType.VIRTUAL), to=ClientType.VIRTUAL)
    with pytest.raises(InvalidTransition):
        lifecycle.convert(account(Kind.CHANNEL), to=ClientType.VIRTUAL)


# -- edits -----------------------------------------------------------------


@pytest.mark.parametrize("stage", [Stage.NEW, Stage.SCHEDULED])
def test_start_date_moves_while_not_yet_active(stage: Stage) -> None:
    target = client(stage, start_date=TOMORROW)
    event = lifecycle.update(target, lifecycle.AccountChanges(start_date=NEXT_MONTH))
    assert target.start_date == NEXT_MONTH
    assert event is not None and event.action is Action.UPDATED
    assert event.before == {"start_date": TOMORROW.isoformat()} and event.after == {
        "start_date": NEXT_MONTH.isoformat()
    }


def test_start_date_of_an_active_client_cannot_move() -> None:
    target = client(Stage.ACTIVE, start_date=TODAY)
    with pytest.raises(InvalidTransition):
        lifecycle.update(target, lifecycle.AccountChanges(start_date=NEXT_MONTH))
    assert target.start_date == TODAY
    # repeating the same start date is not a change
    assert lifecycle.update(target, lifecycle.AccountChanges(start_date=TODAY)) is None


def test_edits_keep_end_after_start_and_dates_on_clients() -> None:
    target = client(Stage.NEW, start_date=TODAY, end_date=NEXT_MONTH)
    with pytest.raises(ValidationFailed):
        lifecycle.update(target, lifecycle.AccountChanges(end_date=TODAY - timedelta(days=1)))
    with pytest.raises(ValidationFailed):
        lifecycle.update(target, lifecycle.AccountChanges(start_date=NEXT_MONTH + timedelta(days=1)))
    with pytest.raises(ValidationFailed):
        lifecycle.update(account(Kind.CHANNEL), lifecycle.AccountChanges(end_date=NEXT_MONTH))


def test_an_edit_that_changes_nothing_records_nothing() -> None:
    target = client(name="Acme Ltd")
    assert lifecycle.update(target, lifecycle.AccountChanges(name=" Acme Ltd ", notes="")) is None


def test_an_edit_records_only_the_changed_fields() -> None:
    target = client(name="Acme Ltd")
    event = lifecycle.update(target, lifecycle.AccountChanges(name="Acme Group", notes="VIP"))
    assert event is not None
    assert event.before == {"name": "Acme Ltd", "notes": ""} and event.after == {"name": "Acme Group", "notes": "VIP"}


# -- protected accounts ----------------------------------------------------


def _management() -> Account:
    return client(is_management=True, client_type=ClientType.VIRTUAL)


@pytest.mark.parametrize("make", [lambda: account(Kind.OPERATOR), _management], ids=["operator", "management"])
def test_operator_and_management_client_can_be_neither_suspended_nor_decommissioned(
    make: Callable[[], Account],
) -> None:
    target = make()
    with pytest.raises(InvalidTransition):
        lifecycle.suspend(target, hold=hold(target))
    for on in (None, NEXT_MONTH):
        with pytest.raises(InvalidTransition):
            lifecycle.decommission(target, on=on, today=TODAY, blocking_children=0)
    # the protection is checked before the children rule
    with pytest.raises(InvalidTransition):
        lifecycle.decommission(target, on=None, today=TODAY, blocking_children=3)
    assert target.stage is Stage.ACTIVE and target.holds == [] and target.decommission_on is None


# -- decommissioned is final, and says so first ----------------------------

CHANGES: dict[str, Callable[[Account], object]] = {
    "activate": lambda a: lifecycle.activate(a, on=None, today=TODAY),
    "activate_on": lambda a: lifecycle.activate(a, on=NEXT_MONTH, today=TODAY),
    "start_date_reached": lambda a: lifecycle.start_date_reached(a, today=TODAY),
    # same reason as the hold it still carries: already-suspended would come second
    "suspend": lambda a: lifecycle.suspend(a, hold=hold(a, HoldReason.FRAUD)),
    "unsuspend": lambda a: lifecycle.unsuspend(a, reason=HoldReason.OTHER, by="x", now=NOW, authority=OPERATOR),
    "unsuspend_all": lambda a: lifecycle.unsuspend(a, reason=None, by="x", now=NOW, authority=OPERATOR),
    "decommission": lambda a: lifecycle.decommission(a, on=None, today=TODAY, blocking_children=5),
    "decommission_on": lambda a: lifecycle.decommission(a, on=NEXT_MONTH, today=TODAY, blocking_children=0),
    "cancel": lambda a: lifecycle.cancel_decommission(a),
    "convert_same": lambda a: lifecycle.convert(a, to=ClientType.RESIDENTIAL),
    "convert": lambda a: lifecycle.convert(a, to=ClientType.VIRTUAL),
    "update_bad_name": lambda a: lifecycle.update(a, lifecycle.AccountChanges(name="")),
    "update_start": lambda a: lifecycle.update(a, lifecycle.AccountChanges(start_date=NEXT_MONTH)),
    "update_notes": lambda a: lifecycle.update(a, lifecycle.AccountChanges(notes="late")),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
@pytest.mark.parametrize("kind", [Kind.CLIENT, Kind.CHANNEL])
def test_a_decommissioned_account_refuses_every_change_first(change: Callable[[Account], object], kind: Kind) -> None:
    target = account(kind, stage=Stage.DECOMMISSIONED, decommissioned_on=TODAY)
    held(target, HoldReason.FRAUD)
    before = (target.stage, target.decommission_on, target.client_type, target.name, target.notes, list(target.holds))
    with pytest.raises(DomainError) as raised:
        change(target)
    assert type(raised.value) is AccountDecommissioned and raised.value.code == "account-decommissioned"
    after = (target.stage, target.decommission_on, target.client_type, target.name, target.notes, list(target.holds))
    assert after == before


def test_the_decommissioned_check_beats_already_suspended() -> None:
    target = held(client(Stage.DECOMMISSIONED), HoldReason.FRAUD)
    with pytest.raises(AccountDecommissioned):
        lifecycle.suspend(target, hold=hold(target, HoldReason.FRAUD))
    live = held(client(), HoldReason.FRAUD)
    with pytest.raises(AlreadySuspended):
        lifecycle.suspend(live, hold=hold(live, HoldReason.FRAUD))
