"""An in-memory unit of work: the lifecycle use cases without a database (issue 15 §1).

`FakeDatabase` holds committed state; each `FakeUnitOfWork` works on it and puts back
the state it found unless the use case commits, so a refused change leaves nothing,
as on the real databases. It keeps what the lifecycle use cases read and write:
accounts and their tree, holds, the audit trail, the outbox (the suspension cascade
included: a client's notices at once, a partner's as one job that `fan_out` expands),
office assignments, service endings and session cuts.

It is a model of `adapters/db`, not a second implementation to keep in step: the
behaviour only a database has (row locks, SKIP LOCKED, status in SQL, unique
indexes under a race) is tested on SQLite and PostgreSQL in `tests/integration`.
Repositories the lifecycle does not use (users, API keys, listing, deliveries, ...) refuse every call.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Self, cast
from zoneinfo import ZoneInfo

from tenure.domain.access import SYSTEM_ACTOR, Caller, Role
from tenure.domain.catalog import Office
from tenure.domain.errors import AlreadySuspended, BillingRefTaken, NotFound, VersionConflict
from tenure.domain.events import Event
from tenure.domain.ids import new_id
from tenure.domain.model import Account, AccountRef, AncestorHold, Contact, Hold, Kind, Stage, Status
from tenure.domain.notifications import ENTITLEMENTS_CHANGED
from tenure.domain.policy import PRESETS, from_matrix
from tenure.services import accounts as svc
from tenure.services.read_models import Accounting, AuditEntry, Cascade, Job, OfficeListing, SessionView, Site
from tenure.services.unit_of_work import (
    AccountListing,
    ApiKeyRepository,
    BatchUnitOfWork,
    BillingRepository,
    ClientCounts,
    ClientsCsv,
    DeliveryQueue,
    DueChanges,
    EntitlementLookups,
    FinishedNotices,
    IdempotencyRepository,
    LineRepository,
    NasRepository,
    UserRepository,
    WebhookRepository,
)
from tests.support import START, Lifecycle, MutableClock


@dataclass(frozen=True)
class Message:
    """One outbox row: an email (`recipient` set) or a webhook."""

    kind: str
    topic: str
    account_id: str
    recipient: str | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class Recorded:
    event: Event
    actor: str
    at: datetime


@dataclass
class State:
    """Everything the fake database holds; deep-copied at the start of each unit of work."""

    site: dict[str, Any] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)  # holds kept apart, in `holds`
    holds: dict[str, Hold] = field(default_factory=dict)  # lifted ones stay, as records
    wizard_steps: dict[str, str | None] = field(default_factory=dict)
    events: list[Recorded] = field(default_factory=list)
    outbox: list[Message] = field(default_factory=list)
    offices: dict[str, Office] = field(default_factory=dict)
    assignments: dict[str, str] = field(default_factory=dict)  # office id -> account id
    services_ended: list[tuple[str, date]] = field(default_factory=list)
    disconnects: list[tuple[str, str]] = field(default_factory=list)  # (account id, reason)
    cascade_jobs: dict[int, Cascade] = field(default_factory=dict)  # pending jobs, by id (oldest first)
    cascade_ids: int = 0


class FakeDatabase:
    """The committed state, shared by every unit of work made from it."""

    def __init__(self) -> None:
        self.state = State()
        self.commits = 0


class _Repository:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    @property
    def s(self) -> State:
        return self.db.state


class FakeAccounts(_Repository):
    def get(self, account_id: str, *, caller: Caller | None = None, lock: bool = False) -> Account:
        row = self.s.accounts.get(account_id)
        if row is None or (caller is not None and not self._visible(caller, account_id)):
            raise NotFound(f"account {account_id} not found")
        account = copy.deepcopy(row)
        account.holds = sorted(self._in_force(account_id), key=lambda hold: hold.placed_at)
        account.inherited = self._nearest_held_ancestor(account_id)
        return account

    def _visible(self, caller: Caller, account_id: str) -> bool:
        if not caller.sees_subtree:
            return account_id == caller.account_id
        return caller.account_id in self.lineage(account_id)

    def _in_force(self, account_id: str) -> list[Hold]:
        return [copy.deepcopy(h) for h in self.s.holds.values() if h.account_id == account_id and h.lifted_at is None]

    def _nearest_held_ancestor(self, account_id: str) -> AncestorHold | None:
        for ancestor_id in reversed(self.lineage(account_id)[:-1]):
            holds = sorted(self._in_force(ancestor_id), key=lambda hold: hold.placed_at)
            if holds:
                ancestor = self.s.accounts[ancestor_id]
                return AncestorHold(ancestor.id, ancestor.name, ancestor.kind, holds[0].reason, holds[0].placed_at)
        return None

    def lineage(self, account_id: str) -> list[str]:
        chain: list[str] = []
        current: str | None = account_id
        while current is not None:
            chain.append(current)
            current = self.s.accounts[current].parent_id
        return chain[::-1]

    def lineages(self, ids: Sequence[str]) -> dict[str, list[str]]:
        return {account_id: self.lineage(account_id) for account_id in ids}

    def below(self, root: str) -> list[Account]:
        """Every account at or below `root`, as loaded (holds and inherited suspension filled in)."""
        return [self.get(i) for i in self.s.accounts if root in self.lineage(i)]

    def ids_for_tokens(self, caller: Caller, tokens: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for account in self.s.accounts.values():
            if self._visible(caller, account.id):
                if account.billing_ref in tokens:
                    found.setdefault(account.billing_ref, account.id)
                if account.id in tokens:
                    found[account.id] = account.id
        return found

    def ref(self, account_id: str) -> AccountRef:
        if account_id not in self.s.accounts:
            raise NotFound(f"account {account_id} not found")
        return AccountRef(account_id, self.s.accounts[account_id].name)

    def children_blocking_decommission(self, account_id: str, on: date | None = None) -> int:
        return sum(
            1
            for child in self.s.accounts.values()
            if child.parent_id == account_id
            and child.stage is not Stage.DECOMMISSIONED
            and (on is None or child.decommission_on is None or child.decommission_on > on)
        )

    def count_in_states(self, states: Collection[tuple[Stage, Status]]) -> int:
        return sum(1 for i in self.s.accounts if self._state(i) in states)

    def _state(self, account_id: str) -> tuple[Stage, Status]:
        account = self.get(account_id)
        return account.stage, account.status

    def billing_ref_in_use(self, ref: str, *, other_than: str | None = None) -> bool:
        return any(a.billing_ref.lower() == ref.lower() and a.id != other_than for a in self.s.accounts.values())

    def next_billing_ref_number(self) -> tuple[str, int]:
        self.s.site["billing_seq"] += 1
        return self.s.site["billing_prefix"], self.s.site["billing_seq"]

    def add(self, account: Account, *, now: datetime) -> None:
        if self.billing_ref_in_use(account.billing_ref):
            raise BillingRefTaken(f"billing ref {account.billing_ref} is already in use")
        self.s.accounts[account.id] = replace(copy.deepcopy(account), holds=[], inherited=None, version=1)

    def save(self, account: Account, *, now: datetime) -> None:
        stored = self.s.accounts[account.id]
        if stored.version != account.version:
            raise VersionConflict(f"{account.name} was changed by someone else; reload and try again")
        if self.billing_ref_in_use(account.billing_ref, other_than=account.id):
            raise BillingRefTaken(f"billing ref {account.billing_ref} is already in use")
        account.version += 1
        self.s.accounts[account.id] = replace(copy.deepcopy(account), holds=[], inherited=None)

    def add_hold(self, hold: Hold) -> None:
        if any(h.reason is hold.reason for h in self._in_force(hold.account_id)):
            raise AlreadySuspended(f"the account already has a {hold.reason.label} hold")
        self.s.holds[hold.id] = copy.deepcopy(hold)

    def lift_holds(self, lifted: Iterable[Hold]) -> None:
        for hold in lifted:
            stored = self.s.holds[hold.id]
            stored.lifted_at, stored.lifted_by = hold.lifted_at, hold.lifted_by

    def set_wizard_step(self, account_id: str, step: str | None) -> None:
        self.s.wizard_steps[account_id] = step

    def wizard_step(self, account_id: str) -> str | None:
        return self.s.wizard_steps.get(account_id)


class FakeAudit(_Repository):
    def append(self, event: Event, *, actor: str, at: datetime) -> None:
        self.s.events.append(Recorded(event, actor, at))

    def page(
        self, caller: Caller, *, account_id: str | None, limit: int, cursor: str | None
    ) -> tuple[list[AuditEntry], str | None]:
        raise NotImplementedError("the audit trail's pages are read on the real databases")


class FakeOutbox(_Repository):
    def __init__(self, db: FakeDatabase, accounts: FakeAccounts) -> None:
        super().__init__(db)
        self.accounts = accounts

    def webhook(self, topic: str, account_id: str, data: dict[str, Any], *, now: datetime) -> None:
        self.s.outbox.append(Message("webhook", topic, account_id, None, {"account_id": account_id, **data}))

    def email(self, template: str, account_id: str, recipient: str, context: dict[str, Any], *, now: datetime) -> None:
        if recipient:
            self.s.outbox.append(Message("email", template, account_id, recipient, context))

    def entitlements_changed_for_states(
        self, states: Collection[tuple[Stage, Status]], data: dict[str, Any], *, now: datetime
    ) -> None:
        for account in self.accounts.below(self.s.site["operator_id"]):
            if (account.stage, account.status) in states:
                self.s.outbox.append(Message("webhook", ENTITLEMENTS_CHANGED, account.id, None, data))


def flipped(accounts: FakeAccounts, root: str, ignore_hold: str | None) -> list[Account]:
    """Accounts at or below `root`, not decommissioned, with no hold in force on them or above but `ignore_hold`."""
    found = []
    for account in accounts.below(root):
        lineage = accounts.lineage(account.id)
        others = [
            h
            for h in accounts.s.holds.values()
            if h.account_id in lineage and h.lifted_at is None and h.id != ignore_hold
        ]
        if account.stage is not Stage.DECOMMISSIONED and not others:
            found.append(account)
    return found


class FakeCascades(_Repository):
    """What `adapters/db/cascades.py` does in SQL, account by account.

    A partner's job is an outbox row of kind "cascade", expanded whole by one
    `expand_batch` (the batch size and the as-of reading of holds are SQL matters,
    tested on the real databases); each notice carries its shared context itself.
    """

    def __init__(self, db: FakeDatabase, accounts: FakeAccounts) -> None:
        super().__init__(db)
        self.accounts = accounts

    def write_now(self, cascade: Cascade, root: Account) -> None:
        self._write(cascade, [root], cut_sessions=True)

    def enqueue(self, cascade: Cascade) -> None:
        self.s.cascade_ids += 1
        self.s.cascade_jobs[self.s.cascade_ids] = cascade
        self.s.outbox.append(Message("cascade", cascade.template, cascade.root, None, cascade.job_payload()))

    def claim_next(self) -> Job | None:
        if not self.s.cascade_jobs:
            return None
        job_id = min(self.s.cascade_jobs)
        return Job(job_id, self.s.cascade_jobs[job_id], "")

    def expand_batch(self, job: Job, size: int, *, now: datetime) -> bool:
        del self.s.cascade_jobs[job.id]
        held = job.cascade.ignore_hold in self.s.holds and self.s.holds[job.cascade.ignore_hold].lifted_at is None
        accounts = flipped(self.accounts, job.cascade.root, job.cascade.ignore_hold)
        self._write(job.cascade, accounts, cut_sessions=held)  # a lifted suspension's job cuts no session
        return True

    def pending(self) -> int:
        return len(self.s.cascade_jobs)

    def _write(self, cascade: Cascade, accounts: list[Account], *, cut_sessions: bool) -> None:
        for account in accounts:
            email = account.main_contact.email
            if email and (account.kind is Kind.CLIENT or account.id == cascade.root):
                self.s.outbox.append(Message("email", cascade.template, account.id, email, cascade.email))
        for account in accounts:
            if account.stage.value in cascade.webhook_stages:
                self.s.outbox.append(Message("webhook", ENTITLEMENTS_CHANGED, account.id, None, cascade.webhook))
        for account in accounts if cut_sessions else []:
            if account.stage.value in cascade.radius_stages:
                self.s.disconnects.append((account.id, cascade.radius_reason))


class FakeSiteSettings(_Repository):
    def credentials_version(self) -> int:
        return int(self.s.site.get("credentials_version", 1))

    def exists(self) -> bool:
        return bool(self.s.site)

    def create(self, **values: Any) -> None:
        self.s.site = dict(values)

    def set_operator(self, operator_id: str) -> None:
        self.s.site["operator_id"] = operator_id

    def set_policy(self, name: str, matrix: dict[str, Any] | None) -> None:
        self.s.site.update(policy_name=name, policy_matrix=matrix)


class FakeOffices(_Repository):
    def add(self, office: Office, *, now: datetime) -> None:
        self.s.offices[office.id] = office

    def update(self, office: Office) -> bool:
        found = office.id in self.s.offices
        if found:
            self.s.offices[office.id] = office
        return found

    def get(self, office_id: str, *, lock: bool = False) -> Office:
        if office_id not in self.s.offices:
            raise NotFound(f"office {office_id} not found")
        return self.s.offices[office_id]

    def holder(self, office_id: str) -> str | None:
        return self.s.assignments.get(office_id)

    def assign(self, office_id: str, account_id: str, *, now: datetime) -> None:
        self.s.assignments[office_id] = account_id

    def release(self, office_id: str, account_id: str, *, now: datetime) -> bool:
        if self.s.assignments.get(office_id) != account_id:
            return False
        del self.s.assignments[office_id]
        return True

    def page(
        self, caller: Caller, *, free: bool | None, limit: int, cursor: str | None, q: str | None = None
    ) -> tuple[list[OfficeListing], str | None]:
        raise NotImplementedError("office lists are read on the real databases")

    def held_by(self, account_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        held: dict[str, list[tuple[str, str]]] = {}
        for office_id, account_id in self.s.assignments.items():
            if account_id in account_ids:
                held.setdefault(account_id, []).append((office_id, self.s.offices[office_id].name))
        return held

    def release_all(self, account_id: str, *, now: datetime) -> list[tuple[str, str]]:
        released = self.held_by([account_id]).get(account_id, [])
        for office_id, _ in released:
            del self.s.assignments[office_id]
        return sorted(released, key=lambda pair: pair[1])


class FakeServiceEnding(_Repository):
    def end_all(self, account_id: str, *, on: date) -> None:
        self.s.services_ended.append((account_id, on))


class FakeRadius(_Repository):
    """Records which accounts' sessions would be cut, and why; there are no sessions to cut."""

    def __init__(self, db: FakeDatabase, accounts: FakeAccounts) -> None:
        super().__init__(db)
        self.accounts = accounts

    def record(self, request: Accounting, *, holder: tuple[str, str] | None, now: datetime) -> None:
        raise NotImplementedError("RADIUS accounting is tested on the real databases")

    def disconnect_states(self, states: Collection[tuple[Stage, Status]], reason: str, *, now: datetime) -> None:
        for account in self.accounts.below(self.s.site["operator_id"]):
            if (account.stage, account.status) in states:
                self.s.disconnects.append((account.id, reason))

    def disconnect_account(self, account_id: str, reason: str, *, now: datetime) -> None:
        self.s.disconnects.append((account_id, reason))

    def disconnect_service(self, service_id: str, reason: str, *, now: datetime) -> None:
        raise NotImplementedError("phone services are tested on the real databases")

    def page(
        self, caller: Caller, *, states: Sequence[str], limit: int, cursor: str | None
    ) -> tuple[list[SessionView], str | None]:
        raise NotImplementedError("RADIUS sessions are listed on the real databases")

    def network_holder(self, caller: Caller, user_name: str) -> tuple[str, str] | None:
        raise NotImplementedError("RADIUS is tested on the real databases")


