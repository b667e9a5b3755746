"""Entitlements for network equipment (api.md "Entitlements"): what an account or a number may do now.

Every decision carries the reason from `domain.policy` ("suspended: fraud hold
on channel North Sales since 2026-11-02"). Both questions are answered from
one SQL statement (see `adapters.db.entitlements`); nothing about a decision is
cached, only the parsed site settings (by the site's version).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from tenure.domain.access import Caller
from tenure.domain.catalog import LineKind, decide_for_number, decide_for_service
from tenure.domain.errors import NotFound
from tenure.domain.model import Account, Status
from tenure.domain.policy import Capability, Decision, Subject, decide_all, is_billed
from tenure.domain.radius import clean_network_id
from tenure.services.ports import PhoneNumbers
from tenure.services.read_models import Lookup, Settings
from tenure.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class AccountEntitlements:
    account_id: str
    status: Status
    billed: bool
    decisions: dict[Capability, Decision]


@dataclass(frozen=True)
class NumberDecision:
    number: str
    account_id: str
    capability: Capability
    allowed: bool
    because: str


def subject_of(account: Account, zone: tzinfo) -> Subject:
    """A loaded account as the policy sees it (the console's client page)."""
    return Subject(
        name=account.name,
        kind=account.kind.value,
        stage=account.stage,
        status=account.status,
        holds=tuple(account.holds),
        inherited=account.inherited,
        start_date=account.start_date,
        decommissioned_on=account.decommissioned_on,
        zone=zone,
    )


class SettingsCache:
    """The last parsed site settings; `read` keeps them while the site's (operator, version) holds."""

    def __init__(self) -> None:
        self.current: Settings | None = None

    def remember(self, lookup: Lookup) -> Lookup:
        self.current = lookup.settings
        return lookup


_settings = SettingsCache()


def account_entitlements(uow: UnitOfWork, *, caller: Caller, account_id: str) -> AccountEntitlements:
    with uow.reading():
        found = uow.entitlements.run(caller, _settings.current, "account", account_id=account_id)
    return account_answer(_settings.remember(found), account_id)


def number_entitlement(
    uow: UnitOfWork, *, caller: Caller, number: str, capability: Capability, numbers: PhoneNumbers, now: datetime
) -> NumberDecision:
    """May the holder of `number` use `capability` now? 404 when no active service visible to the caller holds it."""
    e164 = numbers.to_e164(number, field="e164")
    with uow.reading():
        found = uow.entitlements.run(caller, _settings.current, "number", number=e164)
    return number_answer(_settings.remember(found), e164, capability, now)


def account_answer(found: Lookup, account_id: str) -> AccountEntitlements:
    """Every capability of the account the statement found; 404 when it found none the caller sees."""
    if found.holder is None:
        raise NotFound(f"account {account_id} not found")
    subject, policy = found.holder.subject, found.settings.policy
    billed = is_billed(policy, subject.status, subject.stage)
    return AccountEntitlements(found.holder.account_id, subject.status, billed, decide_all(policy, subject))


def number_answer(found: Lookup, e164: str, capability: Capability, now: datetime) -> NumberDecision:
    """The decision for the number the statement found; 404 when no active service visible to the caller holds it."""
    holder = found.holder
    if holder is None or holder.service_start is None:
        raise NotFound(f"no active service holds {e164}")
    today = now.astimezone(found.settings.timezone).date()
    decision = decide_for_number(
        found.settings.policy, holder.subject, capability, service_start=holder.service_start, today=today
    )
    return NumberDecision(e164, holder.account_id, capability, decision.allowed, decision.because)


@dataclass(frozen=True)
class ServiceDecision:
    kind: LineKind
    network_id: str
    service_id: str
    account_id: str
    capability: Capability
    allowed: bool
    because: str


def service_entitlement(
    uow: UnitOfWork, *, caller: Caller, kind: LineKind, network_id: str, capability: Capability, now: datetime
) -> ServiceDecision:
    """May the holder of the `kind` service with this network id use `capability` now? 404 as for numbers."""
    network_id = clean_network_id(network_id)
    with uow.reading():
        found = uow.entitlements.run_network(caller, _settings.current, kind, network_id)
    decision = _service_decision(_settings.remember(found), kind, network_id, capability, now)
    if decision is None:
        raise NotFound(f"no active {kind.label} service holds the network id {network_id}")
    return decision


def service_answer(found: Lookup, network_id: str, capability: Capability, now: datetime) -> ServiceDecision | None:
    """`internet` (or another capability) for the service a RADIUS User-Name lookup found, of
    whichever kind it is (internet, else Wi-Fi: `lookups.radius_service`); None when none."""
    kind = found.holder.service_kind if found.holder is not None else None
    return _service_decision(found, LineKind(kind), network_id, capability, now) if kind else None


def _service_decision(
    found: Lookup, kind: LineKind, network_id: str, capability: Capability, now: datetime
) -> ServiceDecision | None:
    holder = found.holder
    if holder is None or holder.service_start is None or holder.service_id is None:
        return None
    today = now.astimezone(found.settings.timezone).date()
    decision = decide_for_service(
        found.settings.policy, holder.subject, capability, service_start=holder.service_start, today=today
    )
    return ServiceDecision(
        kind, network_id, holder.service_id, holder.account_id, capability, decision.allowed, decision.because
    )
