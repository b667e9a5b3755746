"""Offices and lines (lifecycle.md §5): who may hold them, and what each change records.

A line is what the API and the console call a client's "service": a number,
internet, Wi-Fi, a local network or anything else billed monthly.

Pure rules. Phone numbers arrive here already normalised to E.164 by an
adapter (the `phonenumbers` library is not a domain dependency); uniqueness of
rooms and numbers is the database's job, because only it sees every race.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from tenure.domain.checks import ensure_changeable
from tenure.domain.errors import InvalidTransition, ValidationFailed
from tenure.domain.events import Action, Event, JSONObject
from tenure.domain.model import Account, ClientType, Kind
from tenure.domain.policy import CALL_CAPABILITIES, Capability, Decision, Policy, Subject, decide
from tenure.domain.text import check_line

LABEL_MAX = 200
OFFICE_NAME_MAX = 100
FLOOR_MAX = 50
CAPACITY_MAX = 100_000
PRICE_MAX_CENTS = 99_999_999_999  # 999,999,999.99: far above any monthly price, far below BIGINT
_PRICE = re.compile(r"^[0-9]{1,9}(\.[0-9]{1,2})?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class LineKind(enum.StrEnum):
    PHONE_NUMBER = "phone_number"
    INTERNET = "internet"
    WIFI = "wifi"
    LOCAL_NETWORK = "local_network"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {LineKind.WIFI: "Wi-Fi"}.get(self, self.value.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Office:
    id: str
    name: str
    floor: str | None = None
    capacity: int | None = None


@dataclass
class Line:
    id: str
    account_id: str
    kind: LineKind
    label: str
    monthly_price_cents: int
    start_date: date
    end_date: date | None = None
    network_id: str | None = None  # for internet and Wi-Fi: the RADIUS User-Name

    @property
    def monthly_price(self) -> Decimal:
        return cents_to_money(self.monthly_price_cents)

    def active_on(self, day: date) -> bool:
        return self.end_date is None and self.start_date <= day


def has_control(text: str) -> bool:
    """Control characters (NUL, newlines, escapes) belong in no one-line field or search."""
    return _CONTROL.search(text) is not None


# -- money -----------------------------------------------------------------
def parse_price(text: str) -> int:
    """A monthly price as a decimal string ("25", "25.5", "25.00") -> whole cents; never negative."""
    cleaned = text.strip()
    if not _PRICE.match(cleaned):
        raise ValidationFailed(
            'monthly_price must be a decimal string with at most two places, 0 or more, such as "25.00"',
            field="monthly_price",
        )
    try:
        cents = int((Decimal(cleaned) * 100).to_integral_exact())
    except InvalidOperation as error:  # pragma: no cover - the pattern already refuses these
        raise ValidationFailed("monthly_price is not a number", field="monthly_price") from error
    if cents > PRICE_MAX_CENTS:
        raise ValidationFailed("monthly_price is too large", field="monthly_price")
    return cents


def cents_to_money(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def money_text(amount: Decimal) -> str:
    """Money as the API writes it: a decimal string with two places ("25.00")."""
    return f"{amount.quantize(Decimal('0.01')):f}"


# -- offices ---------------------------------------------------------------
def new_office(office_id: str, name: str, floor: str | None, capacity: int | None) -> Office:
    cleaned = check_line(name, "name").strip()
    if not 1 <= len(cleaned) <= OFFICE_NAME_MAX:
        raise ValidationFailed(f"an office name is 1-{OFFICE_NAME_MAX} characters", field="name")
    floor = (check_line(floor, "floor").strip() or None) if floor is not None else None
    if floor is not None and len(floor) > FLOOR_MAX:
        raise ValidationFailed(f"floor is at most {FLOOR_MAX} characters", field="floor")
    if capacity is not None and not 0 <= capacity <= CAPACITY_MAX:
        raise ValidationFailed(f"capacity is 0-{CAPACITY_MAX}", field="capacity")
    return Office(office_id, cleaned, floor, capacity)


class Keep(enum.Enum):
    """A field an edit leaves as it is (None cannot say that: it clears an optional field)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class OfficeChanges:
    """An edit of a room: fields left at KEEP are unchanged; floor or capacity None clears it."""

    name: str | Keep = KEEP
    floor: str | Keep | None = KEEP
    capacity: int | Keep | None = KEEP


