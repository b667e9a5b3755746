"""The unit of work the use cases depend on: a protocol, not SQLAlchemy (issue 15 §1).

Shaped like cosmicpython's `AbstractUnitOfWork`: a context manager that is one
transaction, with `commit()` (nothing is written unless the use case commits;
leaving the block any other way rolls back) and every repository reachable from it.
`adapters/db/uow.py` is the SQLAlchemy implementation (mypy checks that it satisfies
this protocol where the composition root hands it over); `tests/fakes.py` keeps
everything in memory for fast rule tests.

Each repository protocol names only what the use cases call; the adapters may hold more.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self

from tenure.domain.access import Caller, Role
from tenure.domain.catalog import Line, LineKind, Office
from tenure.domain.events import Event
from tenure.domain.model import Account, AccountRef, Hold, Kind, Stage, Status
from tenure.services.read_models import (
    AccountFilter,
    Accounting,
    ApiKey,
    AuditEntry,
    BillableLine,
    By,
    Cascade,
    Change,
    DeliveryRecord,
    Drift,
    ExportedClient,
    Finished,
    Job,
    KeyHolder,
    Lookup,
    NasEntry,
    OfficeListing,
    PartnerChoice,
    SessionOutcome,
    SessionView,
    Settings,
    Site,
    StoredAnswer,
    Subscription,
    TokenHolder,
    User,
    WebhookSubscription,
)


class AccountRepository(Protocol):
    def get(self, account_id: str, *, caller: Caller | None = None, lock: bool = False) -> Account:
        """One account, or NotFound when absent or not visible to `caller`."""

    def ids_for_tokens(self, caller: Caller, tokens: Sequence[str]) -> dict[str, str]:
        """{token: account id} for tokens that are the id or billing ref of an account `caller` sees."""

    def lineage(self, account_id: str) -> list[str]:
        """The account's ancestors and itself, root first (who may lift its holds, lifecycle.md §3)."""

    def lineages(self, ids: Sequence[str]) -> dict[str, list[str]]:
        """`lineage` of many accounts in one query."""

    def ref(self, account_id: str) -> AccountRef:
        """An account's id and name, as a hold names its placer."""

    def children_blocking_decommission(self, account_id: str, on: date | None = None) -> int:
        """Children that would still be undecommissioned when the partner goes.

        For a decommission scheduled `on` a future day, a child itself scheduled to go by
        then does not block. Now (`on=None`) every undecommissioned child blocks, even one
        due today that the worker has not reached yet: the partner never goes first.
        """

    def count_in_states(self, states: Collection[tuple[Stage, Status]]) -> int:
        """How many accounts are in any of `states`: the ones a policy change would notify (`sql.in_states`)."""

    def billing_ref_in_use(self, ref: str, *, other_than: str | None = None) -> bool:
        """In any letter case (the unique index on lower(billing_ref) answers it, and guards races)."""

    def next_billing_ref_number(self) -> tuple[str, int]:
        """Take the next number of the operator's billing-ref sequence (row-locked by the UPDATE)."""

    def add(self, account: Account, *, now: datetime) -> None:
        """Insert the row and its closure entries (itself, then every ancestor of its parent)."""

    def save(self, account: Account, *, now: datetime) -> None:
        """Write the row if nobody changed it since it was read (optimistic lock on `version`)."""

    def add_hold(self, hold: Hold) -> None:
        """Insert a hold; the partial unique index refuses a second one per reason, even in a race."""

    def lift_holds(self, lifted: Iterable[Hold]) -> None: ...

    def set_wizard_step(self, account_id: str, step: str | None) -> None: ...

    def wizard_step(self, account_id: str) -> str | None:
        """Where the console's new-client wizard stopped for this account (None when finished)."""


class AuditRepository(Protocol):
    def append(self, event: Event, *, actor: str, at: datetime) -> None: ...

    def page(
        self, caller: Caller, *, account_id: str | None, limit: int, cursor: str | None
    ) -> tuple[list[AuditEntry], str | None]:
        """Newest first, for one account or for everything the caller may see."""


