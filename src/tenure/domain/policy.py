"""The entitlement policy (lifecycle.md §4): what each status allows.

Two presets ship (`connect`, `metis`); an operator may store its own matrix.
Every decision carries a reason a support agent can read to a customer.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from tenure.domain.errors import ValidationFailed
from tenure.domain.model import AncestorHold, Hold, Stage, Status


class Capability(enum.StrEnum):
    OUTBOUND_CALLS = "outbound_calls"
    INBOUND_CALLS = "inbound_calls"
    INTERNET = "internet"
    LOCAL_NETWORK = "local_network"
    PORTAL_LOGIN = "portal_login"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


CALL_CAPABILITIES = frozenset({Capability.OUTBOUND_CALLS, Capability.INBOUND_CALLS})
ALL = frozenset(Capability)
_NOT_STARTED = frozenset({Capability.PORTAL_LOGIN})


@dataclass(frozen=True)
class Policy:
    """Allowed capabilities per status, and which statuses are billed."""

    name: str
    allowed: Mapping[Status, frozenset[Capability]]
    billed: frozenset[Status]

    def __hash__(self) -> int:
        """By value, so what a policy implies (stages, summaries) is computed once per policy, not per change."""
        return hash((self.name, frozenset(self.allowed.items()), self.billed))

    def allows(self, status: Status, capability: Capability) -> bool:
        return capability in self.allowed.get(status, frozenset())

    def as_matrix(self) -> dict[str, dict[str, bool]]:
        """The policy as {capability: {status: allowed}}, plus a `billed` row."""
        matrix = {c.value: {s.value: self.allows(s, c) for s in Status} for c in Capability}
        matrix["billed"] = {s.value: s in self.billed for s in Status}
        return matrix


def _preset(name: str, suspended: frozenset[Capability]) -> Policy:
    return Policy(
        name=name,
        allowed={
            Status.ACTIVE: ALL,
            Status.SUSPENDED: suspended,
            Status.NEW: _NOT_STARTED,
            Status.SCHEDULED: _NOT_STARTED,
            Status.INACTIVE: frozenset(),
        },
        billed=frozenset({Status.ACTIVE, Status.SUSPENDED}),
    )


CONNECT = _preset(
    "connect",
    frozenset({Capability.INBOUND_CALLS, Capability.LOCAL_NETWORK, Capability.PORTAL_LOGIN}),
)
METIS = _preset(
    "metis",
    frozenset({Capability.INBOUND_CALLS, Capability.INTERNET, Capability.LOCAL_NETWORK}),
)
PRESETS: dict[str, Policy] = {CONNECT.name: CONNECT, METIS.name: METIS}


def from_matrix(matrix: Mapping[str, Mapping[str, bool]], name: str = "custom") -> Policy:
    """A custom policy from {capability: {status: bool}} (and an optional `billed` row).

    Every capability and every status must be given, so a typo can never
    silently allow something.
    """
    unknown = set(matrix) - {c.value for c in Capability} - {"billed"}
    if unknown:
        raise ValidationFailed(f"unknown capabilities: {', '.join(sorted(unknown))}", field="matrix")
    allowed: dict[Status, set[Capability]] = {s: set() for s in Status}
    for capability in Capability:
        row = _row(matrix, capability.value)
        for status in Status:
            if row[status.value]:
                allowed[status].add(capability)
    billed_row = matrix.get("billed")
    billed = (
        frozenset(s for s in Status if _row(matrix, "billed")[s.value]) if billed_row is not None else CONNECT.billed
    )
    if Status.INACTIVE in billed or any(allowed[Status.INACTIVE]):
        raise ValidationFailed("an inactive account can be neither served nor billed", field="matrix")
    return Policy(name, {s: frozenset(c) for s, c in allowed.items()}, billed)


def _row(matrix: Mapping[str, Mapping[str, bool]], key: str) -> Mapping[str, bool]:
    row = matrix.get(key)
    if row is None or set(row) != {s.value for s in Status}:
        raise ValidationFailed(f"{key} must give true or false for every status", field="matrix")
    return row


@dataclass(frozen=True)
class Subject:
    """What a decision needs to know about an account."""

    name: str
    kind: str
    stage: Stage
    status: Status
    holds: tuple[Hold, ...]
    inherited: AncestorHold | None
    start_date: date | None = None
    decommissioned_on: date | None = None
    # The operator's time zone: "since <date>" is a date there, like every date Tenure shows.
    zone: tzinfo | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    because: str


def effective(policy: Policy, stage: Stage, status: Status) -> frozenset[Capability]:
    """The capabilities an account has now.

    A not-yet-started account suspended through an ancestor shows status
    `suspended`, but suspension must never grant what its own stage denies:
    it gets only what both its stage and `suspended` allow.
    """
    caps = policy.allowed.get(status, frozenset())
    if status is Status.SUSPENDED and stage in (Stage.NEW, Stage.SCHEDULED):
        caps = caps & policy.allowed.get(Status(stage.value), frozenset())
    return caps


def decide(policy: Policy, subject: Subject, capability: Capability) -> Decision:
    allowed = capability in effective(policy, subject.stage, subject.status)
    return Decision(allowed, _because(subject, allowed))


def decide_all(policy: Policy, subject: Subject) -> dict[Capability, Decision]:
    return {c: decide(policy, subject, c) for c in Capability}


def is_billed(policy: Policy, status: Status, stage: Stage) -> bool:
    return status in policy.billed and stage is Stage.ACTIVE


def _because(subject: Subject, allowed: bool) -> str:
    reason = _status_reason(subject)
    if allowed and subject.status is Status.SUSPENDED:
        return "allowed while " + reason
    return reason


def _status_reason(subject: Subject) -> str:
    status = subject.status
    if status is Status.ACTIVE:
        return "active"
    if status is Status.INACTIVE:
        since = f" on {subject.decommissioned_on.isoformat()}" if subject.decommissioned_on else ""
        return f"inactive: decommissioned{since}"
    if status is Status.NEW:
        return "not yet active: the account is new and waiting to be activated"
    if status is Status.SCHEDULED:
        start = subject.start_date.isoformat() if subject.start_date else "its start date"
        return f"not yet active: scheduled to start on {start}"
    return "suspended: " + hold_description(subject)


def hold_description(subject: Subject) -> str:
    """'fraud hold on channel North Sales since 2026-11-02' (own holds first, oldest first)."""
    if subject.holds:
        parts = [
            f"{hold.reason.label} hold on {subject.kind} {subject.name} since {_day(hold.placed_at, subject.zone)}"
            for hold in sorted(subject.holds, key=lambda h: h.placed_at)
        ]
        return "; ".join(parts)
    ancestor = subject.inherited
    if ancestor is None:
        return "suspended"
    return (
        f"{ancestor.reason.label} hold on {ancestor.account_kind.value} "
        f"{ancestor.account_name} since {_day(ancestor.since, subject.zone)}"
    )


def _day(moment: datetime, zone: tzinfo | None) -> str:
    return (moment.astimezone(zone) if zone is not None else moment).date().isoformat()


@functools.cache
def suspension_summary(policy: Policy) -> tuple[tuple[Capability, ...], tuple[Capability, ...]]:
    """What stops and what goes on when an active account is suspended (for emails and confirmations)."""
    active = policy.allowed.get(Status.ACTIVE, frozenset())
    suspended = policy.allowed.get(Status.SUSPENDED, frozenset())
    stops = tuple(c for c in Capability if c in active and c not in suspended)
    goes_on = tuple(c for c in Capability if c in suspended)
    return stops, goes_on
