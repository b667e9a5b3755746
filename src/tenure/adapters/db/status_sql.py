"""Every SQL form of an account's derived state: suspended, status, due-ness, "was active".

The one place SQL derives status from stage and holds, with its vocabulary
taken from the domain's enums (`Stage`, `Status`) and its rules from the
domain (`derive_status`, `domain.schedule`), so a list, a count, a cascade,
a policy change and a single load all agree with `Account.status`. The
state-machine test (tests/integration/test_state_machine.py) compares the
SQL and Python forms after every step.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import ColumnElement, FromClause, and_, case, exists, false, literal, or_

from tenure.adapters.db.tables import account_ancestors as AA
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import holds as H
from tenure.domain.model import Stage, Status, derive_status
from tenure.domain.schedule import Due


def holds_in_force(
    account_id: ColumnElement[str] = A.c.id,
    *,
    closure: FromClause = AA,
    holds: FromClause = H,
    ignoring: ColumnElement[str] | None = None,
    as_of: datetime | None = None,
) -> ColumnElement[bool]:
    """A hold in force on the account or any ancestor (but `ignoring`): at most four index probes.

    `closure` and `holds` may be aliases, so a caller's subquery never correlates with its own joins.
    `as_of` None: in force now; an instant: in force then (a cascade expanded after its commit).
    """
    if as_of is None:
        in_force: list[ColumnElement[bool]] = [holds.c.lifted_at.is_(None)]
    else:
        in_force = [holds.c.placed_at <= as_of, or_(holds.c.lifted_at.is_(None), holds.c.lifted_at > as_of)]
    return exists().where(
        closure.c.account_id == account_id,
        holds.c.account_id == closure.c.ancestor_id,
        *in_force,
        *([holds.c.id != ignoring] if ignoring is not None else []),
    )


def suspended(account_id: ColumnElement[str] = A.c.id) -> ColumnElement[bool]:
    """The account's own or an inherited hold is in force."""
    return holds_in_force(account_id)


def inactive() -> ColumnElement[bool]:
    """Inactive whatever its holds: decommissioned (lifecycle.md §2, decommissioned wins)."""
    return A.c.stage == _named(Stage.DECOMMISSIONED)


def not_inactive() -> ColumnElement[bool]:
    """Not decommissioned: what lists show unless asked for inactive accounts too."""
    return A.c.stage != _named(Stage.DECOMMISSIONED)


def status() -> ColumnElement[str]:
    """`domain.model.derive_status` in SQL: decommissioned wins, then suspension, then the stage."""
    return case(
        (inactive(), literal(Status.INACTIVE.value)),
        (suspended(), literal(Status.SUSPENDED.value)),
        else_=A.c.stage,
    )


def has_status(wanted: Status) -> ColumnElement[bool]:
    """Accounts whose derived status is `wanted`, as a filter that can use the stage index."""
    if wanted is Status.INACTIVE:
        return inactive()
    if wanted is Status.SUSPENDED:
        return and_(not_inactive(), suspended())
    return and_(A.c.stage == _named(Stage(wanted.value)), ~suspended())


def in_states(states: Collection[tuple[Stage, Status]]) -> ColumnElement[bool]:
    """Accounts whose (stage, derived status) is one of `states`: what a policy change reaches."""
    derived = status()
    return or_(false(), *(and_(A.c.stage == _named(stage), derived == state.value) for stage, state in states))


def unsuspended_by_lifting(ignoring: ColumnElement[str] | None, as_of: datetime | None = None) -> ColumnElement[bool]:
    """Not decommissioned and no hold in force (at `as_of`, default now) but `ignoring`: whose status
    a hold on an ancestor flips."""
    return and_(not_inactive(), ~holds_in_force(ignoring=ignoring, as_of=as_of))


def counts_by_status(per_stage: Mapping[str, int], suspended_per_stage: Mapping[str, int]) -> dict[Status, int]:
    """Counts per derived status from accounts per stage and the suspended ones per stage.

    The same `derive_status` as a single account, applied to two grouped counts.
    """
    counts = dict.fromkeys(Status, 0)
    for stage in Stage:
        held = suspended_per_stage.get(stage.value, 0)
        counts[derive_status(stage, True)] += held
        counts[derive_status(stage, False)] += per_stage.get(stage.value, 0) - held
    return counts


def due(rule: Due, day: ColumnElement[object] | object) -> ColumnElement[bool]:
    """`rule` (`domain.schedule`) as a predicate: in one of its stages, and its date on or before `day`."""
    return and_(_stage_in(rule.stages), A.c[rule.date_field] <= day)


def _stage_in(stages: frozenset[Stage]) -> ColumnElement[bool]:
    """`stage = x` or `stage <> x` where one stage is named or left out (the forms the partial indexes know)."""
    left_out = sorted(set(Stage) - stages)
    if len(stages) == 1:
        return A.c.stage == _named(next(iter(stages)))
    if len(left_out) == 1:
        return A.c.stage != _named(left_out[0])
    return or_(*(A.c.stage == _named(stage) for stage in sorted(stages)))


def _named(stage: Stage) -> ColumnElement[str]:
    """A stage written into the statement, not bound: so a prepared statement's generic plan still
    knows `stage <> 'decommissioned'` matches nearly every row (and which partial index fits).

    Bound, PostgreSQL's generic plan guessed one row for it and drove a cascade's
    lookup from a scan of every account (9 ms at 5,000 accounts; P1, issue 13).
    """
    return literal(stage.value, A.c.stage.type, literal_execute=True)


def was_active() -> ColumnElement[bool]:
    """Has the account been activated (lifecycle.md §5, billing): it has an `activated_on`."""
    return A.c.activated_on.is_not(None)
