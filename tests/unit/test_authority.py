"""lifecycle.md §3 "Who may act" on the pure domain: own account, and who may lift which hold.

The line is Meridian (operator) > Northwind (reseller) > North Sales (channel) > Acme (client).
"""

from __future__ import annotations

from datetime import date

import pytest

from tenure.domain import lifecycle
from tenure.domain.access import Authority, Caller, Role, ensure_not_own_account
from tenure.domain.errors import Forbidden, InvalidTransition, NotSuspended
from tenure.domain.model import AccountRef, Hold, HoldReason, Kind
from tests.unit.builders import NOW, TODAY, account, client, hold

LINE = ("meridian", "northwind", "north-sales", "acme")
NAMES = {"meridian": "Meridian", "northwind": "Northwind", "north-sales": "North Sales", "acme": "Acme"}


def placed_by(placer: str | None, reason: HoldReason = HoldReason.FRAUD) -> Hold:
    target = client(id="acme")
    held = hold(target, reason)
    held.placed_by_account = AccountRef(placer, NAMES.get(placer, "Southwind")) if placer else None
    return held


@pytest.mark.parametrize(
    ("placer", "lifters"),
    [
        ("meridian", {"meridian"}),
        ("northwind", {"meridian", "northwind"}),
        ("north-sales", {"meridian", "northwind", "north-sales"}),
        (None, {"meridian"}),  # placer unknown: the operator's
        ("elsewhere", {"meridian"}),  # placer off the line: the operator's
    ],
)
def test_a_hold_is_lifted_from_its_placers_account_or_above(placer: str | None, lifters: set[str]) -> None:
    held = placed_by(placer)
    may = {caller for caller in LINE if Authority(caller, LINE).may_lift(held)}
    assert may == lifters


def test_nobody_lifts_a_hold_on_their_own_account() -> None:
    own = Authority("acme", LINE)
    assert own.is_own_account
    assert not own.may_lift(placed_by("north-sales"))
    assert not Authority("north-sales", LINE).is_own_account


def test_liftable_refuses_with_the_placers_name_when_nothing_is_left() -> None:
    rights = Authority("north-sales", LINE)
    mine, theirs = placed_by("north-sales", HoldReason.OTHER), placed_by("meridian", HoldReason.FRAUD)
    assert rights.liftable([mine, theirs]) == [mine]
    with pytest.raises(Forbidden) as refused:
        rights.liftable([theirs])
    assert "fraud hold was placed by Meridian" in refused.value.detail
    assert refused.value.extra["holds"] == [
        {"reason": "fraud", "placed_by_account": {"id": "meridian", "name": "Meridian"}}
    ]


def test_unsuspend_lifts_only_what_the_authority_allows() -> None:
    target = client(id="acme")
    mine, theirs = placed_by("northwind", HoldReason.OTHER), placed_by("meridian", HoldReason.FRAUD)
    target.holds = [theirs, mine]
    lifted, event = lifecycle.unsuspend(target, reason=None, by="x", now=NOW, authority=Authority("northwind", LINE))
    assert lifted == [mine] and target.holds == [theirs]
    assert event.reason == "other"
    with pytest.raises(Forbidden):
        lifecycle.unsuspend(target, reason=None, by="x", now=NOW, authority=Authority("northwind", LINE))
    with pytest.raises(NotSuspended):  # the rules answer first for a reason not held
        lifecycle.unsuspend(
            target, reason=HoldReason.REQUESTED, by="x", now=NOW, authority=Authority("northwind", LINE)
        )


def test_ensure_not_own_account() -> None:
    caller = Caller("u", "u@northwind.example", "northwind", Kind.RESELLER, Role.ADMIN)
    with pytest.raises(Forbidden, match="own account"):
        ensure_not_own_account(caller, "northwind", "suspend")
    ensure_not_own_account(caller, "north-sales", "suspend")


def test_no_account_is_created_under_a_partner_going_away() -> None:
    partner = account(Kind.CHANNEL, name="North Sales", decommission_on=date(2027, 1, 15))
    request = lifecycle.NewAccount(
        id="new", kind=Kind.CLIENT, name="Late Co", billing_ref="TEN-1", main_contact=partner.main_contact
    )
    with pytest.raises(InvalidTransition, match="2027-01-15"):
        lifecycle.create(request, parent=partner, today=TODAY, now=NOW)
    partner.decommission_on = None
    created, _ = lifecycle.create(request, parent=partner, today=TODAY, now=NOW)
    assert created.parent_id == partner.id
