"""Billing (lifecycle.md §5) on real accounts and services, on both databases."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tenure.domain.access import Caller, Role
from tenure.domain.catalog import LineKind
from tenure.domain.errors import NotFound, ValidationFailed
from tenure.domain.model import ActivateMode, HoldReason
from tenure.services import accounts as svc
from tenure.services import billing
from tests.integration.catalog_kit import add, remove, statements
from tests.support import Installation

NOV = (date(2026, 11, 1), date(2026, 11, 30))


def charges(
    site: Installation, account_id: str, first: date, last: date, caller: Caller | None = None
) -> list[tuple[str, str, int, str]]:
    found = billing.account_charges(
        site.uow(), caller=caller or site.admin, account_id=account_id, first=first, last=last, now=site.now
    )
    return [(line.label, line.month, line.days, str(line.amount)) for line in found.lines]


def csv_rows(site: Installation, month: str, caller: Caller | None = None) -> list[list[str]]:
    text = "".join(billing.month_csv(site.uow(), caller=caller or site.admin, month=month))
    return list(csv.reader(io.StringIO(text)))


def test_an_account_is_charged_per_calendar_month_from_its_start(site: Installation) -> None:
    client = site.client(start_date=date(2026, 10, 17))
    add(site, client.id, price="31.00", start=date(2026, 10, 1))
    add(site, client.id, "Fibre", kind=LineKind.INTERNET, price="30.00", start=date(2026, 11, 16))
    assert charges(site, client.id, date(2026, 10, 1), date(2026, 11, 30)) == [
        ("+442079460000", "2026-10", 15, "15.00"),  # from the account's start, 17th, not the service's
        ("+442079460000", "2026-11", 30, "31.00"),
        ("Fibre", "2026-11", 15, "15.00"),
    ]
    found = billing.account_charges(
        site.uow(), caller=site.admin, account_id=client.id, first=NOV[0], last=NOV[1], now=site.now
    )
    assert found.total == Decimal("46.00")


def test_suspension_does_not_pause_but_removal_and_decommissioning_stop_charges(site: Installation) -> None:
    site.clock.set(datetime(2026, 11, 10, 12, tzinfo=UTC))
    client = site.client(start_date=date(2026, 1, 1))
    add(site, client.id, price="30.00", start=date(2026, 1, 1))
    site.suspend(client.id, HoldReason.NON_PAYMENT)  # the whole month is suspended, and billed
    removed = add(site, client.id, "Guest", kind=LineKind.WIFI, price="30.00", start=date(2026, 11, 1))
    remove(site, client.id, removed.id)  # the removal day, the 10th, is billed
    site.decommission(client.id)  # ... and so is the decommissioning day
    assert charges(site, client.id, *NOV) == [
        ("+442079460000", "2026-11", 10, "10.00"),
        ("Guest", "2026-11", 10, "10.00"),
    ]


def test_new_and_scheduled_accounts_are_not_billed_and_a_never_activated_one_never_was(site: Installation) -> None:
    new = site.client(name="New", activate=ActivateMode.MANUAL, start_date=date(2026, 11, 1))
    scheduled = site.client(name="Scheduled", start_date=date(2026, 12, 1))
    for account in (new, scheduled):
        add(site, account.id, f"Line for {account.name}", kind=LineKind.OTHER, start=date(2026, 11, 1))
    assert charges(site, new.id, *NOV) == []
    assert charges(site, scheduled.id, date(2026, 11, 1), date(2026, 12, 31)) == []
    site.decommission(new.id)  # decommissioned without ever being active: still never billed
    assert charges(site, new.id, *NOV) == []


def test_an_activated_account_is_billed_from_its_start_date(site: Installation) -> None:
    client = site.client(activate=ActivateMode.MANUAL, start_date=date(2026, 11, 11))
    add(site, client.id, "Line", kind=LineKind.OTHER, price="30.00", start=date(2026, 11, 1))
    svc.activate(site.uow(), caller=site.admin, account_id=client.id, on=None, expected_version=None, now=site.now)
    assert charges(site, client.id, *NOV) == [("Line", "2026-11", 20, "20.00")]


def test_the_month_csv_has_the_header_and_only_the_callers_clients(site: Installation) -> None:
    reseller = site.reseller("Northwind")
    own = site.client(reseller.id, "Own Ltd", billing_ref="OWN-1", start_date=date(2026, 1, 1))
    foreign = site.client(name="=Foreign", billing_ref="FOR-1", start_date=date(2026, 1, 1))
    add(site, own.id, "+44 20 7946 0001", price="12.00", start=date(2026, 1, 1))
    add(site, foreign.id, "+44 20 7946 0002", price="12.00", start=date(2026, 1, 1))
    add(site, foreign.id, "-rm", kind=LineKind.OTHER, price="0.99", start=date(2026, 11, 16))
    assert csv_rows(site, "2026-11") == [
        ["billing_ref", "client", "service", "label", "month", "days", "amount"],
        ["FOR-1", "'=Foreign", "phone_number", "+442079460002", "2026-11", "30", "12.00"],
        ["FOR-1", "'=Foreign", "other", "'-rm", "2026-11", "15", "0.50"],
        ["OWN-1", "Own Ltd", "phone_number", "+442079460001", "2026-11", "30", "12.00"],
    ]
    partner = site.user(reseller.id, Role.VIEWER, "viewer@northwind.example")
    assert [row[0] for row in csv_rows(site, "2026-11", partner)] == ["billing_ref", "OWN-1"]
    with pytest.raises(NotFound):
        charges(site, foreign.id, *NOV, caller=partner)


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "26-11", "2026-1", "November", "0000-01"])
def test_a_bad_month_is_refused_before_anything_is_streamed(site: Installation, month: str) -> None:
    with pytest.raises(ValidationFailed):
        billing.month_csv(site.uow(), caller=site.admin, month=month)


def test_a_bad_period_is_refused(site: Installation) -> None:
    client = site.client()
    with pytest.raises(ValidationFailed):
        charges(site, client.id, date(2026, 11, 30), date(2026, 11, 1))
    with pytest.raises(ValidationFailed):
        charges(site, client.id, date(2000, 1, 1), date(2026, 11, 1))


def test_the_month_csv_is_set_based_not_a_query_per_client(site: Installation) -> None:
    def csv_statements() -> int:
        with statements(site.engine) as log:
            csv_rows(site, "2026-11")
        return log.count

    site.client(name="First", start_date=date(2026, 1, 1))
    few = csv_statements()
    for i in range(15):
        client = site.client(name=f"Client {i}", start_date=date(2026, 1, 1))
        add(site, client.id, f"+44 20 7946 01{i:02d}", start=date(2026, 1, 1))
        add(site, client.id, "Fibre", kind=LineKind.INTERNET, start=date(2026, 1, 1))
    assert csv_statements() == few
    assert len(csv_rows(site, "2026-11")) == 1 + 30
