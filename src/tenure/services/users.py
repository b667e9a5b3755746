"""Managing an account's users from the console: add, reset a password, set-password links, own password.

A set-password link is a signed token (the site's secret key, its own salt)
naming the user, a fingerprint of the user's current password hash and an
expiry. Setting a password through it replaces that exact hash in one
conditional UPDATE, so the link works once: afterwards (or after any other
password change) the fingerprint no longer matches. Every password change
ends the user's console sessions and revokes its API tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from tenure.adapters.db.uow import UnitOfWork
from tenure.adapters.db.users import User
from tenure.adapters.passwords import hash_password, verify_password
from tenure.domain.access import Caller, Role, check_password
from tenure.domain.errors import RateLimited, ValidationFailed
from tenure.services.auth import THROTTLE_LIMIT, THROTTLE_WINDOW, create_user

PASSWORD_LINK_TTL = timedelta(hours=48)
_LINK_SALT = "tenure.set-password"
LINK_REFUSED = "this set-password link has expired or has already been used; ask an admin for a new one"


@dataclass(frozen=True)
class AddedUser:
    user: User
    link_token: str | None  # shown once, when no initial password was given


def add_user(
    uow: UnitOfWork,
    *,
    caller: Caller,
    account_id: str,
    email: str,
    role: Role,
    password: str | None,
    secret_key: str,
    now: datetime,
) -> AddedUser:
    """A user of an account the caller administers: with an initial password, or a set-password link."""
    first = password if password is not None else secrets.token_urlsafe(32)  # a link's user cannot sign in first
    user = create_user(uow, caller=caller, email=email, password=first, account_id=account_id, role=role, now=now)
    link = None if password is not None else _sign(user, secret_key, now)
    return AddedUser(user, link)


def reset_password(uow: UnitOfWork, *, caller: Caller, user_id: str, password: str, now: datetime) -> User:
    """An admin sets another user's password (within the admin's tree)."""
    check_password(password)
    password_hash = hash_password(password)
    with uow:
        user = uow.users.get(user_id, caller=caller)
        caller.require_admin()
        _replace(uow, user, password_hash, now)
        uow.commit()
    return user


def password_link(uow: UnitOfWork, *, caller: Caller, user_id: str, secret_key: str, now: datetime) -> str:
    """A set-password link for a user the admin may manage; the password stays until the link is used."""
    with uow.reading():
        user = uow.users.get(user_id, caller=caller)
        caller.require_admin()
    return _sign(user, secret_key, now)


def link_holder(uow: UnitOfWork, *, token: str, secret_key: str, now: datetime) -> User:
    """The user a link is for, while it is unused and unexpired (else `validation-error` on `token`)."""
    user_id, fingerprint = _unsign(token, secret_key, now)
    with uow.reading():
        user = uow.users.by_id(user_id)
    if user is None or _fingerprint(user.password_hash) != fingerprint:
        raise ValidationFailed(LINK_REFUSED, field="token")
    return user


def set_password_with_link(uow: UnitOfWork, *, token: str, password: str, secret_key: str, now: datetime) -> User:
    """Use a set-password link: once only, even when two uses race."""
    user_id, fingerprint = _unsign(token, secret_key, now)
    check_password(password)
    password_hash = hash_password(password)
    with uow:
        user = uow.users.by_id(user_id)
        if user is None or _fingerprint(user.password_hash) != fingerprint:
            raise ValidationFailed(LINK_REFUSED, field="token")
        if not uow.users.replace_password_hash(user.id, old_hash=user.password_hash, new_hash=password_hash):
            raise ValidationFailed(LINK_REFUSED, field="token")
        uow.users.revoke_tokens_of(user.id, now=now)
        uow.commit()
    return user


def change_own_password(uow: UnitOfWork, *, caller: Caller, current: str, new: str, now: datetime) -> User:
    """Any user, with the current password (shared sign-in throttle); returns the user with its new generation.

    The change ends every session of the user: the console signs the current
    one in again with the returned generation, so only the others end.
    """
    check_password(new)
    password_hash = hash_password(new)
    with uow:
        if uow.users.failures_since(caller.email, now - THROTTLE_WINDOW) >= THROTTLE_LIMIT:
            raise RateLimited("too many wrong passwords; wait a minute", retry_after=60)
        user = uow.users.get(caller.user_id)
        if not verify_password(user.password_hash, current):
            uow.users.record_failure(caller.email, now=now)
            uow.commit()
            raise ValidationFailed("the current password is not right", field="current_password")
        _replace(uow, user, password_hash, now)
        changed = uow.users.get(user.id)
        uow.commit()
    return changed


def _replace(uow: UnitOfWork, user: User, password_hash: str, now: datetime) -> None:
    uow.users.set_password_hash(user.id, password_hash)
    uow.users.end_sessions(user.id)
    uow.users.revoke_tokens_of(user.id, now=now)


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


def _sign(user: User, secret_key: str, now: datetime) -> str:
    expires = int((now + PASSWORD_LINK_TTL).timestamp())
    payload = {"u": user.id, "h": _fingerprint(user.password_hash), "e": expires}
    return str(URLSafeSerializer(secret_key, salt=_LINK_SALT).dumps(payload))


def _unsign(token: str, secret_key: str, now: datetime) -> tuple[str, str]:
    """The user id and hash fingerprint of a genuine, unexpired link; time comes from the caller's clock."""
    try:
        payload = URLSafeSerializer(secret_key, salt=_LINK_SALT).loads(token)
    except BadSignature:
        raise ValidationFailed(LINK_REFUSED, field="token") from None
    valid = isinstance(payload, dict) and isinstance(payload.get("e"), int)
    if not valid or payload["e"] < now.timestamp() or not all(isinstance(payload.get(k), str) for k in "uh"):
        raise ValidationFailed(LINK_REFUSED, field="token")
    return payload["u"], payload["h"]


def get_user(uow: UnitOfWork, *, caller: Caller, user_id: str) -> User:
    """A user the caller may see (404 otherwise), for the forms that act on it."""
    with uow.reading():
        return uow.users.get(user_id, caller=caller)
