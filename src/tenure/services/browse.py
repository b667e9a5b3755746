"""The console's read side: whole pages read in one transaction, scoped to the caller.

Everything here goes through the same scoped queries as the API (listing and
`AccountRepository.get` with the caller), so a page can never show an account
its user may not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row

from tenure.adapters.db.audit import AuditEntry
from tenure.adapters.db.billing import billable_services
from tenure.adapters.db.listing import (
    AccountFilter,
    count_by_status,
    encode_cursor,
    fetch_page,
    fetch_page_before,
    names_of,
    page_query,
)
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import Authority, Caller, authority_over
from tenure.domain.catalog import Line
from tenure.domain.charges import ChargeLine, charge_lines
from tenure.domain.errors import NotFound
from tenure.domain.model import Account, Kind, Stage, Status
from tenure.domain.policy import Capability, Decision, Policy, decide_all
from tenure.services import billing, lines
from tenure.services.entitlements import subject_of
from tenure.services.queries import AccountView, views


@dataclass(frozen=True)
class Parent:
    """Whom a listed client belongs to, as the "Belongs to" column shows it."""

    id: str
    name: str
    kind: Kind


@dataclass(frozen=True)
class ClientsPage:
    items: list[AccountView]
    counts: dict[Status, int]
    next_cursor: str | None
    prev_cursor: str | None  # names this page's first row: the page before it ends just above
    parents: dict[str, Parent] = field(default_factory=dict)  # by client id; only parents the caller may see


def clients_page(
    uow: UnitOfWork,
    *,
    caller: Caller,
    flt: AccountFilter,
    limit: int,
    cursor: str | None,
    before: str | None,
    now: datetime,
) -> ClientsPage:
    """A page of the Clients table going forward (`cursor`) or back (`before`), with the counts."""
    with uow.reading():
        conn = uow.connection
        if before:
            rows, more_before = fetch_page_before(conn, caller, flt, limit=limit, cursor=before)
            next_cursor = _key(rows[-1]) if rows else None
        else:
            rows, next_cursor = fetch_page(conn, caller, flt, limit=limit, cursor=cursor)
            more_before = bool(cursor)
        prev_cursor = _key(rows[0]) if rows and more_before else None
        counts = count_by_status(conn, caller, flt)
        items = views(uow, uow.accounts.hydrate(rows), now)
        parents = _parents(conn, caller, [view.account for view in items])
    return ClientsPage(items, counts, next_cursor, prev_cursor, parents)


def _parents(conn: Connection, caller: Caller, accounts: list[Account]) -> dict[str, Parent]:
    found = names_of(conn, caller, [a.parent_id for a in accounts if a.parent_id])
    return {a.id: Parent(a.parent_id, *found[a.parent_id]) for a in accounts if a.parent_id and a.parent_id in found}


def _key(row: Row[Any]) -> str:
    return encode_cursor([row.sort_key, row.id])


@dataclass(frozen=True)
class ClientDetail:
    view: AccountView
    parent: Account | None  # None when the parent is outside what the caller may see
    decisions: dict[Capability, Decision]
    events: list[AuditEntry]
    more_events: str | None
    blocking_children: int
    policy: Policy
    services: list[Line]
    authority: Authority  # what the user may do to this account's lifecycle and holds
    stuck_children: int = 0  # children that block its scheduled decommission (the worker refuses it)


def client_detail(uow: UnitOfWork, *, caller: Caller, account_id: str, now: datetime, events: int = 25) -> ClientDetail:
    """Everything the client page shows, in one read."""
    with uow.reading():
        account = uow.accounts.get(account_id, caller=caller)
        return detail_in(uow, caller=caller, account=account, now=now, events=events)


def detail_in(uow: UnitOfWork, *, caller: Caller, account: Account, now: datetime, events: int = 25) -> ClientDetail:
    """`client_detail` inside an open unit of work (view as client records its look in the same transaction)."""
    parent = None
    if account.parent_id:
        try:
            parent = uow.accounts.get(account.parent_id, caller=caller)
        except NotFound:
            parent = None
    view = views(uow, [account], now)[0]
    entries, more = _trail(uow, caller, account.id, events)
    blocking = uow.accounts.children_blocking_decommission(account.id, view.today) if account.kind.is_partner else 0
    policy = uow.site.policy
    decisions = decide_all(policy, subject_of(account, uow.site.timezone))
    services, _ = lines.repository(uow).page(account.id, include_ended=False, limit=200, cursor=None)
    authority = authority_over(caller, uow.accounts.lineage(account.id))
    stuck = _stuck_children(uow, account)
    return ClientDetail(view, parent, decisions, entries, more, blocking, policy, services, authority, stuck)


def _trail(uow: UnitOfWork, caller: Caller, account_id: str, limit: int) -> tuple[list[AuditEntry], str | None]:
    """The audit trail names staff and their notes: a client's own users never get it."""
    if not caller.sees_staff_details:
        return [], None
    return uow.audit.page(caller, account_id=account_id, limit=limit, cursor=None)


