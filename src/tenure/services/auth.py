"""Signing in, API tokens, and users (api.md "Authentication and users")."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tenure.adapters.db.listing import decode_cursor, encode_cursor
from tenure.adapters.db.uow import UnitOfWork
from tenure.adapters.db.users import TokenHolder, User
from tenure.adapters.passwords import hash_password, verify_password
from tenure.domain.access import Caller, Role, check_password, check_role_for_account
from tenure.domain.errors import LoginSuspended, RateLimited, Unauthorized
from tenure.domain.ids import new_id
from tenure.domain.model import Stage, Status
from tenure.domain.policy import Capability, Policy, effective

TOKEN_TTL = timedelta(hours=12)
THROTTLE_WINDOW = timedelta(minutes=1)
THROTTLE_LIMIT = 10


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int
    user: User


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_login_allowed(uow: UnitOfWork, user: User) -> None:
    """A decommissioned account, or a suspended one whose policy denies portal login, cannot sign in."""
    account = uow.accounts.get(user.account_id)
    if Capability.PORTAL_LOGIN not in effective(uow.site.policy, account.stage, account.status):
        raise LoginSuspended(f"sign-in is suspended: {account.name} is {account.status.value}")


def sign_in(uow: UnitOfWork, *, email: str, password: str, now: datetime) -> User:
    """Check credentials with the shared throttle: ten failures a minute per email, then 429."""
    with uow:
        if uow.users.failures_since(email, now - THROTTLE_WINDOW) >= THROTTLE_LIMIT:
            raise RateLimited("too many failed sign-ins for this email; wait a minute", retry_after=60)
        user = uow.users.by_email(email)
        if user is None or not verify_password(user.password_hash, password):
            uow.users.record_failure(email, now=now)
            uow.users.forget_failures_before(now - THROTTLE_WINDOW * 10)
            uow.commit()
            raise Unauthorized("wrong email or password")
        check_login_allowed(uow, user)
    return user


def issue_token(uow: UnitOfWork, *, email: str, password: str, now: datetime) -> IssuedToken:
    user = sign_in(uow, email=email, password=password, now=now)
    return new_token(uow, user=user, now=now)


def new_token(uow: UnitOfWork, *, user: User, now: datetime) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    with uow:
        uow.users.add_token(token_id=new_id(), user_id=user.id, token_hash=_digest(token), now=now, ttl=TOKEN_TTL)
        uow.commit()
    return IssuedToken(token, int(TOKEN_TTL.total_seconds()), user)


def caller_for_token(uow: UnitOfWork, *, token: str, now: datetime) -> tuple[Caller, str]:
    """The caller behind a bearer token, and the token's id; suspended sign-in stops tokens too."""
    with uow.reading():  # two statements (token with status, settings): this runs on every request
        found = token_holder(uow, token=token, now=now)
    return found.user.as_caller(), found.token_id


def token_holder(uow: UnitOfWork, *, token: str, now: datetime) -> TokenHolder:
    """Inside an open unit of work: the live token's holder, refused (401/403) as `caller_for_token` says."""
    found = uow.users.holder_of_token(_digest(token), now=now)
    if found is None:
        raise Unauthorized("the token is missing, expired or revoked")
    check_standing(uow.site.policy, found.stage, found.status, found.account_name)
    return found


def check_standing(policy: Policy, stage: Stage, status: Status, account_name: str) -> None:
    """A user signs in, and its tokens work, only while its account's status grants portal login."""
    if Capability.PORTAL_LOGIN not in effective(policy, stage, status):
        raise LoginSuspended(f"sign-in is suspended: {account_name} is {status.value}")


def revoke_token(uow: UnitOfWork, *, token_id: str, now: datetime) -> None:
    with uow:
        uow.users.revoke_token(token_id, now=now)
        uow.commit()


def create_user(
    uow: UnitOfWork, *, caller: Caller, email: str, password: str, account_id: str, role: Role, now: datetime
) -> User:
    check_password(password)
    password_hash = hash_password(password)
    with uow:
        account = uow.accounts.get(account_id, caller=caller)
        caller.require_admin()
        check_role_for_account(role, account.kind)
        user_id = new_id()
        uow.users.add(
            user_id=user_id, email=email, password_hash=password_hash, account_id=account.id, role=role, now=now
        )
        user = uow.users.get(user_id)
        uow.commit()
    return user


def create_user_unchecked(
    uow: UnitOfWork, *, email: str, password: str, account_id: str, role: Role, now: datetime
) -> str:
    """For `tenure init` and `tenure demo`, inside an open unit of work."""
    check_password(password)
    user_id = new_id()
    uow.users.add(
        user_id=user_id, email=email, password_hash=hash_password(password), account_id=account_id, role=role, now=now
    )
    return user_id


def delete_user(uow: UnitOfWork, *, caller: Caller, user_id: str) -> None:
    with uow:
        user = uow.users.get(user_id, caller=caller)
        caller.require_admin()
        uow.users.delete(user.id)
        uow.commit()


def list_users(
    uow: UnitOfWork, *, caller: Caller, account_id: str | None, limit: int, cursor: str | None
) -> tuple[list[User], str | None]:
    """Users the caller may see, by id; the cursor is opaque, like every other list's."""
    after = str(decode_cursor(cursor, 1)[0]) if cursor else None
    with uow.reading():
        users = uow.users.list(caller, account_id=account_id, limit=limit, after=after)
    if len(users) > limit:
        return users[:limit], encode_cursor([users[limit - 1].id])
    return users, None


def token_for_email(uow: UnitOfWork, *, email: str, now: datetime) -> str:
    """`tenure token --email E`: a token for scripts, without the password (shell access is trust)."""
    with uow:
        user = uow.users.by_email(email)
        if user is None:
            raise Unauthorized(f"no user with email {email}")
    return new_token(uow, user=user, now=now).token
