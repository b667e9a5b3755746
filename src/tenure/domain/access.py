"""Who may do what (api.md "Authentication and users").

Visibility is a subtree: a user sees its own account and everything below it
(a portal user only its own client). Within what it sees, `admin` changes,
`viewer` and `portal` only read. What is not visible is "not found", never
"forbidden", so no tenant learns another's accounts exist.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tenure.domain.errors import Forbidden, ValidationFailed
from tenure.domain.model import Kind, Stage, Status
from tenure.domain.policy import Capability, Policy, effective

PASSWORD_MIN = 10


class Role(enum.StrEnum):
    ADMIN = "admin"
    VIEWER = "viewer"
    PORTAL = "portal"


SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class Caller:
    """The signed-in user as every use case sees it."""

    user_id: str
    email: str
    account_id: str
    account_kind: Kind
    role: Role

    @property
    def sees_subtree(self) -> bool:
        return self.role is not Role.PORTAL

    def require_admin(self) -> None:
        if self.role is not Role.ADMIN:
            raise Forbidden(f"the {self.role.value} role can read but not change")

    def require_operator_admin(self) -> None:
        self.require_admin()
        if self.account_kind is not Kind.OPERATOR:
            raise Forbidden("only the operator's admins can do this")


def check_role_for_account(role: Role, kind: Kind) -> None:
    """Portal users belong to clients; admins and viewers to the operator or a partner."""
    if role is Role.PORTAL and kind is not Kind.CLIENT:
        raise ValidationFailed("portal users belong to a client account", field="role")
    if role is not Role.PORTAL and kind is Kind.CLIENT:
        raise ValidationFailed("a client's users have the portal role", field="role")


def roles_for_account(kind: Kind) -> tuple[Role, ...]:
    """The roles a new user of an account of this kind may have (the rule above, for a form's choices)."""
    fitting = []
    for role in Role:
        try:
            check_role_for_account(role, kind)
        except ValidationFailed:
            continue
        fitting.append(role)
    return tuple(fitting)


def check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise ValidationFailed(f"passwords are at least {PASSWORD_MIN} characters", field="password")


def sign_in_refusal(
    policy: Policy, *, name: str, kind: Kind, is_management: bool, stage: Stage, status: Status
) -> str | None:
    """Why the users of this account may not sign in now, or None when they may.

    The policy's `portal_login` row governs the users of clients and partners
    only. The operator's own users and the management client's are never
    locked out by it: a custom matrix must not be able to shut out the very
    people who would put it right.
    """
    if kind is Kind.OPERATOR or is_management:
        return None
    if Capability.PORTAL_LOGIN in effective(policy, stage, status):
        return None
    return f"sign-in is suspended: {name} is {status.value}"
