"""Billing (lifecycle.md §5): an account's charges for a period, and a month's charges as CSV.

Both read services set-based (one statement for the period, streamed in
batches) and leave every rule of proration to `domain.charges`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from tenure.adapters.db.billing import billable_services
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import Caller
from tenure.domain.catalog import money_text
from tenure.domain.charges import ChargeLine, charge_lines, month_bounds, total
from tenure.domain.errors import ValidationFailed
from tenure.domain.text import spreadsheet_safe
from tenure.services.common import today

CSV_HEADER = ("billing_ref", "client", "service", "label", "month", "days", "amount")
MAX_PERIOD_DAYS = 3660  # ten years: a longer question is a mistake, not a bill
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class AccountCharges:
    account_id: str
    first: date
    last: date
    lines: list[ChargeLine]

    @property
    def total(self) -> Decimal:
        return total(self.lines)


@dataclass(frozen=True)
class MonthLines:
    """One calendar month of an account's charges (lines may be empty)."""

    month: str  # YYYY-MM
    lines: list[ChargeLine]

    @property
    def total(self) -> Decimal:
        return total(self.lines)


def recent_charges(uow: UnitOfWork, *, caller: Caller, account_id: str, today: date, now: datetime) -> list[MonthLines]:
    """This month and last month of one account, this month first: the client page's charges.

    The lines come from `account_charges`, the same calculation as the API and the CSV.
    """
    this_first, this_last = month_bounds(*_year_month(today))
    last_first, _ = month_bounds(*_year_month(this_first - timedelta(days=1)))
    charges = account_charges(uow, caller=caller, account_id=account_id, first=last_first, last=this_last, now=now)
    months = [f"{day:%Y-%m}" for day in (this_first, last_first)]
    return [MonthLines(month, [line for line in charges.lines if line.month == month]) for month in months]


def parse_month(text: str) -> tuple[date, date]:
    """`YYYY-MM` -> its first and last day; `2026-13` is a validation error."""
    match = _MONTH.match(text)
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        raise ValidationFailed(f"month must be YYYY-MM with a month 01-12, not {text[:20]!r}", field="month")
    return month_bounds(int(match.group(1)), int(match.group(2)))


def account_charges(
    uow: UnitOfWork, *, caller: Caller, account_id: str, first: date | None, last: date | None, now: datetime
) -> AccountCharges:
    """Lines per service and calendar month for [first, last] (default: this month so far and to its end)."""
    with uow.reading():
        account = uow.accounts.get(account_id, caller=caller)
        month_first, month_last = month_bounds(*_year_month(today(uow, now)))
        first, last = first or month_first, last or month_last
        _check_period(first, last)
        lines: list[ChargeLine] = []
        for batch in billable_services(uow.connection, caller, first=first, last=last, account_id=account.id):
            for item in batch:
                lines.extend(charge_lines(item.service, item.account, first=first, last=last))
    lines.sort(key=lambda line: line.month)  # stable: services keep their order within a month
    return AccountCharges(account.id, first, last, lines)


def month_csv(uow: UnitOfWork, *, caller: Caller, month: str, account_id: str | None = None) -> Iterator[str]:
    """The month's charge lines of every client the caller sees (or of one client), as CSV text chunks.

    The month and the client are checked now, before anything is streamed, so bad
    input is a proper 422 or 404 and not a broken download.
    """
    first, last = parse_month(month)
    if account_id is not None:
        with uow.reading():
            account_id = uow.accounts.get(account_id, caller=caller).id
    return _csv_chunks(uow, caller, first, last, account_id)


def _csv_chunks(uow: UnitOfWork, caller: Caller, first: date, last: date, account_id: str | None) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    yield _drain(buffer)
    with uow.reading():
        for batch in billable_services(uow.connection, caller, first=first, last=last, account_id=account_id):
            for item in batch:
                for line in charge_lines(item.service, item.account, first=first, last=last):
                    writer.writerow(
                        (
                            spreadsheet_safe(item.billing_ref),
                            spreadsheet_safe(item.client_name),
                            line.kind,
                            spreadsheet_safe(line.label),
                            line.month,
                            line.days,
                            money_text(line.amount),
                        )
                    )
            yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _year_month(day: date) -> tuple[int, int]:
    return day.year, day.month


def _check_period(first: date, last: date) -> None:
    if last < first:
        raise ValidationFailed("`to` must not be before `from`", field="to")
    if (last - first).days > MAX_PERIOD_DAYS:
        raise ValidationFailed("the period may be at most ten years", field="to")