class _NotFaked:
    """A repository the lifecycle use cases never reach: any call says so."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, method: str) -> Any:
        raise NotImplementedError(f"uow.{self.name}.{method} is not faked: test it on the real databases")


class FakeUnitOfWork:
    """`services.unit_of_work.UnitOfWork` in memory: one 'transaction' over a `FakeDatabase`."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.accounts = FakeAccounts(db)
        self.audit = FakeAudit(db)
        self.outbox = FakeOutbox(db, self.accounts)
        self.cascades = FakeCascades(db, self.accounts)
        self.site_settings = FakeSiteSettings(db)
        self.offices = FakeOffices(db)
        self.line_ending = FakeServiceEnding(db)
        self.radius = FakeRadius(db, self.accounts)
        self.users = cast(UserRepository, _NotFaked("users"))
        self.api_keys = cast(ApiKeyRepository, _NotFaked("api_keys"))
        self.idempotency = cast(IdempotencyRepository, _NotFaked("idempotency"))
        self.due = cast(DueChanges, _NotFaked("due"))  # the scheduler's claims are SQL (SKIP LOCKED)
        self.nas = cast(NasRepository, _NotFaked("nas"))
        self.finished = cast(FinishedNotices, _NotFaked("finished"))
        self.deliveries = cast(DeliveryQueue, _NotFaked("deliveries"))
        self.webhooks = cast(WebhookRepository, _NotFaked("webhooks"))
        self.lines = cast(LineRepository, _NotFaked("lines"))
        self.listing = cast(AccountListing, _NotFaked("listing"))
        self.billing = cast(BillingRepository, _NotFaked("billing"))
        self.entitlements = cast(EntitlementLookups, _NotFaked("entitlements"))
        self.clients_csv = cast(ClientsCsv, _NotFaked("clients_csv"))
        self.client_counts = cast(ClientCounts, _NotFaked("client_counts"))  # counters are SQL rows
        self.locks_claimed_rows = False
        self._before: State | None = None

    def __enter__(self) -> Self:
        self._before = copy.deepcopy(self.db.state)
        return self

    def __exit__(self, *exc: object) -> None:
        self.rollback()

    def reading(self) -> Self:
        return self

    @contextmanager
    def nested(self) -> Iterator[None]:
        """A savepoint: the state as it was, put back when the block raises."""
        saved = copy.deepcopy(self.db.state)
        try:
            yield
        except BaseException:
            self.db.state = saved
            raise

    def new_batch(self) -> BatchUnitOfWork:
        raise NotImplementedError("the scheduler's batches claim rows in SQL: tested on the real databases")

    @property
    def site(self) -> Site:
        values = self.db.state.site
        name, matrix = values["policy_name"], values["policy_matrix"]
        policy = from_matrix(matrix, name) if matrix else PRESETS[name]
        return Site(values["operator_id"], ZoneInfo(values["timezone"]), policy, values["billing_prefix"], "secret")

    def commit(self) -> None:
        self._before = None
        self.db.commits += 1

    def rollback(self) -> None:
        if self._before is not None:
            self.db.state = self._before
            self._before = None


