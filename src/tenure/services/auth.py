"""Signing in, API tokens, and users (api.md "Authentication and users")."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from tenure.adapters.db.listing import decode_cursor, encode_cursor
from tenure.adapters.db.uow import UnitOfWork
from tenure.adapters.db.users import TokenHolder, User
from tenure.adapters.passwords import hash_password, verify_password
from tenure.domain.access import Caller, Role, check_password, check_role_for_account, sign_in_refusal
from tenure.domain.errors import LastAdmin, LoginSuspended, NotFound, RateLimited, Unauthorized
from tenure.domain.ids import new_id
from tenure.domain.model import Kind, Stage, Status
from tenure.domain.policy import Policy

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
    """A client's or partner's user cannot sign in while the policy denies its account portal login."""
    account = uow.accounts.get(user.account_id)
    refusal = sign_in_refusal(
        uow.site.policy,
        name=account.name,
        kind=account.kind,
        is_management=account.is_management,
        stage=account.stage,
        status=account.status,
    )
    if refusal:
        raise LoginSuspended(refusal)


def sign_in(uow: UnitOfWork, *, email: str, password: str, now: datetime) -> User:
    """Check credentials with the shared throttle: ten failures a minute per email, then 429.

    An unknown email is verified against a dummy hash, so it costs the same
    slow hash as a wrong password and timing does not tell which emails exist.
    """
    with uow:
        if uow.users.failures_since(email, now - THROTTLE_WINDOW) >= THROTTLE_LIMIT:
            raise RateLimited("too many failed sign-ins for this email; wait a minute", retry_after=60)
        user = uow.users.by_email(email)
        if not verify_password(user.password_hash if user else None, password) or user is None:
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
    return replace(found.user.as_caller(), account_name=found.account_name), found.token_id


def token_holder(uow: UnitOfWork, *, token: str, now: datetime) -> TokenHolder:
    """Inside an open unit of work: the live token's holder, refused (401/403) as `caller_for_token` says."""
    found = uow.users.holder_of_token(_digest(token), now=now)
    if found is None:
        raise Unauthorized("the token is missing, expired or revoked")
    check_standing(
        uow.site.policy,
        found.stage,
        found.status,
        found.account_name,
        kind=found.user.account_kind,
        is_management=found.user.account_is_management,
    )
    return found


def check_standing(
    policy: Policy, stage: Stage, status: Status, account_name: str, *, kind: Kind, is_management: bool
) -> None:
    """A user signs in, and its tokens work, only while `sign_in_refusal` has nothing to say."""
    refusal = sign_in_refusal(
        policy, name=account_name, kind=kind, is_management=is_management, stage=stage, status=status
    )
    if refusal:
        raise LoginSuspended(refusal)


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
    """Remove a user with its tokens (its console sessions end with the row); never the operator's last admin."""
    with uow:
        user = uow.users.get(user_id, caller=caller)
        caller.require_admin()
        if user.account_kind is Kind.OPERATOR and user.role is Role.ADMIN:
            admins = uow.users.admins_of(user.account_id, lock=True)
            if admins == (user.id,):
                raise LastAdmin("this is the operator's last admin; add another admin first")
        uow.users.delete(user.id)
        uow.commit()


def end_sessions(uow: UnitOfWork, *, user_id: str) -> None:
    """Console sign-out: every session cookie of this user stops working on the server."""
    with uow:
        uow.users.end_sessions(user_id)
        uow.commit()


def set_password(uow: UnitOfWork, *, email: str, password: str, now: datetime) -> User:
    """A new password ends the user's console sessions and revokes its API tokens."""
    check_password(password)
    password_hash = hash_password(password)
    with uow:
        user = uow.users.by_email(email)
        if user is None:
            raise NotFound(f"no user with email {email}")
        uow.users.set_password_hash(user.id, password_hash)
        uow.users.end_sessions(user.id)
        uow.users.revoke_tokens_of(user.id, now=now)
        uow.commit()
    return user


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