def _stuck_children(uow: UnitOfWork, account: Account) -> int:
    """Children that will still be there when a partner's scheduled decommission comes (or came)."""
    if not account.kind.is_partner or account.decommission_on is None:
        return 0
    return uow.accounts.children_blocking_decommission(account.id, account.decommission_on)


@dataclass(frozen=True)
class PartnerNode:
    account: Account
    depth: int
    counts: dict[Status, int]

    @property
    def clients(self) -> int:
        """Clients below it that are not decommissioned: those a suspension reaches."""
        return sum(n for status, n in self.counts.items() if status is not Status.INACTIVE)


@dataclass(frozen=True)
class PartnersPage:
    tree: list[PartnerNode]
    active_channels: list[Account] = field(default_factory=list)
    held_channels: list[Account] = field(default_factory=list)
    active_clients: list[Account] = field(default_factory=list)
    held_clients: list[Account] = field(default_factory=list)
    authority: dict[str, Authority] = field(default_factory=dict)  # per partner of the tree


QUICK_LIMIT = 200


def partners_page(uow: UnitOfWork, *, caller: Caller) -> PartnersPage:
    """Resellers and channels as a tree with client counts, and the quick-form choices."""
    with uow.reading():
        partners = _partners(uow, caller)
        counts = {
            p.id: count_by_status(uow.connection, caller, AccountFilter(kind=Kind.CLIENT, within=p.id))
            for p in partners
        }
        channels = [p for p in partners if p.kind is Kind.CHANNEL]
        active_clients = _accounts(uow, caller, AccountFilter(Kind.CLIENT, frozenset({Status.ACTIVE})), QUICK_LIMIT)
        suspended = _accounts(uow, caller, AccountFilter(Kind.CLIENT, frozenset({Status.SUSPENDED})), QUICK_LIMIT)
        lineages = uow.accounts.lineages([a.id for a in [*partners, *suspended]])
    rights = {account_id: authority_over(caller, line) for account_id, line in lineages.items()}

    def liftable(account: Account) -> bool:
        return any(rights[account.id].may_lift(hold) for hold in account.holds)

    return PartnersPage(
        tree=_tree(partners, counts),
        active_channels=[c for c in channels if c.status is Status.ACTIVE and not rights[c.id].is_own_account],
        held_channels=[c for c in channels if liftable(c)],
        active_clients=[c for c in active_clients if not c.is_management],
        held_clients=[c for c in suspended if c.stage is Stage.ACTIVE and liftable(c)],
        authority={p.id: rights[p.id] for p in partners},
    )


def _accounts(uow: UnitOfWork, caller: Caller, flt: AccountFilter, limit: int) -> list[Account]:
    rows, _ = fetch_page(uow.connection, caller, flt, limit=limit, cursor=None)
    return uow.accounts.hydrate(rows)


