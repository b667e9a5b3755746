"""Charges (lifecycle.md §5) as pure rules: proration per calendar month, half-up per line."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenure.domain.charges import (
    BillingAccount,
    LineTerm,
    billable_on,
    charge_lines,
    days_of,
    month_bounds,
    prorate,
    total,
)

ACTIVE = BillingAccount(start_date=date(2026, 1, 1), activated=True)


def service(start: date, end: date | None = None, cents: int = 3000) -> LineTerm:
    return LineTerm("svc", "internet", "Fibre 1G", cents, start, end)


def lines_of(term: LineTerm, account: BillingAccount, first: date, last: date) -> list[tuple[str, int, str]]:
    return [(line.month, line.days, str(line.amount)) for line in charge_lines(term, account, first=first, last=last)]


def test_a_full_month_charges_the_monthly_price() -> None:
    assert lines_of(service(date(2026, 1, 1)), ACTIVE, date(2026, 11, 1), date(2026, 11, 30)) == [
        ("2026-11", 30, "30.00")
    ]


def test_a_period_across_a_month_boundary_gives_one_line_per_calendar_month() -> None:
    # 31 days of December at 31.00 is 1.00 a day; November has 30 days at 1.00 a day.
    term = service(date(2026, 11, 20), cents=3100)
    assert lines_of(term, ACTIVE, date(2026, 11, 1), date(2027, 1, 31)) == [
        ("2026-11", 11, "11.37"),  # 31.00 * 11 / 30 = 11.3666..
        ("2026-12", 31, "31.00"),
        ("2027-01", 31, "31.00"),
    ]


@pytest.mark.parametrize(
    ("year", "days", "amount"),
    [(2026, 28, "28.00"), (2028, 29, "28.00")],
)
def test_february_is_prorated_over_its_own_days(year: int, days: int, amount: str) -> None:
    first, last = month_bounds(year, 2)
    assert last.day == days
    assert lines_of(service(date(2026, 1, 1), cents=2800), ACTIVE, first, last) == [(f"{year}-02", days, amount)]
    # half of a leap February is not half of a common one
    half = lines_of(service(date(year, 2, 15), cents=2800), ACTIVE, first, last)
    assert half == [(f"{year}-02", days - 14, str(prorate(2800, days - 14, days)))]
    assert half[0][2] == ("14.00" if year == 2026 else "14.48")  # 28.00 * 15 / 29


def test_a_service_added_and_removed_in_the_same_month_bills_both_days_inclusive() -> None:
    term = service(date(2026, 11, 10), date(2026, 11, 12), cents=3000)
    assert lines_of(term, ACTIVE, date(2026, 11, 1), date(2026, 11, 30)) == [("2026-11", 3, "3.00")]


def test_decommission_on_the_first_bills_that_one_day() -> None:
    account = BillingAccount(date(2026, 1, 1), True, decommissioned_on=date(2026, 12, 1))
    term = service(date(2026, 1, 1), date(2026, 12, 1), cents=3100)
    assert lines_of(term, account, date(2026, 11, 1), date(2027, 1, 31)) == [
        ("2026-11", 30, "31.00"),
        ("2026-12", 1, "1.00"),
    ]


def test_decommission_on_the_last_day_bills_the_whole_month_and_nothing_after() -> None:
    account = BillingAccount(date(2026, 1, 1), True, decommissioned_on=date(2026, 11, 30))
    assert lines_of(service(date(2026, 1, 1)), account, date(2026, 11, 1), date(2026, 12, 31)) == [
        ("2026-11", 30, "30.00")
    ]


def test_decommissioning_stops_charges_even_if_the_service_row_was_left_open() -> None:
    account = BillingAccount(date(2026, 1, 1), True, decommissioned_on=date(2026, 11, 15))
    assert lines_of(service(date(2026, 1, 1)), account, date(2026, 11, 1), date(2026, 11, 30)) == [
        ("2026-11", 15, "15.00")
    ]


def test_suspension_across_a_month_end_is_still_charged() -> None:
    # A hold placed on 25 November and lifted on 5 December changes nothing: billing never sees holds.
    suspended_meanwhile = ACTIVE
    assert lines_of(service(date(2026, 1, 1)), suspended_meanwhile, date(2026, 11, 1), date(2026, 12, 31)) == [
        ("2026-11", 30, "30.00"),
        ("2026-12", 31, "30.00"),
    ]


def test_new_or_scheduled_accounts_are_never_billed() -> None:
    not_active = BillingAccount(date(2026, 1, 1), activated=False)
    assert lines_of(service(date(2026, 1, 1)), not_active, date(2026, 11, 1), date(2026, 11, 30)) == []


def test_billing_starts_at_the_account_start_not_before() -> None:
    account = BillingAccount(date(2026, 11, 21), True)
    assert lines_of(service(date(2026, 10, 1)), account, date(2026, 11, 1), date(2026, 11, 30)) == [
        ("2026-11", 10, "10.00")
    ]


def test_half_a_cent_rounds_up_per_line_and_the_total_adds_rounded_lines() -> None:
    assert prorate(1, 15, 30) == Decimal("0.01")  # 0.005 -> 0.01
    assert prorate(1, 14, 30) == Decimal("0.00")  # 0.00466.. -> 0.00
    term_a = service(date(2026, 11, 16), cents=1)
    term_b = LineTerm("b", "wifi", "Guest", 1, date(2026, 11, 16))
    lines = charge_lines(term_a, ACTIVE, first=date(2026, 11, 1), last=date(2026, 11, 30))
    lines += charge_lines(term_b, ACTIVE, first=date(2026, 11, 1), last=date(2026, 11, 30))
    assert total(lines) == Decimal("0.02")


def test_removal_before_the_period_and_future_start_give_no_lines() -> None:
    assert lines_of(service(date(2026, 1, 1), date(2026, 10, 31)), ACTIVE, date(2026, 11, 1), date(2026, 11, 30)) == []
    assert lines_of(service(date(2026, 12, 1)), ACTIVE, date(2026, 11, 1), date(2026, 11, 30)) == []


months = st.tuples(st.integers(2000, 2100), st.integers(1, 12))
prices = st.integers(0, 10_000_000)


@given(months, prices, st.data())
def test_property_a_month_never_charges_more_than_its_price_and_a_full_month_exactly_it(
    month: tuple[int, int], cents: int, data: st.DataObject
) -> None:
    first, last = month_bounds(*month)
    span = (last - first).days
    start = first + timedelta(days=data.draw(st.integers(-40, span)))
    end = data.draw(st.none() | st.integers(0, span + 40).map(lambda d: first + timedelta(days=d)))
    account_start = first + timedelta(days=data.draw(st.integers(-40, span)))
    decommissioned = data.draw(st.none() | st.integers(0, span + 40).map(lambda d: first + timedelta(days=d)))
    account = BillingAccount(account_start, True, decommissioned)
    term = LineTerm("s", "other", "x", cents, start, end)
    lines = charge_lines(term, account, first=first, last=last)
    price = Decimal(cents) / 100
    billable_days = sum(billable_on(day, term, account) for day in days_of(first, last))
    assert len(lines) <= 1
    assert sum(line.days for line in lines) == billable_days  # the line counts exactly the billable days
    assert total(lines) <= price
    whole = LineTerm("s", "other", "x", cents, first - timedelta(days=1))
    full = charge_lines(whole, BillingAccount(first - timedelta(days=400), True), first=first, last=last)
    assert [line.amount for line in full] == [price.quantize(Decimal("0.01"))]
    assert full[0].days == last.day


@given(prices, st.integers(28, 31), st.data())
def test_property_more_days_never_cost_less(cents: int, days_in_month: int, data: st.DataObject) -> None:
    fewer = data.draw(st.integers(0, days_in_month))
    more = data.draw(st.integers(fewer, days_in_month))
    assert prorate(cents, fewer, days_in_month) <= prorate(cents, more, days_in_month)
    assert prorate(cents, days_in_month, days_in_month) == Decimal(cents) / 100
