"""What an account is: kinds, stages, derived status, holds, contacts.

Values, labels and badge colours sit side by side so the API, the console and
the emails all speak of a status the same way (lifecycle.md §1-3).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime


class Kind(enum.StrEnum):
    OPERATOR = "operator"
    RESELLER = "reseller"
    CHANNEL = "channel"
    CLIENT = "client"

    @property
    def is_partner(self) -> bool:
        return self in (Kind.RESELLER, Kind.CHANNEL)


# lifecycle.md §1: which kind may sit under which.
ALLOWED_PARENTS: dict[Kind, frozenset[Kind]] = {
    Kind.OPERATOR: frozenset(),
    Kind.RESELLER: frozenset({Kind.OPERATOR}),
    Kind.CHANNEL: frozenset({Kind.OPERATOR, Kind.RESELLER}),
    Kind.CLIENT: frozenset({Kind.OPERATOR, Kind.RESELLER, Kind.CHANNEL}),
}


class Stage(enum.StrEnum):
    NEW = "new"
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    DECOMMISSIONED = "decommissioned"


class Status(enum.StrEnum):
    """What every list and page shows; derived, never stored."""

    NEW = "new"
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    INACTIVE = "inactive"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self][0]

    @property
    def colour(self) -> str:
        return _STATUS_LABELS[self][1]


_STATUS_LABELS: dict[Status, tuple[str, str]] = {
    Status.NEW: ("New", "blue"),
    Status.SCHEDULED: ("Scheduled", "purple"),
    Status.ACTIVE: ("Active", "green"),
    Status.SUSPENDED: ("Suspended", "orange"),
    Status.INACTIVE: ("Inactive", "grey"),
}


def derive_status(stage: Stage, suspended: bool) -> Status:
    """lifecycle.md §2: decommissioned wins, then suspension, then the stage."""
    if stage is Stage.DECOMMISSIONED:
        return Status.INACTIVE
    if suspended:
        return Status.SUSPENDED
    return Status(stage.value)


class ClientType(enum.StrEnum):
    RESIDENTIAL = "residential"
    VIRTUAL = "virtual"

    @property
    def label(self) -> str:
        return "Residential client" if self is ClientType.RESIDENTIAL else "Virtual client"


class HoldReason(enum.StrEnum):
    NON_PAYMENT = "non_payment"
    FRAUD = "fraud"
    REQUESTED = "requested"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            HoldReason.NON_PAYMENT: "non-payment",
            HoldReason.FRAUD: "fraud",
            HoldReason.REQUESTED: "requested by the customer",
            HoldReason.OTHER: "other",
        }[self]


class ActivateMode(enum.StrEnum):
    ON_START_DATE = "on_start_date"
    MANUAL = "manual"


@dataclass(frozen=True)
class Contact:
    name: str
    email: str


@dataclass(frozen=True)
class AccountRef:
    """An account named in an answer: who placed a hold, who is suspended above."""

    id: str
    name: str


@dataclass
class Hold:
    """One reason an account is suspended. Lifted holds stay as records.

    `placed_by_account` is the account of whoever placed it (the operator for
    the worker and policy changes): it decides who may lift the hold
    (lifecycle.md §3, `access.Authority`). None only where a read path
    does not load it; the rules then treat the hold as the operator's.
    """

    id: str
    account_id: str
    reason: HoldReason
    note: str
    placed_at: datetime
    placed_by: str
    lifted_at: datetime | None = None
    lifted_by: str | None = None
    placed_by_account: AccountRef | None = None


@dataclass(frozen=True)
class AncestorHold:
    """The nearest ancestor holding a hold: why an account is suspended 'through' it."""

    account_id: str
    account_name: str
    account_kind: Kind
    reason: HoldReason
    since: datetime


@dataclass
class Account:
    """An account as the rules see it: its own row plus what it inherits."""

    id: str
    kind: Kind
    parent_id: str | None
    name: str
    billing_ref: str
    main_contact: Contact
    stage: Stage
    created_at: datetime
    version: int = 1
    notes: str = ""
    is_management: bool = False
    client_type: ClientType | None = None
    start_date: date | None = None
    end_date: date | None = None
    decommission_on: date | None = None
    decommissioned_on: date | None = None
    activated_on: date | None = None  # the day it became active; billing's "has it been activated"
    holds: list[Hold] = field(default_factory=list)
    inherited: AncestorHold | None = None

    @property
    def suspended(self) -> bool:
        return bool(self.holds) or self.inherited is not None

    @property
    def status(self) -> Status:
        return derive_status(self.stage, self.suspended)

    @property
    def is_client(self) -> bool:
        return self.kind is Kind.CLIENT

    def contract_expired(self, today: date) -> bool:
        """The end date is for room planning only; past it the contract shows expired."""
        return self.end_date is not None and self.end_date < today

    def held_reasons(self) -> set[HoldReason]:
        return {hold.reason for hold in self.holds}