class OutboxRepository(Protocol):
    def webhook(self, topic: str, account_id: str, data: dict[str, Any], *, now: datetime) -> None: ...

    def email(
        self, template: str, account_id: str, recipient: str, context: dict[str, Any], *, now: datetime
    ) -> None: ...

    def entitlements_changed_for_states(
        self, states: Collection[tuple[Stage, Status]], data: dict[str, Any], *, now: datetime
    ) -> None:
        """One `entitlements.changed` per account in any of `states` (stage, derived status): set-based."""


class UserRepository(Protocol):
    def by_email(self, email: str) -> User | None: ...

    def by_id(self, user_id: str) -> User | None: ...

    def get(self, user_id: str, *, caller: Caller | None = None) -> User: ...

    def list(self, caller: Caller, *, account_id: str | None, limit: int, after: str | None) -> list[User]: ...

    def add(
        self, *, user_id: str, email: str, password_hash: str, account_id: str, role: Role, now: datetime
    ) -> None: ...

    def set_password_hash(self, user_id: str, password_hash: str) -> None: ...

    def replace_password_hash(self, user_id: str, *, old_hash: str, new_hash: str) -> bool:
        """Set a new hash only if the old one is still there, and end the user's sessions.

        One conditional UPDATE, so of two uses of one set-password link at the
        same moment exactly one finds the old hash: the link is single-use.
        """

    def end_sessions(self, user_id: str) -> None:
        """Move the user's session generation on: every console cookie signed in before stops working."""

    def revoke_tokens_of(self, user_id: str, *, now: datetime) -> None:
        """A new password ends the user's API tokens too; the version tells every process's cache."""

    def admins_of(self, account_id: str, *, lock: bool) -> tuple[str, ...]:
        """The ids of an account's admins; `lock` holds their rows (PostgreSQL) until the transaction ends,
        so two deletions of the last two admins cannot both see the other one still there."""

    def delete(self, user_id: str) -> None: ...

    def add_token(self, *, token_id: str, user_id: str, token_hash: str, now: datetime, ttl: timedelta) -> None: ...

    def holder_of_token(self, token_hash: str, *, now: datetime) -> TokenHolder | None:
        """`by_token` and the account's stage and derived status, in one statement: every request asks this."""

    def revoke_token(self, token_id: str, *, now: datetime) -> None: ...

    def record_failure(self, email: str, *, now: datetime) -> None: ...

    def failures_since(self, email: str, since: datetime) -> int: ...

    def forget_failures_before(self, before: datetime) -> None: ...


class ApiKeyRepository(Protocol):
    def add(self, key: ApiKey, *, key_hash: str) -> None: ...

    def get(self, key_id: str, *, caller: Caller) -> ApiKey:
        """A key on an account the caller sees, revoked or not; otherwise 404."""

    def page(self, caller: Caller, *, limit: int, cursor: str | None) -> tuple[list[ApiKey], str | None]:
        """Keys in force on accounts the caller sees, by id (revoked ones live on in the audit trail)."""

    def holder(self, key_hash: str) -> KeyHolder | None:
        """The key in force with this hash, and its account's kind and stage: one statement."""

    def revoke(self, key_id: str, *, by: str, now: datetime) -> None:
        """Revoke, and move the credentials version so every process's cache forgets what it holds."""

    def touch(self, key_id: str, now: datetime) -> None: ...


class SiteRepository(Protocol):
    def credentials_version(self) -> int:
        """Moves on every revocation of a token or key: each process's credential cache compares it."""

    def exists(self) -> bool: ...

    def create(self, **values: Any) -> None: ...

    def set_operator(self, operator_id: str) -> None: ...

    def set_policy(self, name: str, matrix: dict[str, Any] | None) -> None: ...


class IdempotencyRepository(Protocol):
    def lookup(self, user_id: str, key: str, *, now: datetime) -> StoredAnswer | None:
        """The answer stored under the key, in the change's own transaction; a key older than 24 h reads as free."""

    def record(self, user_id: str, key: str, request_hash: str, *, status_code: int, body: str, now: datetime) -> bool:
        """Store the answer if the key is free; False when an identical request stored one first."""

    def find(self, user_id: str, key: str, *, now: datetime) -> StoredAnswer | None: ...

    def claim(self, user_id: str, key: str, request_hash: str, *, now: datetime) -> bool:
        """True when this request now owns the key; False when another one holds it."""

    def store(self, user_id: str, key: str, *, status_code: int, body: str) -> None: ...

    def release(self, user_id: str, key: str) -> None: ...