def _tree(partners: list[Account], counts: dict[str, dict[Status, int]]) -> list[PartnerNode]:
    """Depth-first: each partner followed by the partners below it; roots are those whose parent is not shown."""
    by_parent: dict[str | None, list[Account]] = {}
    ids = {p.id for p in partners}
    for partner in partners:
        by_parent.setdefault(partner.parent_id if partner.parent_id in ids else None, []).append(partner)
    ordered: list[PartnerNode] = []

    def walk(parent: str | None, depth: int) -> None:
        for partner in by_parent.get(parent, []):
            ordered.append(PartnerNode(partner, depth, counts[partner.id]))
            walk(partner.id, depth + 1)

    walk(None, 0)
    return ordered


@dataclass(frozen=True)
class PartnerChoice:
    """A reseller or channel as the Clients page's partner filter names it."""

    id: str
    name: str
    kind: Kind


def partner_choices(uow: UnitOfWork, *, caller: Caller) -> list[PartnerChoice]:
    """The resellers and channels the caller may see, for the Clients page's partner filter:
    names only (two keyset reads), since the filter shows neither holds nor status."""
    choices: list[PartnerChoice] = []
    with uow.reading():
        for kind in (Kind.RESELLER, Kind.CHANNEL):
            query = page_query(caller, AccountFilter(kind=kind), limit=500, cursor=None)
            rows = uow.connection.execute(query.with_only_columns(A.c.id, A.c.name, A.c.kind)).all()[:500]
            choices += [PartnerChoice(row.id, row.name, Kind(row.kind)) for row in rows]
    return choices


def _partners(uow: UnitOfWork, caller: Caller) -> list[Account]:
    partners = _accounts(uow, caller, AccountFilter(kind=Kind.RESELLER), 500)
    return partners + _accounts(uow, caller, AccountFilter(kind=Kind.CHANNEL), 500)


def new_partner_parents(uow: UnitOfWork, *, caller: Caller) -> list[Account]:
    """Where the caller may place a new reseller or channel: its own account and the resellers below it
    (a channel's admins may place none: nothing goes under a channel but clients)."""
    with uow.reading():
        own = uow.accounts.get(caller.account_id, caller=caller)
        resellers = _accounts(uow, caller, AccountFilter(kind=Kind.RESELLER), 500)
    if own.kind not in (Kind.OPERATOR, Kind.RESELLER) or own.stage is Stage.DECOMMISSIONED:
        return []
    return [own] + [r for r in resellers if r.id != own.id]


def partner_impact(uow: UnitOfWork, *, caller: Caller, account_id: str) -> PartnerNode:
    """A partner with the clients below it by status: what a suspension would reach."""
    with uow.reading():
        account = uow.accounts.get(account_id, caller=caller)
        counts = count_by_status(uow.connection, caller, AccountFilter(kind=Kind.CLIENT, within=account.id))
    return PartnerNode(account, 0, counts)


def parent_choices(uow: UnitOfWork, *, caller: Caller) -> list[Account]:
    """Where the caller may place a new client: its own account (if not a client) and the partners below it."""
    with uow.reading():
        own = uow.accounts.get(caller.account_id, caller=caller)
        partners = _partners(uow, caller)
    choices = [own] if own.kind is not Kind.CLIENT and own.stage is not Stage.DECOMMISSIONED else []
    return choices + [p for p in partners if p.id != own.id]


@dataclass(frozen=True)
class ChargeRow:
    billing_ref: str
    client_name: str
    account_id: str
    line: ChargeLine


@dataclass(frozen=True)
class MonthCharges:
    month: str
    rows: list[ChargeRow]
    total: Decimal
    truncated: bool


def month_charges(uow: UnitOfWork, *, caller: Caller, month: str, limit: int = 500) -> MonthCharges:
    """The first `limit` charge lines of a month for the page (the CSV has them all), and the month's total."""
    first, last = billing.parse_month(month)
    rows: list[ChargeRow] = []
    amount = Decimal("0.00")
    with uow.reading():
        for batch in billable_services(uow.connection, caller, first=first, last=last):
            for item in batch:
                for line in charge_lines(item.service, item.account, first=first, last=last):
                    amount += line.amount
                    if len(rows) <= limit:
                        rows.append(ChargeRow(item.billing_ref, item.client_name, item.account_id, line))
    return MonthCharges(month, rows[:limit], amount, len(rows) > limit)