def edit_office(office: Office, changes: OfficeChanges) -> Office:
    """The room after the edit, checked by the same rules as a new one."""
    return new_office(
        office.id,
        office.name if isinstance(changes.name, Keep) else changes.name,
        office.floor if isinstance(changes.floor, Keep) else changes.floor,
        office.capacity if isinstance(changes.capacity, Keep) else changes.capacity,
    )


def check_can_hold_office(account: Account) -> None:
    """Only an undecommissioned residential client holds rooms (decommissioned is checked first)."""
    ensure_changeable(account)
    if account.kind is not Kind.CLIENT:
        raise InvalidTransition(f"{account.name} is a {account.kind.value}; only clients hold offices")
    if account.client_type is ClientType.VIRTUAL:
        raise InvalidTransition(f"{account.name} is a virtual client; virtual clients hold no offices")


def office_assigned(account: Account, office: Office) -> Event:
    return Event(account.id, Action.OFFICE_ASSIGNED, {"office": None}, {"office": office.name}, reason=office.id)


def office_released(account: Account, office: Office) -> Event:
    return Event(account.id, Action.OFFICE_RELEASED, {"office": office.name}, {"office": None}, reason=office.id)


# -- services --------------------------------------------------------------
def check_can_take_line(account: Account) -> None:
    """Services belong to clients that are not decommissioned (any other stage may prepare them)."""
    ensure_changeable(account)
    if account.kind is not Kind.CLIENT:
        raise InvalidTransition(f"{account.name} is a {account.kind.value}; services belong to clients")


def clean_label(label: str) -> str:
    cleaned = check_line(label, "label").strip()
    if not 1 <= len(cleaned) <= LABEL_MAX:
        raise ValidationFailed(f"label must be 1-{LABEL_MAX} characters", field="label")
    return cleaned


def line_added(service: Line) -> Event:
    return Event(service.account_id, Action.SERVICE_ADDED, {}, _snapshot(service), reason=service.id)


def end_line(service: Line, *, today: date) -> Event | None:
    """Removal takes effect at once and today is still billed; removing twice changes nothing."""
    if service.end_date is not None:
        return None
    before = _snapshot(service)
    service.end_date = today
    return Event(service.account_id, Action.SERVICE_REMOVED, before, _snapshot(service), reason=service.id)


def set_network_id(service: Line, network_id: str | None) -> Event | None:
    """Setting or changing a service's network id is an `updated` event on its client; the same id is no change."""
    if service.end_date is not None:
        raise InvalidTransition(
            f"the service ended on {service.end_date.isoformat()}; its network id is kept as it was"
        )
    if network_id == service.network_id:
        return None
    before = {"service_id": service.id, "label": service.label, "network_id": service.network_id}
    service.network_id = network_id
    after = {"service_id": service.id, "label": service.label, "network_id": network_id}
    return Event(service.account_id, Action.UPDATED, dict(before), dict(after), reason=service.id)


def _snapshot(service: Line) -> JSONObject:
    snapshot: JSONObject = {
        "service_id": service.id,
        "kind": service.kind.value,
        "label": service.label,
        "monthly_price": money_text(service.monthly_price),
        "start_date": service.start_date.isoformat(),
        "end_date": service.end_date.isoformat() if service.end_date else None,
    }
    if service.network_id is not None:
        snapshot["network_id"] = service.network_id
    return snapshot


def decide_for_number(
    policy: Policy, subject: Subject, capability: Capability, *, service_start: date, today: date
) -> Decision:
    """lifecycle.md §4: a call capability needs the number to be in service AND the status to allow it."""
    if capability in CALL_CAPABILITIES and service_start > today:
        return Decision(False, f"not yet in service: the number starts on {service_start.isoformat()}")
    return decide(policy, subject, capability)


def decide_for_service(
    policy: Policy, subject: Subject, capability: Capability, *, service_start: date, today: date
) -> Decision:
    """A service found by its network id serves nothing before its start date, whatever the status allows."""
    if service_start > today:
        return Decision(False, f"not yet in service: the service starts on {service_start.isoformat()}")
    return decide(policy, subject, capability)