class OfficeRepository(Protocol):
    def add(self, office: Office, *, now: datetime) -> None: ...

    def update(self, office: Office) -> bool:
        """Write a room's name, floor and capacity; False when there is no such room."""

    def get(self, office_id: str, *, lock: bool = False) -> Office: ...

    def holder(self, office_id: str) -> str | None:
        """The account holding the room now, if any (for a clear answer; the index still decides)."""

    def assign(self, office_id: str, account_id: str, *, now: datetime) -> None: ...

    def release(self, office_id: str, account_id: str, *, now: datetime) -> bool: ...

    def page(
        self, caller: Caller, *, free: bool | None, limit: int, cursor: str | None, q: str | None = None
    ) -> tuple[list[OfficeListing], str | None]:
        """Rooms by name; `free=True` only unheld ones, `free=False` only held ones; `q` in the name, any case."""

    def held_by(self, account_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """(office id, name) held now by each account, in one query."""

    def release_all(self, account_id: str, *, now: datetime) -> list[tuple[str, str]]: ...


class LineEnding(Protocol):
    def end_all(self, account_id: str, *, on: date) -> None:
        """End every open service on `on`; one not yet started ends on its start day, never before it."""


class RadiusSessions(Protocol):
    def record(self, request: Accounting, *, holder: tuple[str, str] | None, now: datetime) -> None:
        """Apply one Start / Interim-Update / Stop; `holder` is the (service, account) of its User-Name."""

    def disconnect_states(self, states: Collection[tuple[Stage, Status]], reason: str, *, now: datetime) -> None:
        """Cut the sessions of every account in any of `states` (stage, derived status): a policy change."""

    def disconnect_account(self, account_id: str, reason: str, *, now: datetime) -> None: ...

    def disconnect_service(self, service_id: str, reason: str, *, now: datetime) -> None: ...

    def page(
        self, caller: Caller, *, states: Sequence[str], limit: int, cursor: str | None
    ) -> tuple[list[SessionView], str | None]:
        """Sessions of accounts the caller sees, newest first; sessions of no known service only to the operator."""

    def network_holder(self, caller: Caller, user_name: str) -> tuple[str, str] | None:
        """The (service, account) whose internet or Wi-Fi service holds `user_name`, if the caller sees it."""


class DueChanges(Protocol):
    """Scheduled changes whose day has come, `limit` at a time in id order (rows another worker holds skipped)."""

    def activations(self, day: date, *, after: str, limit: int) -> list[str]: ...

    def decommissions(self, day: date, kind: Kind, *, after: str, limit: int) -> list[str]: ...


class Cascades(Protocol):
    """A suspension's or unsuspension's notices to every account whose status it flipped.

    A client's few notices are written in the change's transaction (`write_now`); a
    partner's change writes one job (`enqueue`) that the worker expands after the
    commit, one batch of accounts per transaction (`claim_next`, `expand_batch`).
    """

    def write_now(self, cascade: Cascade, root: Account) -> None:
        """`root`, a client whose own status the change flipped: its email, webhook and session cuts now."""

    def enqueue(self, cascade: Cascade) -> None: ...

    def claim_next(self) -> Job | None:
        """The oldest pending job, locked; None when there is none or another worker holds it."""

    def expand_batch(self, job: Job, size: int, *, now: datetime) -> bool:
        """Write the notices of the next `size` accounts below the root; True (and the job expanded) after the last."""

    def pending(self) -> int: ...


class NasRepository(Protocol):
    """The NAS registry; secrets arrive sealed and never leave."""

    def add(self, entry: NasEntry, *, sealed_secret: str) -> None: ...

    def find(self, name_or_id: str) -> NasEntry: ...

    def remove(self, nas_id: str) -> None: ...

    def page(self, *, limit: int, cursor: str | None) -> tuple[list[NasEntry], str | None]: ...


class FinishedNotices(Protocol):
    """Finished notices, deleted in small batches (one transaction each)."""

    def delete_batch(self, what: Finished, *, before: datetime, after: int | None, batch: int) -> list[int]: ...


class DeliveryQueue(Protocol):
    """The worker's side of the outbox: claim due notices in batches, record what each attempt did.

    Claimed rows are records with attribute access (`row.id`, `row.attempts`, ...), as
    `adapters/db/deliveries.py` selects them.
    """

    def lease(self, seconds: int) -> None: ...

    def due_emails(self, now: datetime, limit: int) -> list[Any]: ...

    def record_emails(self, changes: Sequence[Change]) -> None: ...

    def record_notices(self, changes: Sequence[Change]) -> None: ...

    def due_webhook_events(self, now: datetime, limit: int) -> list[Any]: ...

    def subscriptions_for(self, account_ids: Sequence[str]) -> list[Subscription]: ...

    def add_deliveries(self, rows: Sequence[dict[str, Any]]) -> None: ...

    def mark_dispatched(self, outbox_ids: Sequence[int], now: datetime) -> None: ...

    def due_deliveries(self, now: datetime, limit: int) -> list[Any]: ...

    def record_deliveries(self, changes: Sequence[Change]) -> None: ...

    def due_disconnects(self, now: datetime, limit: int) -> list[Any]: ...

    def record_sessions(self, outcomes: Sequence[SessionOutcome]) -> None: ...


class WebhookRepository(Protocol):
    """A partner's webhook subscriptions and their deliveries."""

    def add(self, subscription: WebhookSubscription) -> None: ...

    def get(self, webhook_id: str, *, caller: Caller) -> WebhookSubscription: ...

    def page(
        self, caller: Caller, *, limit: int, cursor: str | None
    ) -> tuple[list[WebhookSubscription], str | None]: ...

    def delete(self, webhook_id: str) -> None:
        """The subscription and its deliveries; the events themselves stay in the outbox."""

    def deliveries(
        self, webhook_id: str, *, statuses: Sequence[str], limit: int, cursor: str | None
    ) -> tuple[list[DeliveryRecord], str | None]:
        """Newest event first, keyed on the outbox row (the (webhook_id, outbox_id) unique index serves it)."""

    def delivery(self, webhook_id: str, delivery_id: int) -> DeliveryRecord | None: ...

    def requeue(self, delivery_id: int, now: datetime) -> None:
        """Due again now, with a fresh 24-hour window; the webhook-id stays, so receivers can de-duplicate."""


class LineRepository(Protocol):
    """Phone services (numbers, lines) of clients; named `lines` on the unit of work."""

    def add(self, service: Line, *, now: datetime) -> None: ...

    def network_id_holder(self, kind: LineKind, network_id: str, *, other_than: str | None = None) -> str | None:
        """The service of `kind` that has not ended holding `network_id`, if any (the index still decides)."""

    def set_network_id(self, service: Line) -> None: ...

    def number_holder(self, number: str) -> str | None:
        """The account holding the number now, if any (a clear answer; the index still decides)."""

    def get(self, service_id: str, *, account_id: str) -> Line: ...

    def page(
        self, account_id: str, *, include_ended: bool, limit: int, cursor: str | None
    ) -> tuple[list[Line], str | None]:
        """An account's services in the order they were added (ids are time-ordered)."""

    def end(self, service: Line) -> None: ...


class AccountListing(Protocol):
    """Lists of accounts for a caller: a filter, pages in name order, counts per status."""

    def page(
        self, caller: Caller, flt: AccountFilter, *, limit: int, cursor: str | None
    ) -> tuple[list[Account], str | None]:
        """A page after `cursor`, and the cursor of the next one (None at the end)."""

    def page_before(self, caller: Caller, flt: AccountFilter, *, limit: int, cursor: str) -> tuple[list[Account], bool]:
        """The page that ends just before `cursor` (the console's "Previous"), and whether more lie before it."""

    def count_by_status(self, caller: Caller, flt: AccountFilter) -> dict[Status, int]:
        """Accounts per derived status for the filter (its status filter ignored)."""

    def names_of(self, caller: Caller, ids: Sequence[str]) -> dict[str, tuple[str, Kind]]:
        """Name and kind of each of `ids` the caller may see."""

    def partner_choices(self, caller: Caller, *, limit: int) -> list[PartnerChoice]:
        """Up to `limit` resellers, then up to `limit` channels the caller sees, by name: names only."""


class BillingRepository(Protocol):
    def billable_services(
        self, caller: Caller, *, first: date, last: date, account_id: str | None = None
    ) -> Iterator[Sequence[BillableLine]]:
        """Batches of the services billable between `first` and `last`, streamed."""


class EntitlementLookups(Protocol):
    """The one statement behind every entitlement answer (`known`: the settings this process already parsed)."""

    def run(self, caller: Caller, known: Settings | None, by: By = "number", **key: str) -> Lookup: ...

    def run_network(self, caller: Caller, known: Settings | None, kind: LineKind, network_id: str) -> Lookup: ...


class ClientsCsv(Protocol):
    """The reads of a clients CSV import (parents, refs and network ids taken) and export (clients in batches)."""

    def accounts_by_ref(self, caller: Caller, refs: Collection[str]) -> dict[str, Account]: ...

    def refs_in_use(self, refs: Collection[str]) -> set[str]: ...

    def network_ids_in_use(self, pairs: Collection[tuple[Any, str]]) -> set[tuple[Any, str]]: ...

    def network_ids_of(self, account_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]: ...

    def count_clients(self, caller: Caller, *, include_inactive: bool) -> int: ...

    def client_batches(self, caller: Caller, *, include_inactive: bool) -> Iterator[Sequence[ExportedClient]]: ...


class ClientCounts(Protocol):
    """The Clients page's counters (clients per partner and stage) against a recount."""

    def drift(self, *, then_fix: bool = False) -> list[Drift]:
        """Counters that disagree with a recount; `then_fix` locks out writers until the rebuild."""

    def rebuild(self) -> None:
        """Set every counter to the recount."""


class UnitOfWork(Protocol):
    """One transaction: `with uow: ...; uow.commit()`.

    The repositories are read-only properties so an implementation may hold any
    class that satisfies each repository protocol.
    """

    @property
    def accounts(self) -> AccountRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def cascades(self) -> Cascades: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def api_keys(self) -> ApiKeyRepository: ...
    @property
    def site_settings(self) -> SiteRepository: ...
    @property
    def idempotency(self) -> IdempotencyRepository: ...
    @property
    def offices(self) -> OfficeRepository: ...
    @property
    def line_ending(self) -> LineEnding: ...
    @property
    def radius(self) -> RadiusSessions: ...

    @property
    def due(self) -> DueChanges: ...

    @property
    def nas(self) -> NasRepository: ...

    @property
    def finished(self) -> FinishedNotices: ...

    @property
    def deliveries(self) -> DeliveryQueue: ...

    @property
    def webhooks(self) -> WebhookRepository: ...

    @property
    def lines(self) -> LineRepository: ...

    @property
    def listing(self) -> AccountListing: ...

    @property
    def billing(self) -> BillingRepository: ...

    @property
    def entitlements(self) -> EntitlementLookups: ...

    @property
    def clients_csv(self) -> ClientsCsv: ...

    @property
    def client_counts(self) -> ClientCounts: ...

    @property
    def locks_claimed_rows(self) -> bool:
        """True when claimed rows stay locked until commit (PostgreSQL); False: one worker at a time (SQLite)."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def reading(self) -> Self:
        """Use this unit of work for reads only (no write lock on SQLite); no effect once it is open."""

    def nested(self) -> AbstractContextManager[None]:
        """A nested transaction (savepoint) undone alone when its block raises."""

    def new_batch(self) -> BatchUnitOfWork:
        """A new batch unit of work on the same database: its own transaction, not this one's."""

    @property
    def site(self) -> Site:
        """The installation's settings, read once per transaction."""

    def commit(self) -> None: ...

    def rollback(self) -> None:
        """Undo what this transaction wrote so far; leaving the block without `commit()` does it too."""


class PreloadedAccounts(AccountRepository, Protocol):
    def preload(self, ids: Sequence[str], caller: Caller | None) -> None:
        """Load these accounts for the whole batch at once (answered from memory for the same caller).

        `caller` None: the worker's own changes, which see every account.
        """


class PreloadedOffices(OfficeRepository, Protocol):
    def preload_held(self, account_ids: Sequence[str]) -> None:
        """Read who holds which room for the whole batch at once; the batch's releases are then gathered."""


class BatchUnitOfWork(UnitOfWork, Protocol):
    """One transaction for a bulk request or a worker batch; each item runs on `item()`, undone alone when refused."""

    @property
    def accounts(self) -> PreloadedAccounts: ...

    @property
    def offices(self) -> PreloadedOffices: ...

    def item(self) -> UnitOfWork:
        """A unit of work for one item (a savepoint), to hand to an ordinary use case."""
