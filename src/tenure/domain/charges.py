"""Charges (lifecycle.md §5): daily proration per calendar month, rounded half-up to cents per line.

A day is billable for a service when all of these hold:
- the service was on the account that day (`start_date` through `end_date`, both included);
- the day is on or after the account's own `start_date`;
- the account has been activated (a `new` or `scheduled` account is never billed);
- the account was not yet decommissioned (its decommissioning day is the last billed day).

Suspension does not pause charges, so it plays no part here at all.

Money is exact: prices are whole cents and a line is `round_half_up(cents * days / days in month)`
in integer arithmetic, so no float and no Decimal context can ever shift a cent.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

CENT = Decimal("0.01")


@dataclass(frozen=True)
class BillingAccount:
    """What billing needs to know about the client a service belongs to."""

    start_date: date | None
    activated: bool
    decommissioned_on: date | None = None


@dataclass(frozen=True)
class LineTerm:
    """A service as billing sees it: its price and the days it was on the account."""

    service_id: str
    kind: str
    label: str
    monthly_price_cents: int
    start_date: date
    end_date: date | None = None


@dataclass(frozen=True)
class ChargeLine:
    service_id: str
    kind: str
    label: str
    month: str  # YYYY-MM
    days: int
    amount: Decimal


def billable_on(day: date, service: LineTerm, account: BillingAccount) -> bool:
    """The rule of §5 for one day; `charge_lines` must agree with it day by day."""
    if not account.activated or account.start_date is None:
        return False
    if day < service.start_date or day < account.start_date:
        return False
    if service.end_date is not None and day > service.end_date:
        return False
    return account.decommissioned_on is None or day <= account.decommissioned_on


def billable_span(service: LineTerm, account: BillingAccount) -> tuple[date, date | None] | None:
    """First and last billable day (None: open-ended), or None when no day is billable."""
    if not account.activated or account.start_date is None:
        return None
    first = max(service.start_date, account.start_date)
    ends = [d for d in (service.end_date, account.decommissioned_on) if d is not None]
    last = min(ends) if ends else None
    if last is not None and last < first:
        return None
    return first, last


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def months_between(first: date, last: date) -> Iterator[tuple[date, date]]:
    """The calendar months overlapping [first, last], each as (first day, last day)."""
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield month_bounds(year, month)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def prorate(monthly_price_cents: int, days: int, days_in_month: int) -> Decimal:
    """price * days / days in month, half-up to the cent, in exact integer arithmetic."""
    if not 0 <= days <= days_in_month:
        raise ValueError("days must be between 0 and the days of the month")
    cents = (2 * monthly_price_cents * days + days_in_month) // (2 * days_in_month)
    return (Decimal(cents) * CENT).quantize(CENT)


def charge_lines(service: LineTerm, account: BillingAccount, *, first: date, last: date) -> list[ChargeLine]:
    """One line per calendar month of [first, last] in which the service has billable days."""
    span = billable_span(service, account)
    if span is None:
        return []
    begin = max(first, span[0])
    end = last if span[1] is None else min(last, span[1])
    if end < begin:
        return []
    lines = []
    for month_first, month_last in months_between(begin, end):
        days = (min(month_last, end) - max(month_first, begin)).days + 1
        amount = prorate(service.monthly_price_cents, days, month_last.day)
        month = f"{month_first.year:04d}-{month_first.month:02d}"
        lines.append(ChargeLine(service.service_id, service.kind, service.label, month, days, amount))
    return lines


def total(lines: Iterable[ChargeLine]) -> Decimal:
    return sum((line.amount for line in lines), Decimal("0.00")).quantize(CENT)


def days_of(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
