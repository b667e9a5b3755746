"""The entitlement lookups as network equipment calls them: one statement, one connection, no thread hop.

Per request: the bearer credential is found in the process's `CredentialCache`
(checked against the database only on a miss), the one statement of
`adapters.db.entitlements` runs on `lookups` (`AsyncLookups`: psycopg async on
PostgreSQL), and the answer is decided from its rows. The statement also
reports the credentials version (a revocation since the credential was
cached: forget, check again, run again), the caller account's standing, and
the site's settings version (parsed settings are reused while it holds).
Decisions are never cached: each one comes from rows read after the request
arrived.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from anyio import to_thread

from tenure.domain.access import Scope
from tenure.domain.policy import Capability
from tenure.services import api_keys, credentials
from tenure.services.entitlements import (
    AccountEntitlements,
    NumberDecision,
    ServiceDecision,
    account_answer,
    number_answer,
    service_answer,
)
from tenure.services.ports import Clock, EntitlementStatements, PhoneNumbers
from tenure.services.read_models import By, Lookup, Settings
from tenure.services.unit_of_work import UnitOfWork

CANONICAL = re.compile(r"\+[1-9][0-9]{1,14}")
"""E.164 as stored: `+`, a country code and at most 15 digits in all."""
ATTEMPTS = 3
"""Revocations racing one request: after this many version changes in a row, the last check stands."""


@dataclass
class HotPath:
    """Per-process state of the lookups: the credential cache, the parsed settings, the statement."""

    uow: Callable[[], UnitOfWork]  # for cache misses and `last_used_at`
    lookups: EntitlementStatements
    clock: Clock
    numbers: PhoneNumbers
    cache: credentials.CredentialCache = field(default_factory=credentials.CredentialCache)
    settings: Settings | None = None

    async def number(self, credential: str | None, number: str, capability: Capability) -> NumberDecision:
        """The decision for a number; one already in E.164 form is parsed only if nothing holds it.

        Every stored number is E.164 from `PhoneNumbers.to_e164`, so a canonical-looking number that is found is
        valid by construction; one that is not found is parsed then, and is bad input (422) or
        absent (404) exactly as if it had been parsed first.
        """
        canonical = CANONICAL.fullmatch(number) is not None
        e164 = number if canonical else self.numbers.to_e164(number, field="e164")
        now = self.clock.now()
        found = await self._lookup(credential, now, "number", number=e164)
        if found.holder is None and canonical:
            self.numbers.to_e164(number, field="e164")
        return number_answer(found, e164, capability, now)

    async def account(self, credential: str | None, account_id: str) -> AccountEntitlements:
        found = await self._lookup(credential, self.clock.now(), "account", account_id=account_id)
        return account_answer(found, account_id)

    async def radius_user(self, credential: str | None, user_name: Callable[[], str]) -> ServiceDecision | None:
        """`internet` for a RADIUS User-Name (its internet service, else its Wi-Fi service); None when neither.

        `user_name` reads it from the request only once the credential and its `radius` scope
        are known good, so a request both unauthenticated and malformed is refused as the
        former (401/403 before 400), as FastAPI's dependencies order them.
        """
        now = self.clock.now()
        (await self._credential(credential, now)).caller.require_scope(Scope.RADIUS)
        name = user_name()
        found = await self._lookup(credential, now, "radius", Scope.RADIUS, network_id=name)
        return service_answer(found, name, Capability.INTERNET, now)

    async def _lookup(
        self, credential: str | None, now: datetime, by: By, scope: Scope = Scope.ENTITLEMENTS_READ, **key: str
    ) -> Lookup:
        """The statement's answer for a credential still good as of that statement."""
        for attempt in range(ATTEMPTS):
            entry = await self._credential(credential, now)
            entry.caller.require_scope(scope)
            found = await self.lookups.run(entry.caller, self.settings, by, **key)
            if self.cache.check_version(entry, found.credentials_version) or attempt == ATTEMPTS - 1:
                break
        self.settings = found.settings
        credentials.check_standing(entry, found.settings.policy, found.caller_stage, found.caller_status)
        if entry.key is not None and api_keys.use_due(entry.key, now):
            await to_thread.run_sync(api_keys.record_use, self.uow(), entry.key, now)
        return found

    async def _credential(self, credential: str | None, now: datetime) -> credentials.Credential:
        hashed = credentials.digest(credential) if credential else ""
        entry = self.cache.get(hashed, now) if credential else None
        if entry is None:
            entry = await to_thread.run_sync(self._check, credential, now)
            self.cache.put(hashed, entry)
        return entry

    def _check(self, credential: str | None, now: datetime) -> credentials.Credential:
        return credentials.check_credential(self.uow(), credential=credential, now=now)
