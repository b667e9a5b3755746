"""Domain errors: every refused move names the rule it broke by a stable code.

The API turns `code` into a problem+json answer, the console into a message,
so the code is part of the public contract (api.md, "Conventions").
"""

from __future__ import annotations


class DomainError(Exception):
    """A change the rules refuse. `code` is the stable slug clients match on."""

    code = "invalid-transition"
    title = "The rules refuse this change"
    field: str | None = None
    """The input field the refusal is about when it is always the same one (forms mark it); else `extra["field"]`."""

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidTransition(DomainError):
    code = "invalid-transition"
    title = "This change is not allowed from the current state"


class AccountDecommissioned(DomainError):
    code = "account-decommissioned"
    title = "The account is decommissioned"


class AlreadySuspended(DomainError):
    code = "already-suspended"
    title = "The account already holds a hold with this reason"


class NotSuspended(DomainError):
    code = "not-suspended"
    title = "The account has no such hold"


class InheritedSuspension(DomainError):
    code = "inherited-suspension"
    title = "The account is suspended only through an ancestor"


class HasActiveChildren(DomainError):
    code = "has-active-children"
    title = "The partner still has undecommissioned children"


class BillingRefTaken(DomainError):
    code = "billing-ref-taken"
    title = "The billing reference is already in use"
    field = "billing_ref"


class OfficeTaken(DomainError):
    code = "office-taken"
    title = "The office is held by another client"


class NumberTaken(DomainError):
    code = "number-taken"
    title = "The number is held by another client"


class NetworkIdTaken(DomainError):
    code = "network-id-taken"
    title = "The network id is held by another service of this kind"


class NasTaken(DomainError):
    code = "nas-taken"
    title = "A NAS with this name or address is already registered"


class ValidationFailed(DomainError):
    """Input that is well-formed but breaks a domain rule (dates out of order)."""

    code = "validation-error"
    title = "The request is not valid"


class NotFound(DomainError):
    """Absent, or not visible to the caller: the two are never told apart."""

    code = "not-found"
    title = "Not found"


class Forbidden(DomainError):
    code = "forbidden"
    title = "Not allowed"


class Unauthorized(DomainError):
    code = "unauthorized"
    title = "Authentication required"


class LoginSuspended(DomainError):
    code = "login-suspended"
    title = "Sign-in is suspended for this account"


class LastAdmin(DomainError):
    code = "last-admin"
    title = "The operator's last admin cannot be removed"


class RateLimited(DomainError):
    code = "rate-limited"
    title = "Too many attempts"


class VersionConflict(DomainError):
    code = "version-conflict"
    title = "The account has changed since it was read"


class IdempotencyKeyReused(DomainError):
    code = "idempotency-key-reused"
    title = "The idempotency key was used with a different request"
