"""The hot path: who holds a number, and may it do X right now — in ONE SQL statement.

A softswitch asks on every call setup, so the answer must be cheap and must
never be stale. The statement reads, all by index:

- the service by number (the partial unique index `uq_services_number_held`),
- its account (primary key),
- the caller's visibility (`ix_account_ancestors_down` or the account id),
- the account's closure rows (itself and at most three ancestors, by primary key), the
  holds in force on each (`uq_holds_in_force`) and the holding account's name (primary key):
  one row for the account plus one per hold in force on the path, never one per account
  in the tree (a nested "ancestors JOIN holds" would make SQLite materialise every
  descendant of every held ancestor, so the joins are kept flat),
- the site row (primary key) for the operator's policy and time zone.

Nothing is cached: a suspension committed before the request started is seen
by it, so an "allowed" can never outlive the suspension that revoked it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row, Select, String, and_, bindparam, literal_column, or_, select

from tenure.adapters.db import sql
from tenure.adapters.db.services import number_held
from tenure.adapters.db.tables import account_ancestors as AA
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import holds as H
from tenure.adapters.db.tables import services as S
from tenure.adapters.db.tables import site
from tenure.domain.access import Caller
from tenure.domain.catalog import ServiceKind
from tenure.domain.model import AncestorHold, Hold, HoldReason, Kind, Stage, derive_status
from tenure.domain.policy import PRESETS, Policy, Subject, from_matrix


@dataclass(frozen=True)
class NumberHolder:
    """Everything a decision about one number needs, from one statement."""

    account_id: str
    service_start: date
    subject: Subject
    policy: Policy
    timezone: ZoneInfo
    service_id: str = ""


@lru_cache(maxsize=1024)
def number_query(caller: Caller) -> Select[Any]:
    """The statement for one caller, with the number as the parameter `number`.

    Built once per caller and reused: constructing it costs several times what running it does.
    Rows: one for the account itself, plus one per hold in force on it or an ancestor
    (closure rows of ancestors without a hold are filtered out in the same statement).
    """
    return _holder_query(caller, number_held(bindparam("number", type_=String)))


@lru_cache(maxsize=1024)
def network_query(caller: Caller, kind: ServiceKind) -> Select[Any]:
    """The same statement for a service of `kind` found by its network id (the parameter `network_id`).

    The kind is a literal, so PostgreSQL sees the query imply the partial unique index's predicate.
    """
    held = [
        S.c.network_id == bindparam("network_id", type_=String),
        S.c.kind == literal_column(f"'{kind.value}'"),  # an enum value, never user text
        S.c.network_id.is_not(None),
        S.c.end_date.is_(None),
    ]
    return _holder_query(caller, held)


def _holder_query(caller: Caller, service_held: list[Any]) -> Select[Any]:
    holder = A.alias("holder")
    return (
        select(
            S.c.start_date.label("service_start"),
            S.c.id.label("service_id"),
            A.c.id.label("account_id"),
            A.c.name,
            A.c.kind,
            A.c.stage,
            A.c.start_date,
            A.c.decommissioned_on,
            site.c.timezone,
            site.c.policy_name,
            site.c.policy_matrix,
            AA.c.depth,
            H.c.id.label("hold_id"),
            H.c.reason,
            H.c.note,
            H.c.placed_at,
            H.c.placed_by,
            holder.c.id.label("holder_id"),
            holder.c.name.label("holder_name"),
            holder.c.kind.label("holder_kind"),
        )
        .select_from(
            S.join(A, A.c.id == S.c.account_id)
            .join(site, site.c.id == literal_column("1"))
            .join(AA, AA.c.account_id == A.c.id)
            .outerjoin(H, and_(H.c.account_id == AA.c.ancestor_id, H.c.lifted_at.is_(None)))
            .outerjoin(holder, holder.c.id == H.c.account_id)
        )
        .where(
            *service_held,
            sql.visible_to(caller, S.c.account_id),
            or_(AA.c.depth == literal_column("0"), H.c.id.is_not(None)),
        )
        .order_by(AA.c.depth, H.c.placed_at)
    )


def find_number(conn: Connection, caller: Caller, number: str) -> NumberHolder | None:
    """The holder of an E.164 number visible to the caller, or None (absent, ended, or not visible)."""
    return _holder(list(conn.execute(number_query(caller), {"number": number})))


def find_network_id(conn: Connection, caller: Caller, kind: ServiceKind, network_id: str) -> NumberHolder | None:
    """The holder of the service of `kind` with this network id visible to the caller, or None."""
    return _holder(list(conn.execute(network_query(caller, kind), {"network_id": network_id})))


def _holder(rows: list[Row[Any]]) -> NumberHolder | None:
    if not rows:
        return None
    first = rows[0]
    own = tuple(_hold(r) for r in rows if r.hold_id is not None and r.depth == 0)
    inherited = next((_ancestor_hold(r) for r in rows if r.hold_id is not None and r.depth > 0), None)
    stage = Stage(first.stage)
    zone = ZoneInfo(first.timezone)
    subject = Subject(
        name=first.name,
        kind=first.kind,
        stage=stage,
        status=derive_status(stage, bool(own) or inherited is not None),
        holds=own,
        inherited=inherited,
        start_date=first.start_date,
        decommissioned_on=first.decommissioned_on,
        zone=zone,
    )
    matrix = json.dumps(first.policy_matrix, sort_keys=True) if first.policy_matrix else None
    policy = _policy(first.policy_name, matrix)
    return NumberHolder(first.account_id, first.service_start, subject, policy, zone, first.service_id)


@lru_cache(maxsize=32)
def _policy(name: str, matrix: str | None) -> Policy:
    """Parsing is memoised by the stored value itself, so a changed policy is a new key: never stale."""
    return from_matrix(json.loads(matrix), name) if matrix else PRESETS[name]


def _hold(row: Row[Any]) -> Hold:
    return Hold(row.hold_id, row.account_id, HoldReason(row.reason), row.note, row.placed_at, row.placed_by)


def _ancestor_hold(row: Row[Any]) -> AncestorHold:
    return AncestorHold(row.holder_id, row.holder_name, Kind(row.holder_kind), HoldReason(row.reason), row.placed_at)
