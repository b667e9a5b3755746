"""Request and response bodies: validated at the edge, described in the OpenAPI document."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar, get_type_hints

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from tenure.adapters.db.audit import AuditEntry
from tenure.domain.access import Role
from tenure.domain.model import ActivateMode, ClientType, HoldReason, Kind, Stage, Status
from tenure.domain.text import LINE_PATTERN, NOTE_PATTERN, control_character_problem, has_nul


def _no_control_characters(*, tab_allowed: bool) -> AfterValidator:
    """The domain's rule for free text (domain/text.py), applied at the edge so pydantic names the field."""

    def check(value: str) -> str:
        problem = control_character_problem(value, tab_allowed=tab_allowed)
        if problem:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


# Free text: no control characters (a note may hold a tab). The pattern only documents the rule.
Line = Annotated[str, _no_control_characters(tab_allowed=False), Field(json_schema_extra={"pattern": LINE_PATTERN})]
NoteText = Annotated[str, _no_control_characters(tab_allowed=True), Field(json_schema_extra={"pattern": NOTE_PATTERN})]
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: Any) -> Any:
    """Only `YYYY-MM-DD`: pydantic would otherwise read a number (`-4.4e-271`) as a Unix timestamp."""
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DAY.fullmatch(value)):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


Day = Annotated[date, BeforeValidator(_iso_day)]
Name = Annotated[Line, StringConstraints(min_length=1, max_length=200)]
Notes = Annotated[NoteText, StringConstraints(max_length=10_000)]
BillingRef = Annotated[str, StringConstraints(max_length=32)]
Password = Annotated[str, StringConstraints(min_length=10, max_length=1024)]
T = TypeVar("T")


class Input(BaseModel):
    """Bodies refuse unknown fields, so a typo is an error rather than silently ignored.

    No string anywhere in a body may hold a NUL (PostgreSQL cannot store one,
    and no field has a use for it): refused here, naming the field.
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        where = _nul_path(data)
        if where is not None:
            raise PydanticCustomError(
                "nul_character", "{field} must not contain a NUL character", {"field": where or "body"}
            )
        return data


def _nul_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (or key) holding a NUL, or None."""
    if isinstance(value, str):
        return path if has_nul(value) else None
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        items = [(str(k), v) for k, v in value.items()]
        if any(has_nul(k) for k, _ in items):
            return path
    elif isinstance(value, list):
        items = [(str(i), v) for i, v in enumerate(value)]
    for key, child in items:
        found = _nul_path(child, f"{path}.{key}" if path else key)
        if found is not None:
            return found
    return None


class ContactIn(Input):
    name: Annotated[Line, StringConstraints(max_length=200)] = ""
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
    start_date: Day | None = None
    end_date: Day | None = None
    activate: ActivateMode = ActivateMode.ON_START_DATE
    notes: Notes = ""


class AccountUpdate(Input):
    name: Name | None = None
    billing_ref: BillingRef | None = Field(None, description="empty string: generate a new one")
    main_contact: ContactIn | None = None
    start_date: Day | None = None
    end_date: Day | None = None
    notes: Notes | None = None


class ActivateIn(Input):
    on: Day | None = None


class SuspendIn(Input):
    reason: HoldReason
    note: Notes = ""


class UnsuspendIn(Input):
    reason: HoldReason | None = None


class DecommissionIn(Input):
    on: Day | None = None


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
    """An audit event as the API shows it: `AuditEntry`'s fields but the account's name."""

    __annotations__ = {name: hint for name, hint in get_type_hints(AuditEntry).items() if name != "account_name"}


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
