"""SQL expressions for who sees what: the one visibility rule and `within` a subtree.

Status, suspension and due-ness in SQL live in `status_sql.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam, select, true
from sqlalchemy.dialects.postgresql import ARRAY

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


def among(dialect: str, column: ColumnElement[Any], name: str, ids: Sequence[Any] | None = None) -> ColumnElement[bool]:
    """`column IN (:name)` for a list parameter (given at execution, or `ids` now).

    On PostgreSQL it is `column = ANY(:name)`, ONE array parameter, so the
    statement's text does not grow with the list: SQLAlchemy compiles it once and
    psycopg parses it once, where an expanded IN of a batch's 200 ids was
    rewritten and re-parsed on every execution (~12 % of a worker batch, P6).
    """
    value, unique = (list(ids), True) if ids is not None else (None, False)  # given now: a name of its own
    if dialect == "postgresql":
        return column == any_(bindparam(name, value, unique=unique, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, value, unique=unique, expanding=True))
