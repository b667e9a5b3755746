"""The console offers an action exactly when the lifecycle rules would accept it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenure.domain import lifecycle
from tenure.domain.access import Authority, Caller, Role, ensure_not_own_account
from tenure.domain.actions import (
    StatusAction,
    allowed_actions,
    can_edit,
    start_date_editable,
    suspend_confirmation,
    suspend_reasons,
)
from tenure.domain.errors import DomainError
from tenure.domain.model import Account, AccountRef, AncestorHold, ClientType, Contact, Hold, HoldReason, Kind, Stage
from tenure.domain.policy import CONNECT, METIS, Policy

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
TODAY = NOW.date()


LINEAGE = ("root", "p", "a")  # the operator, the parent, the account itself
EVERYTHING = Authority("root", LINEAGE)  # the operator's admin: may lift every hold below it


@st.composite
def accounts(draw: st.DrawFn) -> Account:
    kind = draw(st.sampled_from(list(Kind)))
    stage = draw(st.sampled_from(list(Stage)))
    if kind is not Kind.CLIENT:
        stage = draw(st.sampled_from([Stage.ACTIVE, Stage.DECOMMISSIONED]))
    reasons = draw(st.sets(st.sampled_from(list(HoldReason))))
    placers = st.sampled_from([None, *(AccountRef(i, i.upper()) for i in LINEAGE)])
    holds = [
        Hold(f"h{i}", "a", r, "", NOW, "x", placed_by_account=draw(placers)) for i, r in enumerate(sorted(reasons))
    ]
    inherited = AncestorHold("c", "North Sales", Kind.CHANNEL, HoldReason.FRAUD, NOW) if draw(st.booleans()) else None
    is_client = kind is Kind.CLIENT
    return Account(
        id="a",
        kind=kind,
        parent_id=None if kind is Kind.OPERATOR else "p",
        name="Acme Ltd",
        billing_ref="TEN-000001",
        main_contact=Contact("A", "a@example.com"),
        stage=stage,
        created_at=NOW,
        is_management=is_client and draw(st.booleans()),
        client_type=draw(st.sampled_from(list(ClientType))) if is_client else None,
        start_date=date(2026, 11, 1) if is_client else None,
        end_date=date(2027, 11, 1) if is_client else None,
        decommission_on=draw(st.sampled_from([None, date(2026, 12, 15)])),
        holds=holds if stage is not Stage.NEW else [],
        inherited=inherited,
    )


def _accepted(change: Callable[[Account], object], account: Account) -> bool:
    try:
        change(copy.deepcopy(account))
    except DomainError:
        return False
    return True


def _caller(account_id: str) -> Caller:
    return Caller("u", "u@example.com", account_id, Kind.RESELLER, Role.ADMIN)


def _hold(reason: HoldReason) -> Hold:
    return Hold("new", "a", reason, "", NOW, "x")


@given(accounts(), st.integers(min_value=0, max_value=2), st.sampled_from(LINEAGE))
def test_offered_exactly_when_the_rules_accept(account: Account, blocking: int, callers_account: str) -> None:
    """Also for who asks: the operator, the account's parent, or the account itself."""
    rights = Authority(callers_account, LINEAGE)
    offered = set(allowed_actions(account, role=Role.ADMIN, authority=rights, blocking_children=blocking))
    rules: dict[StatusAction, Callable[[Account], object]] = {
        StatusAction.ACTIVATE: lambda a: lifecycle.activate(a, on=None, today=TODAY),
        StatusAction.UNSUSPEND: lambda a: lifecycle.unsuspend(a, reason=None, by="x", now=NOW, authority=rights),
        StatusAction.DECOMMISSION: lambda a: lifecycle.decommission(
            a, on=None, today=TODAY, blocking_children=blocking
        ),
        StatusAction.CANCEL_DECOMMISSION: lifecycle.cancel_decommission,
        StatusAction.CONVERT_TO_VIRTUAL: lambda a: lifecycle.convert(a, to=ClientType.VIRTUAL),
        StatusAction.CONVERT_TO_RESIDENTIAL: lambda a: lifecycle.convert(a, to=ClientType.RESIDENTIAL),
    }
    own = not _accepted(lambda a: ensure_not_own_account(_caller(callers_account), a.id, "change"), account)
    for action, change in rules.items():
        assert (action in offered) == (_accepted(change, account) and not own), action
    suspendable = [r for r in HoldReason if _accepted(lambda a, r=r: lifecycle.suspend(a, hold=_hold(r)), account)]
    assert (StatusAction.SUSPEND in offered) == (bool(suspendable) and not own)
    if StatusAction.SUSPEND in offered:
        assert suspend_reasons(account) == suspendable


@given(accounts(), st.sampled_from([Role.VIEWER, Role.PORTAL]))
def test_readers_are_offered_nothing(account: Account, role: Role) -> None:
    assert allowed_actions(account, role=role, authority=EVERYTHING) == []
    assert not can_edit(account, role=role)


@given(accounts())
def test_start_date_editable_exactly_when_update_accepts_it(account: Account) -> None:
    moved = lifecycle.AccountChanges(start_date=date(2026, 11, 2))
    accepted = _accepted(lambda a: lifecycle.update(a, moved), account)
    assert start_date_editable(account) == (accepted and account.kind is Kind.CLIENT)


@pytest.mark.parametrize(
    ("policy", "text"),
    [
        (
            CONNECT,
            "Suspend Acme Ltd? Outbound calls and internet stop; "
            "inbound calls, local network, portal login and billing continue.",
        ),
        (
            METIS,
            "Suspend Acme Ltd? Outbound calls and portal login stop; "
            "inbound calls, internet, local network and billing continue.",
        ),
    ],
)
def test_suspend_confirmation_comes_from_the_policy(policy: Policy, text: str) -> None:
    assert suspend_confirmation("Acme Ltd", policy) == text