class FakeInstallation(Lifecycle):
    """`tests.support.Installation` on a `FakeDatabase`: the operator, its staff admin and a clock."""

    def __init__(self, *, timezone: str = "Europe/London", policy: str = "connect") -> None:
        self.db = FakeDatabase()
        self.clock = MutableClock(START)
        self.db.state.site = {
            "operator_id": None,
            "timezone": timezone,
            "policy_name": policy,
            "policy_matrix": None,
            "billing_prefix": "MER",
            "billing_seq": 0,
        }
        with self.uow() as uow:
            request = svc.CreateAccount(Kind.OPERATOR, "", "Meridian", Contact("Meridian", "ops@operator.example"))
            operator = svc.create_in(uow, parent=None, request=request, actor=SYSTEM_ACTOR, now=self.now)
            uow.site_settings.set_operator(operator.id)
            uow.commit()
        self.operator_id = operator.id
        self.admin = Caller(new_id(), "admin@operator.example", operator.id, Kind.OPERATOR, Role.ADMIN)

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.db)

    @property
    def now(self) -> datetime:
        return self.clock.now()

    @property
    def state(self) -> State:
        return self.db.state

    def messages(self, kind: str, topic: str) -> list[str]:
        """The account ids of the queued messages of one kind and topic, sorted."""
        return sorted(m.account_id for m in self.state.outbox if m.kind == kind and m.topic == topic)

    def actions(self) -> list[str]:
        """The audit trail's actions, oldest first."""
        return [r.event.action.value for r in self.state.events]
