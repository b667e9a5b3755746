"""Entitlements for network equipment (api.md "Entitlements"): what an account or a number may do now.

Every decision carries the reason from `domain.policy` ("suspended: fraud hold
on channel North Sales since 2026-11-02"). The number lookup is the hot path:
one SQL statement (see `adapters.db.entitlements`), nothing cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from tenure.adapters.db.entitlements import NumberHolder, find_network_id, find_number
from tenure.adapters.db.uow import UnitOfWork
from tenure.adapters.phone import to_e164
from tenure.domain.access import Caller
from tenure.domain.catalog import ServiceKind, decide_for_number, decide_for_service
from tenure.domain.errors import NotFound
from tenure.domain.model import Account, Status
from tenure.domain.policy import Capability, Decision, Subject, decide_all, is_billed
from tenure.domain.radius import NETWORK_KINDS, clean_network_id


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


def account_entitlements(uow: UnitOfWork, *, caller: Caller, account_id: str) -> AccountEntitlements:
    with uow.reading():
        account = uow.accounts.get(account_id, caller=caller)
        policy, zone = uow.site.policy, uow.site.timezone
    return AccountEntitlements(
        account.id,
        account.status,
        is_billed(policy, account.status, account.stage),
        decide_all(policy, subject_of(account, zone)),
    )


def number_entitlement(
    uow: UnitOfWork, *, caller: Caller, number: str, capability: Capability, now: datetime
) -> NumberDecision:
    """May the holder of `number` use `capability` now? 404 when no active service visible to the caller holds it."""
    e164 = to_e164(number, field="e164")
    with uow.reading():
        found = find_number(uow.connection, caller, e164)
    if found is None:
        raise NotFound(f"no active service holds {e164}")
    today = now.astimezone(found.timezone).date()
    decision = decide_for_number(
        found.policy, found.subject, capability, service_start=found.service_start, today=today
    )
    return NumberDecision(e164, found.account_id, capability, decision.allowed, decision.because)


@dataclass(frozen=True)
class ServiceDecision:
    kind: ServiceKind
    network_id: str
    service_id: str
    account_id: str
    capability: Capability
    allowed: bool
    because: str


def service_entitlement(
    uow: UnitOfWork, *, caller: Caller, kind: ServiceKind, network_id: str, capability: Capability, now: datetime
) -> ServiceDecision:
    """May the holder of the `kind` service with this network id use `capability` now? 404 as for numbers."""
    network_id = clean_network_id(network_id)
    with uow.reading():
        found = find_network_id(uow.connection, caller, kind, network_id)
    if found is None:
        raise NotFound(f"no active {kind.label} service holds the network id {network_id}")
    return _service_decision(found, kind, network_id, capability, now)


def radius_user(uow: UnitOfWork, *, caller: Caller, user_name: str, now: datetime) -> ServiceDecision | None:
    """`internet` for a RADIUS User-Name: its internet service, else its Wi-Fi service; None when neither."""
    with uow.reading():
        for value in NETWORK_KINDS:
            kind = ServiceKind(value)
            found = find_network_id(uow.connection, caller, kind, user_name)
            if found is not None:
                return _service_decision(found, kind, user_name, Capability.INTERNET, now)
    return None


def _service_decision(
    found: NumberHolder, kind: ServiceKind, network_id: str, capability: Capability, now: datetime
) -> ServiceDecision:
    today = now.astimezone(found.timezone).date()
    decision = decide_for_service(
        found.policy, found.subject, capability, service_start=found.service_start, today=today
    )
    return ServiceDecision(
        kind, network_id, found.service_id, found.account_id, capability, decision.allowed, decision.because
    )
