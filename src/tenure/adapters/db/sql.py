"""SQL expressions for who sees what: the one visibility rule and `within` a subtree.

Status, suspension and due-ness in SQL live in `status_sql.py`.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, true

from tenure.adapters.db.tables import account_ancestors as AA
from tenure.adapters.db.tables import accounts as A
from tenure.domain.access import Caller
from tenure.domain.model import Kind


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
