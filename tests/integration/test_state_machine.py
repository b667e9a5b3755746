"""Random walks through the lifecycle, on a real database, against a small model of the rules.

A hypothesis `RuleBasedStateMachine` builds a tree (operator, management client, a reseller,
a channel under it, clients under each) and applies random actions through the service layer:
suspend and unsuspend with reasons (as the operator's admin or the reseller's), activate,
decommission now or on a date, cancel, convert, create, a start-date edit, a stale write, and
the worker's pass a few days later. The model below is lifecycle.md §1-3 written out plainly;
after every step the database must agree with it:

- decommissioned is final: every later change is refused with `account-decommissioned`;
- status is derived as inactive > suspended (own or inherited) > stage, in Python and in SQL;
- a scheduled change is due in SQL (the worker's claim) exactly when it is in Python (its re-check);
- unsuspending a partner restores each account below to exactly its own state, and a cascade
  rewrites no descendant row;
- the management client is never suspended nor decommissioned;
- nobody changes their own account's lifecycle, and a hold is lifted only from the account
  that placed it or from above it (a reseller's admin never lifts the operator's hold);
- `version` grows by one per change; the audit trail has one event per accepted change; a
  refused change writes nothing; suspension emails and webhooks go to exactly the accounts
  whose status flipped.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, func, select, text

from tenure.adapters.db import counts, status_sql
from tenure.adapters.db.engine import make_engine
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import events as E
from tenure.adapters.db.tables import metadata
from tenure.adapters.db.tables import outbox as O
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain import errors, lifecycle
from tenure.domain.access import Role
from tenure.domain.model import ALLOWED_PARENTS, ActivateMode, ClientType, Contact, HoldReason, Kind, Stage, Status
from tenure.domain.model import derive_status as derive
from tenure.domain.notifications import capabilities_changed
from tenure.domain.policy import PRESETS, Policy
from tenure.domain.schedule import ACTIVATION_DUE, DECOMMISSION_DUE
from tenure.services import accounts as svc
from tenure.services.counts import check_counts
from tenure.services.scheduler import apply_due_changes
from tests.support import Installation, MutableClock

SETTINGS = settings(
    max_examples=30,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
MAX_ACCOUNTS = 14
LONDON = ZoneInfo("Europe/London")  # tests.support's operator time zone
_TRUNCATE = "TRUNCATE TABLE {} RESTART IDENTITY CASCADE".format(", ".join(t.name for t in metadata.sorted_tables))


@dataclass
class Node:
    """One account as the model sees it."""

    id: str
    kind: Kind
    parent: str | None
    stage: Stage
    management: bool = False
    holds: set[HoldReason] = field(default_factory=set)
    placers: dict[HoldReason, str] = field(default_factory=dict)  # the account that placed each hold
    client_type: ClientType | None = None
    start: date | None = None
    decommission_on: date | None = None
    decommissioned_on: date | None = None
    version: int = 1
    events: int = 1


Outcome = type[errors.DomainError] | None
OutboxRow = tuple[str, str, str]


class LifecycleMachine(RuleBasedStateMachine):
    fresh: Callable[[], Engine]  # a new, migrated, empty database per example

    def __init__(self) -> None:
        super().__init__()
        self.nodes: dict[str, Node] = {}
        self.order: list[str] = []  # creation order: stable choices whatever the random ids
        self.final: dict[str, date] = {}

    # -- set-up ---------------------------------------------------------------
    @initialize(policy=st.sampled_from(sorted(PRESETS)))
    def build_tree(self, policy: str) -> None:
        self.engine = type(self).fresh()
        self.site = Installation.start(self.engine, MutableClock(), policy=policy)
        self.policy: Policy = PRESETS[policy]
        with self.uow().reading() as uow:
            for account in uow.accounts.hydrate(list(uow.connection.execute(select(A).order_by(A.c.sort_key)))):
                self._add_node(account)
        reseller = self._create(Kind.RESELLER, self.site.operator_id)
        self.reseller = reseller
        self.callers = {
            "operator": self.site.admin,
            "reseller": self.site.user(reseller, Role.ADMIN, "admin@reseller.example"),
        }
        channel = self._create(Kind.CHANNEL, reseller)
        for parent in (self.site.operator_id, reseller, channel, channel):
            self._create(Kind.CLIENT, parent)

    def _create(self, kind: Kind, parent: str, **extra: object) -> str:
        n = len(self.order)
        request = svc.CreateAccount(kind, parent, f"A{n}", Contact(f"A{n}", f"a{n}@example.com"), **extra)  # type: ignore[arg-type]
        account = svc.create_account(self.uow(), caller=self.site.admin, request=request, now=self.site.now)
        node_id = self._add_node(account)
        assert account.status is self.status(self.nodes[node_id])  # the answer the caller gets
        return node_id

    def _add_node(self, account: svc.Account) -> str:
        self.nodes[account.id] = Node(
            account.id,
            account.kind,
            account.parent_id,
            account.stage,
            account.is_management,
            client_type=account.client_type,
            start=account.start_date,
        )
        self.order.append(account.id)
        return account.id

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine)

    @property
    def today(self) -> date:
        return self.site.now.astimezone(LONDON).date()

    # -- the model ------------------------------------------------------------
    def held_ancestor(self, node: Node) -> str | None:
        parent = node.parent
        while parent is not None:
            if self.nodes[parent].holds:
                return parent
            parent = self.nodes[parent].parent
        return None

    def status(self, node: Node) -> Status:
        return derive(node.stage, bool(node.holds) or self.held_ancestor(node) is not None)

    def children(self, node: Node) -> list[Node]:
        return [n for n in self.nodes.values() if n.parent == node.id]

    def below(self, node: Node) -> list[Node]:
        """The node and everything under it."""
        return [node, *(d for child in self.children(node) for d in self.below(child))]

    def protected(self, node: Node) -> bool:
        return node.kind is Kind.OPERATOR or node.management

    def own(self, node: Node, actor: str = "operator") -> bool:
        """Nobody changes the lifecycle of their own account (lifecycle.md §3)."""
        return node.id == self.callers[actor].account_id

    def visible(self, node: Node, actor: str) -> bool:
        """The operator's admin sees everything; the reseller's admin its own subtree."""
        return actor == "operator" or node.id in {n.id for n in self.below(self.nodes[self.reseller])}

    def may_lift(self, node: Node, reason: HoldReason, actor: str) -> bool:
        """Only the placer's account or an ancestor of it lifts a hold; here: the operator, or the placer itself."""
        return actor == "operator" or node.placers[reason] == self.callers[actor].account_id

    # -- running an action ------------------------------------------------------
    def pick(self, data: st.DataObject) -> Node:
        return self.nodes[data.draw(st.sampled_from(self.order), label="account")]

    def pick_held(self, data: st.DataObject) -> Node:
        """Mostly an account with a hold of its own, so lifting is tried often (by either admin)."""
        held = [i for i in self.order if self.nodes[i].holds]
        if held and data.draw(st.integers(0, 3), label="held") > 0:
            return self.nodes[data.draw(st.sampled_from(held), label="held account")]
        return self.pick(data)

    def version_for(self, data: st.DataObject, node: Node) -> int | None:
        return node.version if data.draw(st.booleans(), label="if-match") else None

    def attempt(self, expected: Outcome, action: Callable[[], object]) -> bool:
        """Run the action; it must fail with exactly `expected` and then have written nothing."""
        before = self._counts()
        if expected is None:
            action()
            return True
        with pytest.raises(errors.DomainError) as raised:
            action()
        assert type(raised.value) is expected, raised.value.detail
        assert self._counts() == before, "a refused change wrote something"
        return False

    def _counts(self) -> tuple[int, int, int]:
        with self.uow().reading() as uow:
            c = uow.connection
            return (
                c.execute(select(func.count()).select_from(E)).scalar_one(),
                c.execute(select(func.count()).select_from(O)).scalar_one(),
                c.execute(select(func.sum(A.c.version))).scalar_one(),
            )

    def last_outbox(self) -> int:
        with self.uow().reading() as uow:
            return int(uow.connection.execute(select(func.coalesce(func.max(O.c.id), 0))).scalar_one())

    def outbox_since(self, last: int) -> Counter[OutboxRow]:
        """The notices a change left: a partner's cascade job is expanded first, as the worker's pass would."""
        self.site.fan_out()
        with self.uow().reading() as uow:
            rows = uow.connection.execute(
                select(O.c.kind, O.c.topic, O.c.account_id).where(O.c.id > last, O.c.kind != "cascade")
            )
            return Counter((r.kind, r.topic, r.account_id) for r in rows)

    def changed(self, node: Node) -> None:
        node.version += 1
        node.events += 1

    def snapshot(self) -> dict[str, tuple[Stage, Status]]:
        return {n.id: (n.stage, self.status(n)) for n in self.nodes.values()}

    def expected_flips(self, root: Node, before: dict[str, tuple[Stage, Status]], template: str) -> Counter[OutboxRow]:
        """Suspension emails and entitlement webhooks for every account whose status flipped."""
        rows: Counter[OutboxRow] = Counter()
        for node in self.below(root):
            was, now = before[node.id], (node.stage, self.status(node))
            if (was[1] is Status.SUSPENDED) == (now[1] is Status.SUSPENDED):
                continue
            if node.kind is Kind.CLIENT or node is root:
                rows[("email", template, node.id)] += 1
            if capabilities_changed(self.policy, was, now):
                rows[("webhook", "entitlements.changed", node.id)] += 1
        return rows

    def own_rows(
        self, node: Node, topic: str | None, email: str | None, was: tuple[Stage, Status]
    ) -> Counter[OutboxRow]:
        rows: Counter[OutboxRow] = Counter()
        if topic:
            rows[("webhook", topic, node.id)] += 1
        if email:
            rows[("email", email, node.id)] += 1
        if capabilities_changed(self.policy, was, (node.stage, self.status(node))):
            rows[("webhook", "entitlements.changed", node.id)] += 1
        return rows

    def descendants_untouched(self, root: Node) -> Callable[[], None]:
        """A cascade must leave every row below the acted-on account exactly as it was."""

        def rows() -> list[tuple[object, ...]]:
            ids = [n.id for n in self.below(root)[1:]]
            with self.uow().reading() as uow:
                accounts = uow.connection.execute(select(A).where(A.c.id.in_(ids)).order_by(A.c.id)).all()
                holds = uow.accounts.holds_in_force(ids)
            return [*map(tuple, accounts), *sorted((k, sorted(h.id for h in v)) for k, v in holds.items())]

        before = rows()
        return lambda: _assert_equal(rows(), before)

    # -- rules: suspension ------------------------------------------------------
    @rule(data=st.data(), reason=st.sampled_from(HoldReason), actor=st.sampled_from(["operator", "reseller"]))
    def suspend(self, data: st.DataObject, reason: HoldReason, actor: str) -> None:
        node = self.pick(data)
        expected: Outcome = None
        if not self.visible(node, actor):
            expected = errors.NotFound
        elif self.own(node, actor):
            expected = errors.Forbidden
        elif node.stage is Stage.DECOMMISSIONED:
            expected = errors.AccountDecommissioned
        elif self.protected(node) or node.stage is not Stage.ACTIVE:
            expected = errors.InvalidTransition
        elif reason in node.holds:
            expected = errors.AlreadySuspended
        version, before, last = self.version_for(data, node), self.snapshot(), self.last_outbox()
        check_below = self.descendants_untouched(node)
        call = lambda: self.site_call(  # noqa: E731
            svc.suspend, node, reason=reason, note="drawn", expected_version=version, actor=actor
        )
        if self.attempt(expected, call):
            node.holds.add(reason)
            node.placers[reason] = self.callers[actor].account_id
            self.changed(node)
            check_below()
            expected_rows = self.expected_flips(node, before, "suspended")
            expected_rows[("webhook", "account.suspended", node.id)] += 1
            assert self.outbox_since(last) == expected_rows

    @rule(
        data=st.data(),
        reason=st.none() | st.sampled_from(HoldReason),
        actor=st.sampled_from(["operator", "reseller"]),
    )
    def unsuspend(self, data: st.DataObject, reason: HoldReason | None, actor: str) -> None:
        node = self.pick_held(data)
        wanted = {r for r in node.holds if reason is None or r is reason}
        lifted = {r for r in wanted if self.may_lift(node, r, actor)}
        expected: Outcome = None
        if not self.visible(node, actor):
            expected = errors.NotFound
        elif self.own(node, actor):
            expected = errors.Forbidden
        elif node.stage is Stage.DECOMMISSIONED:
            expected = errors.AccountDecommissioned
        elif not node.holds:
            expected = errors.InheritedSuspension if self.held_ancestor(node) else errors.NotSuspended
        elif not wanted:
            expected = errors.NotSuspended
        elif not lifted:
            expected = errors.Forbidden  # every hold it asked for was placed above it
        version, before, last = self.version_for(data, node), self.snapshot(), self.last_outbox()
        check_below = self.descendants_untouched(node)
        call = lambda: self.site_call(svc.unsuspend, node, reason=reason, expected_version=version, actor=actor)  # noqa: E731
        if self.attempt(expected, call):
            node.holds -= lifted
            for r in lifted:
                del node.placers[r]
            self.changed(node)
            check_below()
            expected_rows = self.expected_flips(node, before, "unsuspended")
            expected_rows[("webhook", "account.unsuspended", node.id)] += 1
            assert self.outbox_since(last) == expected_rows

    # -- rules: stages ----------------------------------------------------------
    @rule(data=st.data(), days=st.none() | st.integers(-2, 8))
    def activate(self, data: st.DataObject, days: int | None) -> None:
        node = self.pick(data)
        on = None if days is None else self.today + timedelta(days=days)
        expected: Outcome = None
        if self.own(node):
            expected = errors.Forbidden
        elif node.stage is Stage.DECOMMISSIONED:
            expected = errors.AccountDecommissioned
        elif node.stage not in (Stage.NEW, Stage.SCHEDULED):
            expected = errors.InvalidTransition
        version, was, last = self.version_for(data, node), (node.stage, self.status(node)), self.last_outbox()
        call = lambda: self.site_call(svc.activate, node, on=on, expected_version=version)  # noqa: E731
        if self.attempt(expected, call):
            self.changed(node)
            if on is None or on <= self.today:
                node.stage = Stage.ACTIVE
                node.start = min(node.start or self.today, self.today)
                assert self.outbox_since(last) == self.own_rows(node, "account.activated", None, was)
            else:
                node.stage, node.start = Stage.SCHEDULED, on
                assert self.outbox_since(last) == Counter()

    def blocking(self, node: Node, on: date | None) -> bool:
        live = [c for c in self.children(node) if c.stage is not Stage.DECOMMISSIONED]
        if on is None:
            return bool(live)
        return any(c.decommission_on is None or c.decommission_on > on for c in live)

    @rule(data=st.data(), days=st.none() | st.integers(-1, 6))
    def decommission(self, data: st.DataObject, days: int | None) -> None:
        node = self.pick(data)
        on = None if days is None else self.today + timedelta(days=days)
        scheduled = on is not None and on > self.today
        expected: Outcome = None
        if self.own(node):
            expected = errors.Forbidden
        elif node.stage is Stage.DECOMMISSIONED:
            expected = errors.AccountDecommissioned
        elif self.protected(node):
            expected = errors.InvalidTransition
        elif self.blocking(node, on if scheduled else None):
            expected = errors.HasActiveChildren
        version, was, last = self.version_for(data, node), (node.stage, self.status(node)), self.last_outbox()
        call = lambda: self.site_call(svc.decommission, node, on=on, expected_version=version)  # noqa: E731
        if self.attempt(expected, call):
            self.changed(node)
            if scheduled:
                node.decommission_on = on
                rows = self.own_rows(node, "account.decommission_scheduled", "decommission_scheduled", was)
            else:
                self._decommissioned(node)
                rows = self.own_rows(node, "account.decommissioned", "decommissioned", was)
            assert self.outbox_since(last) == rows

    def _decommissioned(self, node: Node) -> None:
        node.stage, node.decommissioned_on, node.decommission_on = Stage.DECOMMISSIONED, self.today, None
        self.final[node.id] = self.today

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        node = self.pick(data)
        expected: Outcome = None
        if self.own(node):
            expected = errors.Forbidden
        elif node.stage is Stage.DECOMMISSIONED:
            expected = errors.AccountDecommissioned
        elif node.decommission_on is None:
            expected = errors.InvalidTransition
        version, was, last = self.version_for(data, node), (node.stage, self.status(node)), self.last_outbox()
        if self.attempt(expected, lambda: self.site_call(svc.cancel_decommission, node, expected_version=version)):
            node.decommission_on = None
            self.changed(node)
            rows = self.own_rows(node, "account.decommission_cancelled", "decommission_cancelled", was)
            assert self.outbox_since(last) == rows

    @rule(data=st.data(), to=st.sampled_from(ClientType))
    def convert(self, data: st.DataObject, to: ClientType) -> None:
        node = self.pick(data)
        expected: Outcome = None
        if self.own(node):
            expected = errors.Forbidden
        elif node.stage is Stage.DECOMMISSIONED:
            expected = errors.AccountDecommissioned
        elif node.kind is not Kind.CLIENT or node.client_type is to:
            expected = errors.InvalidTransition
        version, was, last = self.version_for(data, node), (node.stage, self.status(node)), self.last_outbox()
        if self.attempt(expected, lambda: self.site_call(svc.convert, node, to=to, expected_version=version)):
            node.client_type = to
            self.changed(node)
            assert self.outbox_since(last) == self.own_rows(node, "account.converted", None, was)

    @precondition(lambda self: len(self.order) < MAX_ACCOUNTS)
    @rule(
        data=st.data(),
        kind=st.sampled_from([Kind.RESELLER, Kind.CHANNEL, Kind.CLIENT]),
        days=st.integers(-3, 5),
        manual=st.booleans(),
    )
    def create(self, data: st.DataObject, kind: Kind, days: int, manual: bool) -> None:
        parent = self.pick(data)
        expected: Outcome = None
        if parent.stage is Stage.DECOMMISSIONED:
            expected = errors.AccountDecommissioned
        elif parent.kind not in ALLOWED_PARENTS[kind] or parent.decommission_on is not None:
            expected = errors.InvalidTransition
        extra: dict[str, object] = {}
        if kind is Kind.CLIENT:
            extra = {"start_date": self.today + timedelta(days=days)}
            extra["activate"] = ActivateMode.MANUAL if manual else ActivateMode.ON_START_DATE
        if self.attempt(expected, lambda: self._create(kind, parent.id, **extra)):
            child = self.nodes[self.order[-1]]
            start = self.today + timedelta(days=days)
            if kind is not Kind.CLIENT:
                assert child.stage is Stage.ACTIVE
            else:
                assert child.stage is (
                    Stage.NEW if manual else Stage.ACTIVE if start <= self.today else Stage.SCHEDULED
                )
                assert child.start == start

    @rule(data=st.data(), days=st.integers(-2, 8))
    def move_start(self, data: st.DataObject, days: int) -> None:
        """PATCH the start date: only a client's, only while it is not yet active."""
        node = self.pick(data)
        start = self.today + timedelta(days=days)
        expected: Outcome = None
        if node.stage is Stage.DECOMMISSIONED:
            expected = errors.AccountDecommissioned
        elif node.kind is not Kind.CLIENT:
            expected = errors.ValidationFailed
        elif start != node.start and node.stage not in (Stage.NEW, Stage.SCHEDULED):
            expected = errors.InvalidTransition
        version, last = self.version_for(data, node), self.last_outbox()
        changes = lifecycle.AccountChanges(start_date=start)
        call = lambda: self.site_call(svc.update_account, node, changes=changes, expected_version=version)  # noqa: E731
        if self.attempt(expected, call):
            if start != node.start:  # the same date again is no change at all
                node.start = start
                self.changed(node)
            assert self.outbox_since(last) == Counter()

    @rule(data=st.data(), ahead=st.integers(1, 2))
    def stale_write(self, data: st.DataObject, ahead: int) -> None:
        """A change with an If-Match from another version: refused, nothing written."""
        node = self.pick(data)
        version = node.version + ahead if data.draw(st.booleans()) else node.version - 1
        expected: Outcome = errors.VersionConflict
        if self.own(node):
            expected = errors.Forbidden
        elif node.stage is Stage.DECOMMISSIONED:
            expected = errors.AccountDecommissioned
        self.attempt(expected, lambda: self.site_call(svc.cancel_decommission, node, expected_version=version))

    # -- rule: the worker, some days later ----------------------------------------
    @rule(days=st.integers(1, 3))
    def worker_pass(self, days: int) -> None:
        self.site.clock.set(self.site.now + timedelta(days=days))
        today = self.today
        activated, decommissioned, refused = set(), [], set()
        for node in self.nodes.values():
            if node.stage is Stage.SCHEDULED and node.start is not None and node.start <= today:
                node.stage = Stage.ACTIVE
                self.changed(node)
                activated.add(node.id)
        for kind in (Kind.CLIENT, Kind.CHANNEL, Kind.RESELLER):
            for node in sorted((n for n in self.nodes.values() if n.kind is kind), key=lambda n: n.id):
                if node.stage is Stage.DECOMMISSIONED or node.decommission_on is None or node.decommission_on > today:
                    continue
                if self.blocking(node, None):
                    refused.add(node.id)
                    continue
                self._decommissioned(node)
                self.changed(node)
                decommissioned.append(node.id)
        result = apply_due_changes(self.uow, now=self.site.now)
        assert set(result.activated) == activated
        assert result.decommissioned == decommissioned
        assert set(result.refused) == refused

    def site_call(self, action: Callable[..., object], node: Node, actor: str = "operator", **kwargs: object) -> object:
        caller = self.callers[actor]
        return action(self.uow(), caller=caller, account_id=node.id, now=self.site.now, **kwargs)

    # -- invariants -----------------------------------------------------------------
    @invariant()
    def database_agrees_with_the_model(self) -> None:
        if not self.nodes:
            return
        with self.uow().reading() as uow:
            rows = uow.connection.execute(select(A)).all()
            stored = {a.id: a for a in uow.accounts.hydrate(rows)}
            in_sql = {r[0]: r[1] for r in uow.connection.execute(select(A.c.id, status_sql.status()))}
            per_account = select(E.c.account_id, func.count()).group_by(E.c.account_id)
            events = {r[0]: r[1] for r in uow.connection.execute(per_account)}
        assert set(stored) == set(self.nodes)
        for node in self.nodes.values():
            account, status = stored[node.id], self.status(node)
            assert account.stage is node.stage, node
            assert account.held_reasons() == node.holds, node
            placed = {h.reason: h.placed_by_account.id if h.placed_by_account else None for h in account.holds}
            assert placed == node.placers, node
            assert account.status is status and Status(in_sql[node.id]) is status, node
            if node.stage is not Stage.DECOMMISSIONED:
                nearest = account.inherited.account_id if account.inherited else None
                assert nearest == self.held_ancestor(node), node
            assert (account.version, events.get(node.id, 0)) == (node.version, node.events), node
            assert account.decommission_on == node.decommission_on, node
            assert account.decommissioned_on == node.decommissioned_on, node
            assert (account.client_type, account.start_date) == (node.client_type, node.start), node

    @invariant()
    def due_ness_agrees_in_sql_and_python(self) -> None:
        """The worker's claim (SQL) and its re-check (Python) come from one `domain.schedule` rule."""
        if not self.nodes:
            return
        with self.uow().reading() as uow:
            stored = uow.accounts.hydrate(uow.connection.execute(select(A)).all())
            for rule in (ACTIVATION_DUE, DECOMMISSION_DUE):
                for day in (self.today - timedelta(days=1), self.today, self.today + timedelta(days=2)):
                    in_sql = set(uow.connection.scalars(select(A.c.id).where(status_sql.due(rule, day))))
                    assert in_sql == {a.id for a in stored if rule.holds(a, day)}, (rule, day)

    @invariant()
    def counters_agree_with_the_model(self) -> None:
        """The Clients page's counts (client_counts and the holds in force) for every partner."""
        with self.uow().reading() as uow:
            for node in self.nodes.values():
                if node.kind is Kind.CLIENT:
                    continue
                expected = Counter(self.status(n) for n in self.below(node) if n.kind is Kind.CLIENT)
                assert counts.by_status(uow.connection, node.id) == {s: expected[s] for s in Status}, node

    def teardown(self) -> None:
        """After each random walk, `tenure check counts` finds no drift."""
        if hasattr(self, "engine"):
            assert check_counts(self.uow()) == []

    @invariant()
    def decommissioned_is_final(self) -> None:
        if not self.final:
            return
        with self.uow().reading() as uow:
            rows = uow.connection.execute(
                select(A.c.id, A.c.stage, A.c.decommissioned_on).where(A.c.id.in_(self.final))
            )
            assert {r.id: (r.stage, r.decommissioned_on) for r in rows} == {
                k: ("decommissioned", v) for k, v in self.final.items()
            }

    @invariant()
    def management_client_is_untouchable(self) -> None:
        for node in self.nodes.values():
            if node.management or node.kind is Kind.OPERATOR:
                assert node.stage is Stage.ACTIVE and not node.holds and self.status(node) is Status.ACTIVE


def _assert_equal(after: object, before: object) -> None:
    assert after == before, "a cascade rewrote a row below the acted-on account"


@pytest.fixture
def fresh_database(engine: Engine, sqlite_template: Path, tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """A new empty database per hypothesis example: a copy of the migrated template, or TRUNCATE."""
    made: list[Engine] = []

    def fresh() -> Engine:
        if engine.dialect.name != "sqlite":
            with engine.begin() as connection:
                connection.execute(text(_TRUNCATE))
            return engine
        for old in made:
            old.dispose()
        path = tmp_path / f"example{len(made)}.db"
        shutil.copy(sqlite_template, path)
        made.append(make_engine(f"sqlite:///{path}"))
        return made[-1]

    yield fresh
    for old in made:
        old.dispose()


def test_the_lifecycle_rules_hold_on_random_walks(fresh_database: Callable[[], Engine]) -> None:
    machine = type("Lifecycle", (LifecycleMachine,), {"fresh": staticmethod(fresh_database)})
    run_state_machine_as_test(machine, settings=SETTINGS)
