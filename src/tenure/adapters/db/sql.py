"""SQL expressions for the derived parts of an account: suspended, status, visible.

These are the one place the closure table is read for status, so a list, a
count and a single load all derive status the same way.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, and_, case, exists, false, literal, or_, select, true

from tenure.adapters.db.tables import account_ancestors as AA
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import holds as H
from tenure.domain.access import Caller
from tenure.domain.model import Kind, Stage, Status


def suspended(account_id: ColumnElement[str] = A.c.id) -> ColumnElement[bool]:
    """A hold in force on the account or any ancestor: at most four index probes."""
    return exists().where(
        AA.c.account_id == account_id,
        H.c.account_id == AA.c.ancestor_id,
        H.c.lifted_at.is_(None),
    )


def status() -> ColumnElement[str]:
    """lifecycle.md §2 in SQL; must agree with `domain.model.derive_status`."""
    return case(
        (A.c.stage == "decommissioned", literal("inactive")),
        (suspended(), literal("suspended")),
        else_=A.c.stage,
    )


def in_states(states: Collection[tuple[Stage, Status]]) -> ColumnElement[bool]:
    """Accounts whose (stage, derived status) is one of `states`: what a policy change reaches."""
    derived = status()
    return or_(false(), *(and_(A.c.stage == stage.value, derived == state.value) for stage, state in states))


def within(ancestor_id: str, account_id: ColumnElement[str] = A.c.id) -> ColumnElement[bool]:
    """The account is `ancestor_id` or below it."""
    return account_id.in_(select(AA.c.account_id).where(AA.c.ancestor_id == ancestor_id))


def visible_to(caller: Caller, account_id: ColumnElement[str] = A.c.id) -> ColumnElement[bool]:
    """The one visibility rule: a subtree for admins and viewers, the own account for portal users."""
    if not caller.sees_subtree:
        return account_id == caller.account_id
    if caller.account_kind is Kind.OPERATOR:
        # The operator is the root of the one tree: its staff see every account, and a
        # closure probe per row would only slow a million-row list or search down.
        return true()
    return within(caller.account_id, account_id)
