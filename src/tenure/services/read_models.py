"""What use cases hand back and take in: plain records, with no database type in sight.

The adapters build them from rows (`adapters/db/*`), the entry points present them;
neither side needs the other. Moved here from `adapters/db` (issue 15 §4).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from tenure.domain.access import Caller, Role, Scope
from tenure.domain.catalog import Office
from tenure.domain.charges import BillingAccount, LineTerm
from tenure.domain.model import Kind, Stage, Status
from tenure.domain.policy import Policy, Subject
from tenure.domain.radius import AcctStatus

# An idempotency key whose first request has not answered yet (`status_code` 0).
PENDING = 0


@dataclass(frozen=True)
class AuditEntry:
    id: str
    account_id: str
    account_name: str
    at: datetime
    actor: str
    action: str
    reason: str | None
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(frozen=True)
class User:
    id: str
    email: str
    account_id: str
    role: Role
    password_hash: str
    account_kind: Kind
    account_is_management: bool = False
    session_generation: int = 0

    def as_caller(self) -> Caller:
        return Caller(self.id, self.email, self.account_id, self.account_kind, self.role)


@dataclass(frozen=True)
class TokenHolder:
    user: User
    token_id: str
    account_name: str
    stage: Stage
    status: Status
    expires_at: datetime


@dataclass(frozen=True)
class AccountFilter:
    kind: Kind | None = None
    statuses: frozenset[Status] = field(default_factory=frozenset)
    parent_id: str | None = None
    within: str | None = None
    q: str | None = None
    include_inactive: bool = False


@dataclass(frozen=True)
class OfficeListing:
    """A room as lists show it; `holder` only when the caller may see the client holding it."""

    office: Office
    free: bool
    holder: tuple[str, str] | None


@dataclass(frozen=True)
class WebhookSubscription:
    id: str
    account_id: str
    url: str
    events: list[str]
    secret: str
    created_at: datetime
    created_by: str
    public_only: bool = False  # made by a partner's admin: only public addresses, checked on every delivery


@dataclass(frozen=True)
class DeliveryRecord:
    id: int
    event_type: str
    account_id: str
    message_id: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None


@dataclass(frozen=True)
class ApiKey:
    id: str
    account_id: str
    name: str
    scopes: frozenset[Scope]
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class NasEntry:
    id: str
    name: str
    ip: str
    coa_port: int
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class Accounting:
    """One Accounting-Request as Tenure keeps it."""

    status: AcctStatus
    acct_session_id: str
    nas_ip: str
    user_name: str
    framed_ip: str | None
    at: datetime  # Event-Timestamp, or the time it arrived


@dataclass(frozen=True)
class Site:
    operator_id: str
    timezone: ZoneInfo
    policy: Policy
    billing_prefix: str
    secret_key: str


class NotInitialised(RuntimeError):
    """`tenure init` has not been run against this database."""


@dataclass(frozen=True)
class KeyHolder:
    """A key in force, with what a request needs to act as it: its account's kind and stage."""

    key: ApiKey
    account_kind: Kind
    account_stage: Stage


@dataclass(frozen=True)
class StoredAnswer:
    request_hash: str
    status_code: int
    body: str


class Finished(enum.StrEnum):
    """What may be pruned, in the order it must go (a delivery before the event it came from)."""

    WEBHOOK_DELIVERIES = "webhook_deliveries"
    WEBHOOK_EVENTS = "webhook_events"
    EMAILS = "emails"
    RADIUS_DISCONNECTS = "radius_disconnects"
    CASCADES = "cascades"  # last: a job goes once the notices it holds the context of have gone


@dataclass(frozen=True)
class Cascade:
    """One status flip below `root`, with everything its notices share (adapters/db/cascades.py writes them)."""

    root: str
    template: str  # "suspended" or "unsuspended"
    email: dict[str, Any]  # the email context
    webhook: dict[str, Any]  # the `entitlements.changed` data
    webhook_stages: tuple[str, ...]  # stages whose capabilities follow the flip
    radius_reason: str
    radius_stages: tuple[str, ...]  # stages that lose `internet` (suspension only)
    ignore_hold: str | None  # the new hold (a suspension): the flip is "no other hold in force"
    as_of: datetime

    def job_payload(self, after: str = "") -> dict[str, Any]:
        return {
            "email": self.email,
            "webhook": self.webhook,
            "webhook_stages": list(self.webhook_stages),
            "radius": {"reason": self.radius_reason},
            "radius_stages": list(self.radius_stages),
            "ignore_hold": self.ignore_hold,
            "after": after,  # the cursor: every account with a smaller or equal id is done
        }


@dataclass(frozen=True)
class Job:
    """A pending cascade job, claimed by the worker: expanded from `after` (exclusive) on."""

    id: int
    cascade: Cascade
    after: str


@dataclass(frozen=True)
class Change:
    """The new state of one claimed row after an attempt."""

    id: int
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    done_at: datetime | None


@dataclass(frozen=True)
class Subscription:
    webhook_id: str
    account_id: str  # the account below (or at) the subscription's account the event is about
    events: Sequence[str]
    created_at: datetime


@dataclass(frozen=True)
class SessionOutcome:
    session_id: int
    state: str
    error: str | None


@dataclass(frozen=True)
class BillableLine:
    billing_ref: str
    client_name: str
    account_id: str
    account: BillingAccount
    service: LineTerm


By = Literal["number", "account", "network", "radius"]
"""What an entitlement lookup is keyed by."""


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


@dataclass(frozen=True)
class SessionView:
    id: int
    acct_session_id: str
    user_name: str
    nas_ip: str
    framed_ip: str | None
    service_id: str | None
    account_id: str | None
    state: str
    started_at: datetime | None
    last_update_at: datetime
    stopped_at: datetime | None
    disconnect_error: str | None


@dataclass(frozen=True)
class ExportedClient:
    """One client as the CSV export writes it, with its parent's billing ref and kind."""

    id: str
    name: str
    billing_ref: str
    client_type: str | None
    start_date: date | None
    end_date: date | None
    contact_name: str
    contact_email: str
    parent_ref: str
    parent_kind: str


@dataclass(frozen=True)
class PartnerChoice:
    """A reseller or channel as the Clients page's partner filter names it."""

    id: str
    name: str
    kind: Kind


@dataclass(frozen=True)
class Drift:
    """One (ancestor, stage) whose counter is not the number of clients below it in that stage."""

    ancestor_id: str
    stage: str
    counted: int | None  # None: the partner has no counter rows at all
    actual: int
