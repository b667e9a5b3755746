"""Request and response bodies: validated at the edge, described in the OpenAPI document."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from tenure.domain.access import Role
from tenure.domain.model import ActivateMode, ClientType, HoldReason, Kind, Stage, Status

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Notes = Annotated[str, StringConstraints(max_length=10_000)]
BillingRef = Annotated[str, StringConstraints(max_length=32)]
Password = Annotated[str, StringConstraints(min_length=10, max_length=1024)]
T = TypeVar("T")


class Input(BaseModel):
    """Bodies refuse unknown fields, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ContactIn(Input):
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    email: EmailStr


class Contact(BaseModel):
    name: str
    email: str


class AccountCreate(Input):
    kind: Literal[Kind.RESELLER, Kind.CHANNEL, Kind.CLIENT]
    parent_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    name: Name
    billing_ref: BillingRef | None = None
    main_contact: ContactIn
    client_type: ClientType | None = None
    start_date: date | None = None
    end_date: date | None = None
    activate: ActivateMode = ActivateMode.ON_START_DATE
    notes: Notes = ""


class AccountUpdate(Input):
    name: Name | None = None
    billing_ref: BillingRef | None = Field(None, description="empty string: generate a new one")
    main_contact: ContactIn | None = None
    start_date: date | None = None
    end_date: date | None = None
    notes: Notes | None = None


class ActivateIn(Input):
    on: date | None = None


class SuspendIn(Input):
    reason: HoldReason
    note: Notes = ""


class UnsuspendIn(Input):
    reason: HoldReason | None = None


class DecommissionIn(Input):
    on: date | None = None


class ConvertIn(Input):
    to: ClientType


class OfficeRef(BaseModel):
    id: str
    name: str


class AccountRefOut(BaseModel):
    id: str
    name: str


class HoldOut(BaseModel):
    """A hold in force. A client's own (portal) users get only `id`, `reason` and `placed_at`."""

    id: str
    reason: HoldReason
    placed_at: datetime
    note: str | None = Field(default=None, description="staff only")
    placed_by: str | None = Field(default=None, description="the placer's email; staff only")
    placed_by_account: AccountRefOut | None = Field(
        default=None, description="the account that placed it: only it or an account above it may lift it; staff only"
    )


class AccountOut(BaseModel):
    id: str
    kind: Kind
    parent_id: str | None
    name: str
    status: Status
    stage: Stage
    is_management: bool
    billing_ref: str
    main_contact: Contact
    decommission_on: date | None
    decommissioned_on: date | None
    holds: list[HoldOut]
    suspended_by: AccountRefOut | None
    notes: str
    created_at: datetime
    version: int
    # Client-only fields: absent on partners.
    client_type: ClientType | None = None
    offices: list[OfficeRef] | None = None
    start_date: date | None = None
    end_date: date | None = None
    contract_expired: bool | None = None


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class EventOut(BaseModel):
    id: str
    account_id: str
    at: datetime
    actor: str
    action: str
    reason: str | None
    before: dict[str, Any]
    after: dict[str, Any]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class UserCreate(Input):
    email: EmailStr
    password: Password
    account_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    role: Role


class UserOut(BaseModel):
    id: str
    email: str
    account_id: str
    role: Role


class MeUser(BaseModel):
    id: str
    email: str


class MeAccount(BaseModel):
    id: str
    name: str
    kind: Kind


class MeOut(BaseModel):
    user: MeUser
    account: MeAccount
    role: Role


class Problem(BaseModel):
    """RFC 9457 problem details; `code` is the stable slug to match on. Some answers add fields
    (`errors` for bad input, `field`, `version` on a conflict, `retry_after` when rate-limited)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
