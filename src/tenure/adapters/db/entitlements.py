"""The hot path: who holds a number (or an account), may it do X right now, and is the caller still
good — in ONE SQL statement.

A softswitch asks on every call setup, so the answer must be cheap and must
never be stale. The statement starts from the site row (primary key) and
left-joins, all by index:

- the service by number (the partial unique index `uq_services_number_held`), or the account by id,
  each only when the caller may see it (`ix_account_ancestors_down`, or nothing for the operator),
- its account (primary key),
- the account's closure rows (itself and at most three ancestors, by primary key), the
  holds in force on each (`uq_holds_in_force`) and the holding account's name (primary key):
  one row for the account plus one per hold in force on the path, never one per account
  in the tree (a nested "ancestors JOIN holds" would make SQLite materialise every
  descendant of every held ancestor, so the joins are kept flat).

Because it starts from the site row it answers one row even when nothing holds the number,
so every answer (404 included) carries what the caller's credential check needs:
`credentials_version` (moved by every revocation), the caller's own account stage and whether
it is held, and the site's `version` — with the policy matrix only when that version is not the
one the process already holds parsed.

Nothing about the decision is cached: a suspension committed before the statement started is
seen by it, so an "allowed" can never outlive the suspension that revoked it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    Select,
    String,
    and_,
    bindparam,
    case,
    literal,
    literal_column,
    null,
    or_,
    select,
)

from tenure.adapters.db import sql, status_sql
from tenure.adapters.db.lines import number_held
from tenure.adapters.db.tables import account_ancestors as AA
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import holds as H
from tenure.adapters.db.tables import services as S
from tenure.adapters.db.tables import site
from tenure.domain.access import Caller
from tenure.domain.catalog import LineKind
from tenure.domain.model import AncestorHold, Hold, HoldReason, Kind, Stage, Status, derive_status
from tenure.domain.policy import PRESETS, Policy, Subject, from_matrix
from tenure.domain.radius import NETWORK_KINDS

By = Literal["number", "account", "network", "radius"]
NO_SETTINGS = ("", 0)
"""The settings key sent when the process has none parsed yet: no site matches it."""


@dataclass(frozen=True)
class Holder:
    """The account a lookup is about, as the policy sees it."""

    account_id: str
    service_start: date | None  # the number's service start; None when asked by account
    subject: Subject
    service_id: str | None = None  # the service found by number or network id
    service_kind: str | None = None  # its kind (a RADIUS User-Name may be an internet or a Wi-Fi service)


@dataclass(frozen=True)
class Settings:
    """The site's policy and time zone, parsed once per (operator, version) in each process."""

    key: tuple[str, int]
    policy: Policy
    timezone: ZoneInfo


@dataclass(frozen=True)
class Lookup:
    """Everything one statement answered: the holder (or None), the settings, the caller's standing."""

    holder: Holder | None
    settings: Settings
    credentials_version: int
    caller_stage: Stage
    caller_status: Status


@lru_cache(maxsize=4096)
def holder_query(caller: Caller, by: By = "number", kind: LineKind | None = None) -> Select[Any]:
    """The statement for one caller, with `number` (or `account_id`, or `network_id` of a service of
    `kind`, or for `radius` the `network_id` of an internet service, else a Wi-Fi one) and
    `settings_key` as parameters.

    Built once per caller and reused: constructing it costs several times what running it does.
    Rows: one for the account itself, plus one per hold in force on it or an ancestor
    (closure rows of ancestors without a hold are filtered out in the same statement); one row
    of NULLs after the site's columns when nothing visible matches.
    """
    holder = A.alias("holder")
    service_id: Any = S.c.id
    if by in ("number", "network", "radius"):
        held = and_(*_service_held(caller, by, kind))
        joined = site.outerjoin(S, held).outerjoin(A, A.c.id == S.c.account_id)
        service_start: Any = S.c.start_date
    else:
        service_id = null()
        visible = and_(A.c.id == bindparam("account_id", type_=String), sql.visible_to(caller, A.c.id))
        joined = site.outerjoin(A, visible)
        service_start = null()
    same_settings = and_(
        site.c.operator_id == bindparam("settings_operator", NO_SETTINGS[0], type_=String),
        site.c.version == bindparam("settings_version", NO_SETTINGS[1]),
    )
    return (
        select(
            site.c.operator_id.label("site_operator"),
            site.c.version.label("site_version"),
            site.c.credentials_version,
            site.c.timezone,
            site.c.policy_name,
            case((same_settings, null()), else_=site.c.policy_matrix).label("policy_matrix"),
            *_caller_standing(caller),
            service_start.label("service_start"),
            service_id.label("service_id"),
            (S.c.kind if by != "account" else null()).label("service_kind"),
            A.c.id.label("account_id"),
            A.c.name,
            A.c.kind,
            A.c.stage,
            A.c.start_date,
            A.c.decommissioned_on,
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
            joined.outerjoin(AA, AA.c.account_id == A.c.id)
            .outerjoin(H, and_(H.c.account_id == AA.c.ancestor_id, H.c.lifted_at.is_(None)))
            .outerjoin(holder, holder.c.id == H.c.account_id)
        )
        .where(
            site.c.id == literal_column("1"),
            or_(A.c.id.is_(None), AA.c.depth == literal_column("0"), H.c.id.is_not(None)),
        )
        .order_by(AA.c.depth, H.c.placed_at)
    )


