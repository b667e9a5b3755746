"""Each lifecycle move refuses exactly what its `check_*` says, with the same code and words (issue 15 §2).

The console's offered actions ask the checks (tests/unit/test_console_actions.py);
these tests tie the checks to the moves, so neither can change alone.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from tenure.domain import checks, lifecycle
from tenure.domain.access import Authority
from tenure.domain.errors import DomainError
from tenure.domain.model import Account, ClientType, Hold, HoldReason
from tests.unit.test_console_actions import LINEAGE, NOW, TODAY, accounts


def _outcome(change: Callable[[Account], object], account: Account) -> tuple[str, str] | None:
    try:
        change(copy.deepcopy(account))
    except DomainError as refusal:
        return refusal.code, refusal.detail
    return None


def _said(refusal: checks.Refusal | None) -> tuple[str, str] | None:
    return None if refusal is None else (refusal.code, refusal.detail)


@given(
    accounts(),
    st.integers(min_value=0, max_value=2),
    st.sampled_from(LINEAGE),
    st.sampled_from(list(HoldReason)),
    st.none() | st.sampled_from(list(HoldReason)),
    st.sampled_from(list(ClientType)),
)
def test_every_move_raises_what_its_check_returns(
    account: Account,
    blocking: int,
    callers_account: str,
    reason: HoldReason,
    lifting: HoldReason | None,
    to: ClientType,
) -> None:
    rights = Authority(callers_account, LINEAGE)
    hold = Hold("new", "a", reason, "", NOW, "x")
    pairs: list[tuple[checks.Refusal | None, Callable[[Account], object]]] = [
        (checks.check_activate(account), lambda a: lifecycle.activate(a, on=None, today=TODAY)),
        (checks.check_suspend(account, reason), lambda a: lifecycle.suspend(a, hold=hold)),
        (
            checks.check_unsuspend(account, lifting, rights),
            lambda a: lifecycle.unsuspend(a, reason=lifting, by="x", now=NOW, authority=rights),
        ),
        (
            checks.check_decommission(account, blocking_children=blocking),
            lambda a: lifecycle.decommission(a, on=None, today=TODAY, blocking_children=blocking),
        ),
        (checks.check_cancel_decommission(account), lifecycle.cancel_decommission),
        (checks.check_convert(account, to=to), lambda a: lifecycle.convert(a, to=to)),
    ]
    for check, move in pairs:
        assert _said(check) == _outcome(move, account)


@given(accounts())
def test_checks_change_nothing(account: Account) -> None:
    before = copy.deepcopy(account)
    checks.check_activate(account)
    for reason in HoldReason:
        checks.check_suspend(account, reason)
    checks.check_unsuspend(account, None, Authority("root", LINEAGE))
    checks.check_decommission(account, blocking_children=0)
    checks.check_cancel_decommission(account)
    checks.check_move_start_date(account)
    assert account == before
