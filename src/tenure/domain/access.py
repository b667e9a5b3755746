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
from tenure.domain.model import Kind

PASSWORD_MIN = 10


class Role(enum.StrEnum):
    ADMIN = "admin"
    VIEWER = "viewer"
    PORTAL = "portal"


SYSTEM_ACTOR = "system"


class Scope(enum.StrEnum):
    """What an API key may do (api.md "API keys"); a user is governed by its role instead."""

    ENTITLEMENTS_READ = "entitlements:read"
    RADIUS = "radius"
    READ = "read"


SATISFIED_BY: dict[Scope, frozenset[Scope]] = {
    # The entitlement endpoints are GETs a viewer may make, so `read` reaches them too.
    Scope.ENTITLEMENTS_READ: frozenset({Scope.ENTITLEMENTS_READ, Scope.READ}),
    # The RADIUS endpoints answer only a RADIUS server's key.
    Scope.RADIUS: frozenset({Scope.RADIUS}),
    Scope.READ: frozenset({Scope.READ}),
}
"""For each scope a route requires, the key scopes that grant it."""


@dataclass(frozen=True)
class Caller:
    """The signed-in user (or the API key) as every use case sees it.

    `scopes` is None for a user; for an API key it is the key's scopes, and the
    key acts as a reader of its account (role `viewer`, or `portal` on a client).
    """

    user_id: str
    email: str
    account_id: str
    account_kind: Kind
    role: Role
    scopes: frozenset[Scope] | None = None

    @property
    def is_api_key(self) -> bool:
        return self.scopes is not None

    def require_scope(self, scope: Scope) -> None:
        """A key needs a scope that grants `scope` (else 403); a user passes, its role decides."""
        if self.scopes is not None and not self.scopes & SATISFIED_BY[scope]:
            granted = ", ".join(sorted(self.scopes))
            raise Forbidden(f"this API key's scopes ({granted}) do not allow this request; it needs `{scope.value}`")

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


def check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise ValidationFailed(f"passwords are at least {PASSWORD_MIN} characters", field="password")
