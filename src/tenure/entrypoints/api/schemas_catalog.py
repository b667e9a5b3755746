"""Bodies for offices, services, entitlements, billing and the policy (api.md)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt, StringConstraints

from tenure.domain.catalog import CAPACITY_MAX, FLOOR_MAX, LABEL_MAX, OFFICE_NAME_MAX, LineKind
from tenure.domain.model import Status
from tenure.domain.radius import NETWORK_ID_MAX
from tenure.entrypoints.api.schemas import AccountRefOut, Day, Input, Line

# Money in: a decimal string, 0 or more, at most two places ("25.00"); never a float.
Money = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{1,9}(\.[0-9]{1,2})?$"),
    Field(description='a decimal string, 0 or more, at most two places: "25.00"', examples=["25.00"]),
]
MoneyOut = Annotated[str, Field(description='a decimal string with two places: "25.00"', examples=["25.00"])]


NetworkId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=NETWORK_ID_MAX),
    Field(
        description="1-253 printable ASCII characters; for internet and wifi the RADIUS User-Name",
        examples=["acme-ppp1"],
    ),
]


class OfficeCreate(Input):
    name: Annotated[Line, StringConstraints(min_length=1, max_length=OFFICE_NAME_MAX)]
    floor: Annotated[Line, StringConstraints(max_length=FLOOR_MAX)] | None = None
    capacity: Annotated[StrictInt, Field(ge=0, le=CAPACITY_MAX)] | None = None  # `true` is not a number


class OfficeUpdate(Input):
    """Only the fields present change; `floor` or `capacity` null clears it."""

    name: Annotated[Line, StringConstraints(min_length=1, max_length=OFFICE_NAME_MAX)] | None = Field(
        None, description="may not be null when present"
    )
    floor: Annotated[Line, StringConstraints(max_length=FLOOR_MAX)] | None = None
    capacity: Annotated[StrictInt, Field(ge=0, le=CAPACITY_MAX)] | None = None


class OfficeOut(BaseModel):
    id: str
    name: str
    floor: str | None
    capacity: int | None
    free: bool | None = Field(None, description="false while a client holds it (in lists)")
    held_by: AccountRefOut | None = Field(None, description="the client holding it, when visible to the caller")


class ServiceCreate(Input):
    kind: LineKind
    label: Annotated[Line, StringConstraints(min_length=1, max_length=LABEL_MAX)] = Field(
        description="for phone_number the number in international form (+44 20 7946 0000), stored as E.164"
    )
    monthly_price: Money
    start_date: Day | None = Field(None, description="default: today (operator time zone)")
    network_id: NetworkId | None = None


class ServiceUpdate(Input):
    network_id: NetworkId | None = Field(description="the new network id; null clears it")


class ServiceOut(BaseModel):
    id: str
    account_id: str
    kind: LineKind
    label: str
    monthly_price: MoneyOut
    start_date: date
    end_date: date | None
    network_id: str | None


class DecisionOut(BaseModel):
    allowed: bool
    because: str


class EntitlementsOut(BaseModel):
    account_id: str
    status: Status
    billed: bool
    capabilities: dict[str, DecisionOut]


class NumberDecisionOut(BaseModel):
    number: str
    account_id: str
    capability: str
    allowed: bool
    because: str


class ServiceDecisionOut(BaseModel):
    kind: LineKind
    network_id: str
    service_id: str
    account_id: str
    capability: str
    allowed: bool
    because: str


class ChargeLineOut(BaseModel):
    service_id: str
    service: LineKind
    label: str
    month: Annotated[str, Field(description="YYYY-MM")]
    days: int
    amount: MoneyOut


class ChargesOut(BaseModel):
    account_id: str
    lines: list[ChargeLineOut]
    total: MoneyOut


Matrix = dict[str, dict[str, bool]]


class PolicyIn(Input):
    """Exactly one of `preset` and `matrix`."""

    preset: Literal["connect", "metis"] | None = None
    matrix: Matrix | None = Field(
        None,
        description="{capability: {status: allowed}} for every capability and status, plus an optional `billed` row",
    )


class PolicyOut(BaseModel):
    name: str
    custom: bool
    matrix: Matrix
