"""Listing accounts: every filter of api.md, scoped to the caller, with keyset pagination.

Keyset (sort_key, id) rather than OFFSET, so page 20,000 costs what page 1 does.
"""

from __future__ import annotations

import base64
import binascii
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    String,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
)

from tenure.adapters.db import counts, sql, status_sql
from tenure.adapters.db.number_search import HoldsNumberStarting
from tenure.adapters.db.tables import account_ancestors as AA
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import holds as H
from tenure.adapters.phone import search_prefix
from tenure.domain.access import Caller
from tenure.domain.errors import ValidationFailed
from tenure.domain.model import Kind, Status


@dataclass(frozen=True)
class AccountFilter:
    kind: Kind | None = None
    statuses: frozenset[Status] = field(default_factory=frozenset)
    parent_id: str | None = None
    within: str | None = None
    q: str | None = None
    include_inactive: bool = False


def encode_cursor(values: Sequence[object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    """A cursor we issued, or a clear validation error; never a crash on junk."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise ValidationFailed("cursor is not valid", field="cursor") from error
    if not isinstance(values, list) or len(values) != length:
        raise ValidationFailed("cursor is not valid", field="cursor")
    return values


def _check_text(value: str | None, name: str, what: str) -> None:
    """A control character (NUL above all) or a lone surrogate in a filter is bad input, refused
    before any SQL: the search terms go into the statement's text, which neither database takes."""
    if value and any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise ValidationFailed(f"{what} must not contain control characters", field=name)


def conditions(caller: Caller, flt: AccountFilter) -> list[ColumnElement[bool]]:
    _check_text(flt.q, "q", "the search term (q)")
    _check_text(flt.within, "within", "within")
    _check_text(flt.parent_id, "parent_id", "parent_id")
    where: list[ColumnElement[bool]] = [sql.visible_to(caller)]
    if flt.kind is not None:
        where.append(A.c.kind == flt.kind.value)
        if flt.kind.is_partner:
            # Implied by the kind, but written as ix_accounts_partners_sort's own predicate
            # (a literal, not a parameter) so both databases know that index may serve.
            where.append(A.c.kind != literal_column("'client'"))
    if flt.parent_id is not None:
        where.append(A.c.parent_id == flt.parent_id)
    if flt.within is not None:
        where.append(sql.within(flt.within))
    if flt.q:
        where.append(_search(flt.q))
    if flt.statuses:
        where.append(or_(*(status_sql.has_status(s) for s in sorted(flt.statuses))))
    if not flt.include_inactive and Status.INACTIVE not in flt.statuses:
        where.append(status_sql.not_inactive())
    return where


def _escape_like(text: str) -> str:
    """LIKE's wildcards taken literally: "100%" finds "100%", not "100" and anything."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search(q: str) -> ColumnElement[bool]:
    """Case-insensitive: part of the name or the billing ref, the main contact's email
    (`_email_match`), or the start of a number the account holds (`number_search`)."""
    pattern = f"%{_escape_like(q.casefold())}%"
    # The patterns go into the SQL text (literal_execute), not as parameters: a prepared
    # statement's generic plan cannot know "%acme%" from "%ten-512034%", and would walk a
    # million rows in name order for a rare term instead of asking the trigram index.
    matches: list[ColumnElement[bool]] = [
        # sort_key is "0"/"1" + the casefolded name: the leading `_` skips that prefix.
        A.c.sort_key.like(literal("_" + pattern, String(), literal_execute=True), escape="\\"),
        # ILIKE, so PostgreSQL's trigram indexes serve them
        A.c.billing_ref.ilike(literal(pattern, String(), literal_execute=True), escape="\\"),
        _email_match(q),
    ]
    number = search_prefix(q)
    if number is not None:
        matches.append(HoldsNumberStarting(A.c.id, number))
    return or_(*matches)


def _email_match(q: str) -> ColumnElement[bool]:
    """An address ("orders@bravo…") matches the start of the email, any case; other terms any part.

    Every address shares the trigrams of its domain with thousands of others, so a whole address
    sent to the trigram index reads long posting lists (40 ms at 100,000 accounts); as a prefix of
    `lower(contact_email)` it is one B-tree range (`ix_accounts_contact_email_prefix`).
    """
    term = q.strip()
    if "@" in term[1:]:
        prefix = literal(_escape_like(term.lower()) + "%", String(), literal_execute=True)
        return func.lower(A.c.contact_email).like(prefix, escape="\\")
    pattern = literal(f"%{_escape_like(term.casefold())}%", String(), literal_execute=True)
    return A.c.contact_email.ilike(pattern, escape="\\")


def page_query(caller: Caller, flt: AccountFilter, *, limit: int, cursor: str | None) -> Select[Any]:
    query = select(A).where(*conditions(caller, flt))
    if cursor:
        key, last_id = decode_cursor(cursor, 2)
        query = query.where(tuple_(A.c.sort_key, A.c.id) > tuple_(str(key), str(last_id)))
    return query.order_by(A.c.sort_key, A.c.id).limit(limit + 1)


def fetch_page(
    conn: Connection, caller: Caller, flt: AccountFilter, *, limit: int, cursor: str | None
) -> tuple[list[Row[Any]], str | None]:
    rows = list(conn.execute(page_query(caller, flt, limit=limit, cursor=cursor)))
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor([last.sort_key, last.id])


def fetch_page_before(
    conn: Connection, caller: Caller, flt: AccountFilter, *, limit: int, cursor: str
) -> tuple[list[Row[Any]], bool]:
    """The page that ends just before the row `cursor` names (the console's "Previous"),
    and whether there are more rows before it."""
    key, first_id = decode_cursor(cursor, 2)
    query = (
        select(A)
        .where(*conditions(caller, flt), tuple_(A.c.sort_key, A.c.id) < tuple_(str(key), str(first_id)))
        .order_by(A.c.sort_key.desc(), A.c.id.desc())
        .limit(limit + 1)
    )
    rows = list(conn.execute(query))
    return list(reversed(rows[:limit])), len(rows) > limit


def names_of(conn: Connection, caller: Caller, ids: Sequence[str]) -> dict[str, tuple[str, Kind]]:
    """Name and kind of each of `ids` the caller may see (one query; the others are left out)."""
    if not ids:
        return {}
    query = select(A.c.id, A.c.name, A.c.kind).where(A.c.id.in_(sorted(set(ids))), sql.visible_to(caller))
    return {row.id: (row.name, Kind(row.kind)) for row in conn.execute(query)}


# Aliased so the visibility and `within` subqueries (which read account_ancestors) are never
# correlated to this join by mistake.
_CLOSURE = AA.alias("closure")


def count_by_status(conn: Connection, caller: Caller, flt: AccountFilter) -> dict[Status, int]:
    """Counts per derived status for the filter (status filter itself ignored).

    Clients of a whole subtree (the Clients page without a search) come from the counters
    (`counts.by_status`): a few dozen rows whatever the number of clients. Anything narrower
    (a search, a parent, other kinds) is counted from the rows it matches (`count_by_scan`).
    """
    root = _counted_root(conn, caller, flt)
    if root is not None:
        return counts.by_status(conn, root)
    return count_by_scan(conn, caller, flt)


def _counted_root(conn: Connection, caller: Caller, flt: AccountFilter) -> str | None:
    """The partner whose counters answer the filter, or None when they cannot."""
    if flt.kind is not Kind.CLIENT or flt.q or flt.parent_id is not None or not caller.sees_subtree:
        return None
    root = flt.within or caller.account_id
    kind = conn.execute(select(A.c.kind).where(A.c.id == root, sql.visible_to(caller))).scalar()
    return root if kind is not None and kind != Kind.CLIENT.value else None


def count_by_scan(conn: Connection, caller: Caller, flt: AccountFilter) -> dict[Status, int]:
    """Two set-based queries over the matching rows: accounts per stage (a plain grouped count),
    and the suspended ones per stage, found from the holds in force down the closure table, so
    the cost follows the suspended subtrees, not the whole tree. Both go through
    `status_sql.counts_by_status`, the same `derive_status` as one account.
    """
    where = conditions(caller, AccountFilter(flt.kind, frozenset(), flt.parent_id, flt.within, flt.q, True))
    per_stage = {
        row[0]: int(row[1]) for row in conn.execute(select(A.c.stage, func.count()).where(*where).group_by(A.c.stage))
    }
    held = (
        select(A.c.stage, func.count(func.distinct(A.c.id)))
        .select_from(H)
        .join(_CLOSURE, _CLOSURE.c.ancestor_id == H.c.account_id)
        .join(A, A.c.id == _CLOSURE.c.account_id)
        .where(H.c.lifted_at.is_(None), status_sql.not_inactive(), *where)
        .group_by(A.c.stage)
    )
    suspended = {row[0]: int(row[1]) for row in conn.execute(held)}
    return status_sql.counts_by_status(per_stage, suspended)


__all__ = ["AccountFilter", "count_by_status", "decode_cursor", "encode_cursor", "fetch_page", "names_of"]
