"""Who may do what (api.md "Authentication and users", lifecycle.md §3 "Who may act").

Visibility is a subtree: a user sees its own account and everything below it
(a portal user only its own client). Within what it sees, `admin` changes,
`viewer` and `portal` only read. What is not visible is "not found", never
"forbidden", so no tenant learns another's accounts exist.

Authority over a lifecycle is narrower than visibility: nobody changes the
lifecycle of the account they belong to, and a hold is lifted only from the
account that placed it or from above it. These rules live here and only here;
the services, the API and the console's offered actions all ask this module.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from tenure.domain.errors import Forbidden, ValidationFailed
from tenure.domain.model import Hold, Kind, Stage, Status
from tenure.domain.policy import Capability, Policy, effective

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

    @property
    def label(self) -> str:
        """What the console's key form says a scope is for."""
        return _SCOPE_LABELS[self]


_SCOPE_LABELS: dict[Scope, str] = {
    Scope.ENTITLEMENTS_READ: "Entitlement lookups (softswitches)",
    Scope.RADIUS: "RADIUS (the RADIUS server)",
    Scope.READ: "Read everything this account's viewers may read",
}


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
    # The caller's account's name as the credential check read it (in the same transaction), so a
    # hold can name its placer without reading the account again; None when not read.
    account_name: str | None = field(default=None, compare=False)

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

    @property
    def sees_staff_details(self) -> bool:
        """Staff notes, who placed a hold and the audit trail are for staff, not a client's own users."""
        return self.role is not Role.PORTAL

    def require_staff(self, what: str) -> None:
        if not self.sees_staff_details:
            raise Forbidden(f"{what} is for staff; a client's own users cannot read it")

    def require_admin(self) -> None:
        if self.role is not Role.ADMIN:
            raise Forbidden(f"the {self.role.value} role can read but not change")

    def require_operator_admin(self) -> None:
        self.require_admin()
        if self.account_kind is not Kind.OPERATOR:
            raise Forbidden("only the operator's admins can do this")


def is_own(caller_account_id: str, account_id: str) -> bool:
    """Whether `account_id` is the account the user belongs to: the one rule for "own account"."""
    return caller_account_id == account_id


def ensure_not_own_account(caller: Caller, account_id: str, action: str) -> None:
    """lifecycle.md §3: nobody changes the lifecycle of their own account (403 `forbidden`).

    Activating, suspending, unsuspending, decommissioning, cancelling a
    decommission and converting are decided from above; editing the account's
    own details (name, contact, notes) is not a lifecycle change and stays allowed.
    """
    if is_own(caller.account_id, account_id):
        raise Forbidden(f"nobody may {action} their own account; an account above yours decides that")


@dataclass(frozen=True)
class Authority:
    """What one caller may do to one account's lifecycle (lifecycle.md §3 "Who may act").

    `lineage` is the target account's ancestors and itself, root first. The
    target is the caller's own account when it ends the line. A hold is lifted
    only from the placer's account or an ancestor of it: whoever placed a hold
    could see the held account, so the placer is on the line and its ancestors
    are the prefix up to it. A hold whose placer is unknown or off the line
    counts as the operator's (the root's).
    """

    account_id: str
    lineage: tuple[str, ...]

    @property
    def is_own_account(self) -> bool:
        return bool(self.lineage) and is_own(self.account_id, self.lineage[-1])

    def may_lift(self, hold: Hold) -> bool:
        if self.is_own_account:
            return False
        placer = hold.placed_by_account.id if hold.placed_by_account else None
        upto = self.lineage.index(placer) + 1 if placer in self.lineage else 1
        return self.account_id in self.lineage[:upto]

    def liftable(self, holds: Sequence[Hold]) -> list[Hold]:
        """The holds among `holds` the caller may lift; none of them is 403 naming who placed them."""
        allowed = [hold for hold in holds if self.may_lift(hold)]
        if holds and not allowed:
            raise Forbidden(_placed_above(holds), holds=[_placer(hold) for hold in holds])
        return allowed


def authority_over(caller: Caller, lineage: Sequence[str]) -> Authority:
    """The caller's authority over the account at the end of `lineage` (root first)."""
    return Authority(caller.account_id, tuple(lineage))


def _placer(hold: Hold) -> dict[str, object]:
    ref = hold.placed_by_account
    return {"reason": hold.reason.value, "placed_by_account": {"id": ref.id, "name": ref.name} if ref else None}


def _placer_name(hold: Hold) -> str:
    return hold.placed_by_account.name if hold.placed_by_account else "the operator"


def _placed_above(holds: Sequence[Hold]) -> str:
    parts = [f"the {hold.reason.label} hold was placed by {_placer_name(hold)}" for hold in holds]
    return "; ".join(parts) + "; only the account that placed a hold, or one above it, can lift it"


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
