"""A per-process cache of checked credentials (sign-in tokens and API keys), keyed by their hash.

The hot path (the entitlement lookups) must not spend a statement and a
transaction on the credential every call. An entry remembers who the
credential is and the site's `credentials_version` read *before* the
credential was checked. Every revocation (token, key, deleted user) moves that
version in the same transaction, and every lookup statement reads it: when it
differs from the entry's, the process forgets every entry and checks again —
so a revoked credential is refused by the very next lookup in every process.
What can change without a revocation (a token's expiry, the caller's account
being suspended or decommissioned) is checked on every request: the expiry
here, the account's standing in the lookup statement itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from tenure.adapters.db.api_keys import ApiKey
from tenure.adapters.db.tables import site
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import Caller
from tenure.domain.api_keys import looks_like_key
from tenure.domain.errors import Unauthorized
from tenure.domain.model import Stage, Status
from tenure.domain.policy import Policy
from tenure.services import api_keys, auth

MAX_ENTRIES = 10_000
"""Past this many live credentials in one process the cache starts over (a flood of bad keys cannot grow it)."""
MAX_CREDENTIAL = 512


@dataclass(frozen=True)
class Credential:
    caller: Caller
    version: int  # the credentials version read before the credential was checked
    account_name: str
    expires_at: datetime | None  # tokens expire; keys never do
    key: ApiKey | None  # set for API keys, to record their use
    is_management: bool = False  # a management client's user is never locked out by portal_login


def digest(credential: str) -> str:
    """The cache key: the same SHA-256 the database stores for tokens and keys."""
    return hashlib.sha256(credential.encode()).hexdigest()


class CredentialCache:
    def __init__(self) -> None:
        self._entries: dict[str, Credential] = {}

    def get(self, credential_hash: str, now: datetime) -> Credential | None:
        entry = self._entries.get(credential_hash)
        if entry is not None and entry.expires_at is not None and entry.expires_at <= now:
            del self._entries[credential_hash]
            return None
        return entry

    def put(self, credential_hash: str, entry: Credential) -> None:
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[credential_hash] = entry

    def forget(self, credential_hash: str) -> None:
        self._entries.pop(credential_hash, None)

    def check_version(self, entry: Credential, version: int) -> bool:
        """True when the entry is still good; otherwise every entry is forgotten (a revocation happened)."""
        if entry.version == version:
            return True
        self._entries.clear()
        return False


def check_credential(uow: UnitOfWork, *, credential: str | None, now: datetime) -> Credential:
    """Check a bearer credential against the database (a cache miss): 401, 403 or who it is.

    The version is read first, in its own statement: a revocation committed after it
    moves the version past the entry's, one committed before it is seen by the check.
    """
    if not credential or len(credential) > MAX_CREDENTIAL:
        raise Unauthorized("send `Authorization: Bearer <token or API key>`")
    with uow.reading():
        version = int(uow.connection.execute(select(site.c.credentials_version)).scalar_one())
        if looks_like_key(credential):
            holder = uow.api_keys.holder(api_keys.digest(credential))
            if holder is None or holder.account_stage is Stage.DECOMMISSIONED:
                raise Unauthorized("the API key is unknown or revoked")
            caller = api_keys.key_caller(holder.key, holder.account_kind)
            return Credential(caller, version, "", None, holder.key)
        found = auth.token_holder(uow, token=credential, now=now)
    return Credential(
        found.user.as_caller(),
        version,
        found.account_name,
        found.expires_at,
        None,
        found.user.account_is_management,
    )


def check_standing(entry: Credential, policy: Policy, stage: Stage, status: Status) -> None:
    """The caller's account as the lookup statement just read it: a key stops when its account is
    decommissioned; a token when its account's status no longer grants portal login."""
    if entry.key is not None:
        if stage is Stage.DECOMMISSIONED:
            raise Unauthorized("the API key is unknown or revoked")
        return
    auth.check_standing(
        policy,
        stage,
        status,
        entry.account_name,
        kind=entry.caller.account_kind,
        is_management=entry.is_management,
    )
