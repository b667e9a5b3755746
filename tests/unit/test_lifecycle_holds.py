"""lifecycle.md §2-3 on the pure domain: derived status, and suspension as a set of holds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tenure.domain import lifecycle
from tenure.domain.errors import AlreadySuspended, InheritedSuspension, InvalidTransition, NotSuspended
from tenure.domain.events import Action
from tenure.domain.model import HoldReason, Kind, Stage, Status, derive_status
from tests.unit.builders import NOW, OPERATOR, account, client, held, hold, through

# -- derived status --------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "suspended", "status"),
    [
        (Stage.NEW, False, Status.NEW),
        (Stage.SCHEDULED, False, Status.SCHEDULED),
        (Stage.ACTIVE, False, Status.ACTIVE),
        (Stage.DECOMMISSIONED, False, Status.INACTIVE),
        (Stage.NEW, True, Status.SUSPENDED),
        (Stage.SCHEDULED, True, Status.SUSPENDED),
        (Stage.ACTIVE, True, Status.SUSPENDED),
        (Stage.DECOMMISSIONED, True, Status.INACTIVE),  # decommissioned wins over suspension
    ],
)
def test_derive_status(stage: Stage, suspended: bool, status: Status) -> None:
    assert derive_status(stage, suspended) is status


def test_an_account_is_suspended_by_an_own_hold_or_an_ancestors() -> None:
    assert client().status is Status.ACTIVE
    assert held(client(), HoldReason.OTHER).status is Status.SUSPENDED
    assert client(inherited=through()).status is Status.SUSPENDED
    assert client(Stage.NEW, inherited=through()).status is Status.SUSPENDED
    assert client(Stage.DECOMMISSIONED, inherited=through()).status is Status.INACTIVE


def test_every_status_has_a_label_and_a_colour() -> None:
    assert {s: (s.label, s.colour) for s in Status} == {
        Status.NEW: ("New", "blue"),
        Status.SCHEDULED: ("Scheduled", "purple"),
        Status.ACTIVE: ("Active", "green"),
        Status.SUSPENDED: ("Suspended", "orange"),
        Status.INACTIVE: ("Inactive", "grey"),
    }


# -- suspend ---------------------------------------------------------------


@pytest.mark.parametrize("kind", [Kind.CLIENT, Kind.CHANNEL, Kind.RESELLER])
def test_suspend_adds_a_hold_to_an_active_account(kind: Kind) -> None:
    target = account(kind)
    new_hold = hold(target, HoldReason.FRAUD)
    event = lifecycle.suspend(target, hold=new_hold)
    assert target.holds == [new_hold] and target.status is Status.SUSPENDED
    assert target.stage is Stage.ACTIVE  # the stage is kept
    assert event.action is Action.SUSPENDED and event.reason == "fraud"
    assert event.before == {"status": "active", "holds": []}
    assert event.after == {"status": "suspended", "holds": ["fraud"]}


@pytest.mark.parametrize("stage", [Stage.NEW, Stage.SCHEDULED])
def test_only_an_active_account_takes_a_hold(stage: Stage) -> None:
    target = client(stage)
    with pytest.raises(InvalidTransition):
        lifecycle.suspend(target, hold=hold(target))
    # also when it already shows suspended through an ancestor
    target.inherited = through()
    with pytest.raises(InvalidTransition):
        lifecycle.suspend(target, hold=hold(target))
    assert target.holds == []


def test_an_account_suspended_through_an_ancestor_still_takes_its_own_hold() -> None:
    target = client(inherited=through())
    assert target.status is Status.SUSPENDED
    event = lifecycle.suspend(target, hold=hold(target, HoldReason.NON_PAYMENT))
    assert [h.reason for h in target.holds] == [HoldReason.NON_PAYMENT]
    assert event.before["status"] == "suspended" and event.after["holds"] == ["non_payment"]


def test_holds_for_different_reasons_stack() -> None:
    target = client()
    for reason in HoldReason:
        lifecycle.suspend(target, hold=hold(target, reason))
    assert target.held_reasons() == set(HoldReason)


@pytest.mark.parametrize("reason", list(HoldReason))
def test_a_second_hold_with_the_same_reason_is_already_suspended(reason: HoldReason) -> None:
    target = held(client(), reason)
    with pytest.raises(AlreadySuspended) as raised:
        lifecycle.suspend(target, hold=hold(target, reason))
    assert raised.value.code == "already-suspended"
    assert len(target.holds) == 1


def test_the_same_reason_held_by_an_ancestor_does_not_block_an_own_hold() -> None:
    target = client(inherited=through(reason=HoldReason.FRAUD))
    lifecycle.suspend(target, hold=hold(target, HoldReason.FRAUD))
    assert target.held_reasons() == {HoldReason.FRAUD}


# -- unsuspend -------------------------------------------------------------


def test_unsuspend_with_a_reason_lifts_only_that_hold() -> None:
    target = held(client(), HoldReason.FRAUD, HoldReason.NON_PAYMENT)
    fraud = target.holds[0]
    lifted, event = lifecycle.unsuspend(target, reason=HoldReason.FRAUD, by="ops@x", now=NOW, authority=OPERATOR)
    assert lifted == [fraud] and fraud.lifted_at == NOW and fraud.lifted_by == "ops@x"
    assert target.held_reasons() == {HoldReason.NON_PAYMENT}
    assert target.status is Status.SUSPENDED
    assert event.action is Action.UNSUSPENDED and event.reason == "fraud"
    assert event.before == {"status": "suspended", "holds": ["fraud", "non_payment"]}
    assert event.after == {"status": "suspended", "holds": ["non_payment"]}


def test_unsuspend_without_a_reason_lifts_every_own_hold() -> None:
    target = held(client(), HoldReason.FRAUD, HoldReason.OTHER)
    lifted, event = lifecycle.unsuspend(target, reason=None, by="ops@x", now=NOW, authority=OPERATOR)
    assert {h.reason for h in lifted} == {HoldReason.FRAUD, HoldReason.OTHER}
    assert all(h.lifted_at == NOW for h in lifted)
    assert target.holds == [] and target.status is Status.ACTIVE
    assert event.reason == "fraud,other" and event.after == {"status": "active", "holds": []}


def test_unsuspend_keeps_the_inherited_suspension() -> None:
    target = held(client(inherited=through()), HoldReason.REQUESTED)
    lifecycle.unsuspend(target, reason=None, by="ops@x", now=NOW, authority=OPERATOR)
    assert target.holds == [] and target.status is Status.SUSPENDED


def test_unsuspend_with_no_hold_at_all_is_not_suspended() -> None:
    with pytest.raises(NotSuspended) as raised:
        lifecycle.unsuspend(client(), reason=None, by="x", now=NOW, authority=OPERATOR)
    assert raised.value.code == "not-suspended"


def test_unsuspend_of_a_reason_not_held_is_not_suspended() -> None:
    target = held(client(), HoldReason.FRAUD)
    with pytest.raises(NotSuspended):
        lifecycle.unsuspend(target, reason=HoldReason.NON_PAYMENT, by="x", now=NOW, authority=OPERATOR)
    assert target.held_reasons() == {HoldReason.FRAUD} and target.holds[0].lifted_at is None


@pytest.mark.parametrize("reason", [None, HoldReason.FRAUD])
def test_unsuspend_of_an_account_suspended_only_through_an_ancestor_names_it(reason: HoldReason | None) -> None:
    target = client(inherited=through("North Sales", kind=Kind.CHANNEL))
    with pytest.raises(InheritedSuspension) as raised:
        lifecycle.unsuspend(target, reason=reason, by="x", now=NOW, authority=OPERATOR)
    assert raised.value.code == "inherited-suspension"
    assert "North Sales" in raised.value.detail and "channel" in raised.value.detail
    assert raised.value.extra["suspended_by"] == {"id": "anc000001", "name": "North Sales"}


def test_nearest_held_ancestor_and_own_holds_together() -> None:
    """A client with its own fraud hold under a suspended channel: lifting the channel is not its business."""
    target = held(client(inherited=through()), HoldReason.FRAUD)
    with pytest.raises(NotSuspended):
        lifecycle.unsuspend(target, reason=HoldReason.NON_PAYMENT, by="x", now=NOW, authority=OPERATOR)


def test_lifted_holds_keep_when_they_were_placed() -> None:
    target = client()
    old = hold(target, HoldReason.FRAUD, days_ago=5)
    target.holds = [old]
    lifted, _ = lifecycle.unsuspend(target, reason=None, by="x", now=NOW, authority=OPERATOR)
    assert lifted[0].placed_at == NOW - timedelta(days=5) and lifted[0].lifted_at == NOW