def _caller_standing(caller: Caller) -> tuple[Any, Any]:
    """The caller's own account: its stage, and whether a hold is in force on it or an ancestor.

    Own aliases, so the subqueries never correlate with the lookup's tables; uncorrelated, both
    databases compute them once per statement.
    """
    own, path, held = A.alias("caller_account"), AA.alias("caller_path"), H.alias("caller_hold")
    stage = select(own.c.stage).where(own.c.id == literal(caller.account_id)).scalar_subquery()
    suspended = status_sql.holds_in_force(literal(caller.account_id), closure=path, holds=held)
    return stage.label("caller_stage"), suspended.label("caller_held")


def _service_held(caller: Caller, by: By, kind: LineKind | None) -> list[Any]:
    """The join condition of the one service a lookup is about, visible to the caller."""
    if by == "number":
        return [*number_held(bindparam("number", type_=String)), sql.visible_to(caller, S.c.account_id)]
    if by == "network":
        return [*_network_held(kind), sql.visible_to(caller, S.c.account_id)]
    return [S.c.id == radius_service(caller)]


def radius_service(caller: Caller) -> Any:
    """The id of the service a RADIUS User-Name (parameter `network_id`) names: its internet
    service, else its Wi-Fi service, among those the caller sees (authorize and accounting alike).

    One scalar subquery on the partial unique index `(network_id, kind)`: at most two rows,
    internet first, so the one statement answers what two lookups in turn used to.
    """
    found = S.alias("radius_service")
    kinds: list[Any] = [literal_column(f"'{value}'") for value in NETWORK_KINDS]  # enum values, never user text
    first = case((found.c.kind == kinds[0], literal_column("0")), else_=literal_column("1"))
    return (
        select(found.c.id)
        .where(
            found.c.network_id == bindparam("network_id", type_=String),
            found.c.kind.in_(kinds),
            found.c.network_id.is_not(None),
            found.c.end_date.is_(None),
            sql.visible_to(caller, found.c.account_id),
        )
        .order_by(first)
        .limit(1)
        .scalar_subquery()
    )


def _network_held(kind: LineKind | None) -> list[Any]:
    """A service of `kind` not ended, by its network id (the parameter `network_id`).

    The kind is a literal, so PostgreSQL sees the query imply the partial unique index's predicate.
    """
    assert kind is not None
    return [
        S.c.network_id == bindparam("network_id", type_=String),
        S.c.kind == literal_column(f"'{kind.value}'"),  # an enum value, never user text
        S.c.network_id.is_not(None),
        S.c.end_date.is_(None),
    ]


def run_network(conn: Connection, caller: Caller, known: Settings | None, kind: LineKind, network_id: str) -> Lookup:
    """The statement for a service of `kind` found by its network id (RADIUS User-Name)."""
    rows = list(conn.execute(holder_query(caller, "network", kind), parameters(known, network_id=network_id)))
    return read(rows, known)


def number_query(caller: Caller) -> Select[Any]:
    """The number lookup's statement (parameter `number`)."""
    return holder_query(caller, "number")


def parameters(settings: Settings | None, **key: str) -> dict[str, Any]:
    """The statement's parameters: the number or account id, and the settings the process holds."""
    operator, version = settings.key if settings else NO_SETTINGS
    return {**key, "settings_operator": operator, "settings_version": version}


def read(rows: Sequence[Any], known: Settings | None) -> Lookup:
    """The statement's rows (SQLAlchemy rows or psycopg named tuples) as a `Lookup`."""
    first = rows[0]
    settings = _settings(first, known)
    caller_stage = Stage(first.caller_stage)
    caller_status = derive_status(caller_stage, bool(first.caller_held))
    holder = _holder(rows, settings.timezone) if first.account_id is not None else None
    return Lookup(holder, settings, int(first.credentials_version), caller_stage, caller_status)


def run(conn: Connection, caller: Caller, known: Settings | None, by: By = "number", **key: str) -> Lookup:
    """Run the statement on a SQLAlchemy connection (SQLite, and the synchronous service functions)."""
    rows = list(conn.execute(holder_query(caller, by), parameters(known, **key)))
    return read(rows, known)


def _settings(row: Any, known: Settings | None) -> Settings:
    key = (row.site_operator, int(row.site_version))
    if known is not None and known.key == key:
        return known
    return Settings(key, _policy(row.policy_name, _canonical(row.policy_matrix)), ZoneInfo(row.timezone))


def _canonical(matrix: Any) -> str | None:
    if isinstance(matrix, str):  # SQLite's JSON read through psycopg-free paths may arrive as text
        matrix = json.loads(matrix)
    return json.dumps(matrix, sort_keys=True) if matrix else None


@lru_cache(maxsize=32)
def _policy(name: str, matrix: str | None) -> Policy:
    """Parsing is memoised by the stored value itself, so a changed policy is a new key: never stale."""
    return from_matrix(json.loads(matrix), name) if matrix else PRESETS[name]


def _holder(rows: Sequence[Any], zone: ZoneInfo) -> Holder:
    first = rows[0]
    own = tuple(_hold(r) for r in rows if r.hold_id is not None and r.depth == 0)
    inherited = next((_ancestor_hold(r) for r in rows if r.hold_id is not None and r.depth > 0), None)
    stage = Stage(first.stage)
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
    return Holder(first.account_id, first.service_start, subject, first.service_id, first.service_kind)


def _hold(row: Any) -> Hold:
    return Hold(row.hold_id, row.account_id, HoldReason(row.reason), row.note, row.placed_at, row.placed_by)


def _ancestor_hold(row: Any) -> AncestorHold:
    return AncestorHold(row.holder_id, row.holder_name, Kind(row.holder_kind), HoldReason(row.reason), row.placed_at)
