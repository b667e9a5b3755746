"""API keys for network equipment (api.md "API keys"): create, list, revoke, and the caller behind a key.

A key is 32 random bytes behind the `tnk_` prefix and is stored only as its
SHA-256: with 256 bits of entropy nobody can guess a key from its hash, so a
slow password hash would only slow every call setup down (docs/decisions.md).
Creating and revoking are events on the owning account's trail; revoking also
moves the credentials version, which every process's credential cache checks.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tenure.adapters.db.api_keys import ApiKey
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain import api_keys as rules
from tenure.domain.access import Caller, Role
from tenure.domain.errors import Forbidden, Unauthorized
from tenure.domain.ids import new_id
from tenure.domain.model import Kind, Stage

KEY_BYTES = 32
USAGE_GRANULARITY = timedelta(minutes=1)
"""`last_used_at` is written at most once a minute per key and process, never once per request."""


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    secret: str  # the `tnk_…` key itself, shown in this answer only


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key() -> str:
    return rules.KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)


def create_key(
    uow: UnitOfWork, *, caller: Caller, name: str, scopes: Iterable[str], account_id: str | None, now: datetime
) -> CreatedKey:
    """Admins only, for their own account (the default) or one below it; recorded on that account's trail."""
    clean_name, chosen = rules.check_name(name), rules.check_scopes(scopes)
    _require_staff(caller)
    secret = generate_key()
    with uow:
        account = uow.accounts.get(account_id or caller.account_id, caller=caller)  # 404 outside the tree
        caller.require_admin()
        key = ApiKey(new_id(), account.id, clean_name, chosen, now, caller.email, None, None)
        uow.api_keys.add(key, key_hash=digest(secret))
        uow.audit.append(rules.key_created(account.id, key.id, key.name, chosen), actor=caller.email, at=now)
        uow.commit()
    return CreatedKey(key, secret)


def create_key_unchecked(
    uow: UnitOfWork, *, name: str, scopes: Iterable[str], account_id: str | None, now: datetime
) -> CreatedKey:
    """`tenure api-key create` (shell access is trust, as for `tenure token`): by default the operator's."""
    clean_name, chosen = rules.check_name(name), rules.check_scopes(scopes)
    secret = generate_key()
    with uow:
        account = uow.accounts.get(account_id or uow.site.operator_id)
        key = ApiKey(new_id(), account.id, clean_name, chosen, now, "cli", None, None)
        uow.api_keys.add(key, key_hash=digest(secret))
        uow.audit.append(rules.key_created(account.id, key.id, key.name, chosen), actor="cli", at=now)
        uow.commit()
    return CreatedKey(key, secret)


def list_keys(uow: UnitOfWork, *, caller: Caller, limit: int, cursor: str | None) -> tuple[list[ApiKey], str | None]:
    _require_staff(caller)
    with uow.reading():
        return uow.api_keys.page(caller, limit=limit, cursor=cursor)


def revoke_key(uow: UnitOfWork, *, caller: Caller, key_id: str, now: datetime) -> None:
    """Revoke a key in the caller's tree; revoking it again changes nothing (a retried DELETE is harmless)."""
    _require_staff(caller)
    with uow:
        key = uow.api_keys.get(key_id, caller=caller)
        caller.require_admin()
        if key.revoked_at is not None:
            return
        uow.api_keys.revoke(key.id, by=caller.email, now=now)
        uow.audit.append(rules.key_revoked(key.account_id, key.id, key.name), actor=caller.email, at=now)
        uow.commit()


def caller_for_key(uow: UnitOfWork, *, key: str, now: datetime) -> Caller:
    """The caller behind a key in force; 401 when unknown, revoked, or its account is decommissioned.

    A suspended account's keys keep working: they are how its network learns of the suspension.
    """
    with uow.reading():
        holder = uow.api_keys.holder(digest(key))
    if holder is None or holder.account_stage is Stage.DECOMMISSIONED:
        raise Unauthorized("the API key is unknown or revoked")
    record_use(UnitOfWork(uow.engine), holder.key, now)
    return key_caller(holder.key, holder.account_kind)


def key_caller(key: ApiKey, account_kind: Kind) -> Caller:
    """A key reads as its account's reader: a viewer of its subtree (a client's own account only)."""
    role = Role.PORTAL if account_kind is Kind.CLIENT else Role.VIEWER
    return Caller(key.id, f"api-key:{key.name}", key.account_id, account_kind, role, key.scopes)


_last_recorded: dict[str, datetime] = {}


def use_due(key: ApiKey, now: datetime) -> bool:
    """Has neither this process nor the row recorded a use of the key within the last minute?"""
    last = _last_recorded.get(key.id) or key.last_used_at
    return last is None or now - last >= USAGE_GRANULARITY


def record_use(uow: UnitOfWork, key: ApiKey, now: datetime) -> None:
    """Write `last_used_at` in `uow` (a fresh one) when it is due: at most once a minute per key and process."""
    if not use_due(key, now):
        return
    _last_recorded[key.id] = now
    with uow:
        uow.api_keys.touch(key.id, now)
        uow.commit()


def _require_staff(caller: Caller) -> None:
    """Keys belong to the operator's and partners' staff; a client's portal users never see them."""
    if caller.account_kind is Kind.CLIENT or not caller.sees_subtree:
        raise Forbidden("API keys belong to the operator's and partners' admins")
