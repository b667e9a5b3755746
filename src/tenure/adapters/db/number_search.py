"""`q` as a phone number: the accounts holding a number that starts with the term, by index.

Written differently per database so each answers from an index (docs/performance.md, P4):

- PostgreSQL: `id = ANY((SELECT array_agg(account_id) FROM (…numbers…)))`. The uncorrelated
  sub-select runs once (an InitPlan) and `id = ANY(array)` is a primary-key probe that can
  join the trigram bitmaps of the name, billing ref and email in one BitmapOr; `id IN
  (sub-select)` inside an OR would instead be checked row by row along the whole name order.
  The numbers come from `ix_services_number_prefix` (`label text_pattern_ops`, the held
  numbers only), which serves `LIKE '+4420794%'` whatever the database's collation.
- SQLite: `id IN (…numbers…)`, the numbers found by a range on `uq_services_number_held`
  (BINARY collation, so `'+4420794' <= label < '+4420795'` is exactly the prefix).

Only held numbers count (a phone-number service that has not ended): the partial indexes hold
exactly those. A prefix matching more than `NUMBER_MATCHES` numbers yields the clients of the
first ones in number order, so a broad prefix costs what a narrow one does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Select, String, any_, cast, func, literal, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import Boolean

from tenure.adapters.db.tables import services as S

NUMBER_MATCHES = 1000


class HoldsNumberStarting(ColumnElement[bool]):
    """True for an account holding a number that starts with `prefix` (E.164, e.g. "+4420794")."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [
        ("account_id", InternalTraversal.dp_clauseelement),
        ("prefix", InternalTraversal.dp_string),
    ]

    def __init__(self, account_id: ColumnElement[str], prefix: str) -> None:
        self.account_id = account_id
        self.prefix = prefix


def _held(*label_conditions: ColumnElement[bool]) -> Select[Any]:
    # Literal 'phone_number' and IS NULL, so the planner sees the partial indexes' predicate.
    return (
        select(S.c.account_id)
        .where(*label_conditions, S.c.kind == literal_column("'phone_number'"), S.c.end_date.is_(None))
        .order_by(S.c.label)
        .limit(NUMBER_MATCHES)
    )


def _inline(value: str) -> ColumnElement[str]:
    """In the SQL text, not a parameter: a generic plan could not use a prefix it cannot see."""
    return literal(value, String(), literal_execute=True)


def _next_prefix(prefix: str) -> str:
    """The smallest digit string above every string that starts with `prefix` ("+4429" -> "+443")."""
    digits = prefix.rstrip("9")
    return digits[:-1] + chr(ord(digits[-1]) + 1)


@compiles(HoldsNumberStarting)
def _compile_default(element: HoldsNumberStarting, compiler: SQLCompiler, **kw: Any) -> str:
    numbers = _held(S.c.label >= _inline(element.prefix), S.c.label < _inline(_next_prefix(element.prefix)))
    return compiler.process(element.account_id.in_(numbers), **kw)


@compiles(HoldsNumberStarting, "postgresql")
def _compile_postgresql(element: HoldsNumberStarting, compiler: SQLCompiler, **kw: Any) -> str:
    pattern = element.prefix + "%"  # digits and "+" only: nothing to escape
    numbers = _held(S.c.label.like(_inline(pattern))).subquery("held_numbers")
    # The cast makes `ANY` take one array value (`= ANY (CAST((SELECT …) AS VARCHAR[]))`),
    # not `= ANY (SELECT …)`, which PostgreSQL would plan like `IN (SELECT …)`.
    ids = cast(select(func.array_agg(numbers.c.account_id)).scalar_subquery(), ARRAY(String()))
    return compiler.process(element.account_id == any_(ids), **kw)
