"""Services (lifecycle.md §5): E.164 numbers held by one client at a time, removal ends them today."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from tenure.domain.access import Role
from tenure.domain.catalog import LineKind
from tenure.domain.errors import AccountDecommissioned, InvalidTransition, NotFound, NumberTaken, ValidationFailed
from tenure.services import lines
from tests.integration.catalog_kit import actions, add, event_count, remove
from tests.support import Installation, MutableClock


def _listed(site: Installation, account_id: str, include_ended: bool = False) -> list[tuple[str, date | None]]:
    items, _ = lines.list_services(
        site.uow(), caller=site.admin, account_id=account_id, include_ended=include_ended, limit=100, cursor=None
    )
    return [(s.label, s.end_date) for s in items]


def test_a_number_is_stored_in_e164_and_the_addition_recorded(site: Installation) -> None:
    client = site.client()
    service = add(site, client.id, " +44 (0)20 7946 0123 ", price="12.5")
    assert service.label == "+442079460123"
    assert service.monthly_price_cents == 1250
    assert service.start_date == date(2026, 11, 23)  # today, operator time zone
    assert actions(site, client.id)[-1] == "service_added"
    assert _listed(site, client.id) == [("+442079460123", None)]


def test_start_date_defaults_to_the_operators_today(engine: Engine, clock: MutableClock) -> None:
    clock.set(datetime(2026, 11, 23, 16, 30, tzinfo=UTC))  # already the 24th in Auckland
    site = Installation.start(engine, clock, timezone="Pacific/Auckland")
    client = site.client()
    assert add(site, client.id).start_date == date(2026, 11, 24)


@pytest.mark.parametrize(
    ("label", "price"),
    [
        ("020 7946 0000", "12.00"),  # no country code
        ("+44 20 7946", "12.00"),  # too short to be a number
        ("+44 20 7946 0000 ext. 12", "12.00"),  # an extension is not a number
        ("call me", "12.00"),
        ("+44 20 7946 0000", "-1.00"),
        ("+44 20 7946 0000", "twelve"),
        ("+44 20 7946 0000", "12.345"),
        ("+44 20 7946 0000", "1e3"),
    ],
)
def test_bad_numbers_and_prices_are_refused_and_nothing_is_written(site: Installation, label: str, price: str) -> None:
    client = site.client()
    before = event_count(site)
    with pytest.raises(ValidationFailed):
        add(site, client.id, label, price=price)
    assert event_count(site) == before
    assert _listed(site, client.id, include_ended=True) == []


def test_a_number_held_by_one_client_is_refused_to_another_in_any_spelling(site: Installation) -> None:
    first, second = site.client(name="First"), site.client(name="Second")
    add(site, first.id, "+442079460000")
    with pytest.raises(NumberTaken):
        add(site, second.id, "+44 20 7946 0000")
    with pytest.raises(NumberTaken):
        add(site, first.id, "+44 20 7946 0000")  # twice on the same client is no better
    assert _listed(site, second.id) == []


def test_removal_ends_today_frees_the_number_the_same_day_and_is_harmless_twice(site: Installation) -> None:
    first, second = site.client(name="First"), site.client(name="Second")
    service = add(site, first.id)
    ended = remove(site, first.id, service.id)
    assert ended.end_date == date(2026, 11, 23)
    assert _listed(site, first.id) == []
    assert _listed(site, first.id, include_ended=True) == [("+442079460000", date(2026, 11, 23))]
    add(site, second.id)  # the same number, the same day
    remove(site, first.id, service.id)
    assert actions(site, first.id).count("service_removed") == 1


def test_services_of_other_kinds_keep_their_label(site: Installation) -> None:
    client = site.client()
    add(site, client.id, "Fibre 1 Gb/s", kind=LineKind.INTERNET, price="45")
    add(site, client.id, "Fibre 1 Gb/s", kind=LineKind.INTERNET, price="45")  # labels repeat freely
    assert [label for label, _ in _listed(site, client.id)] == ["Fibre 1 Gb/s", "Fibre 1 Gb/s"]


def test_decommissioning_ends_every_service_that_day(site: Installation) -> None:
    client = site.client()
    add(site, client.id)
    add(site, client.id, "Guest", kind=LineKind.WIFI)
    site.decommission(client.id)
    assert _listed(site, client.id) == []
    assert {end for _, end in _listed(site, client.id, include_ended=True)} == {date(2026, 11, 23)}
    with pytest.raises(AccountDecommissioned):
        add(site, client.id, "+44 20 7946 0001")
    add(site, site.client(name="Next").id)  # its number is free again


def test_services_belong_to_clients_the_caller_may_change(site: Installation) -> None:
    with pytest.raises(InvalidTransition):
        add(site, site.channel().id)
    reseller = site.reseller("Northwind")
    foreign = site.client(name="Foreign")
    partner = site.user(reseller.id, Role.ADMIN, "admin@northwind.example")
    with pytest.raises(NotFound):
        add(site, foreign.id, caller=partner)
    with pytest.raises(NotFound):
        remove(site, foreign.id, "no-such-service")


def test_services_list_pages_in_the_order_they_were_added(site: Installation) -> None:
    client = site.client()
    labels = [add(site, client.id, f"Line {i}", kind=LineKind.OTHER).label for i in range(5)]
    page, cursor = lines.list_services(
        site.uow(), caller=site.admin, account_id=client.id, include_ended=False, limit=3, cursor=None
    )
    rest, end = lines.list_services(
        site.uow(), caller=site.admin, account_id=client.id, include_ended=False, limit=3, cursor=cursor
    )
    assert [s.label for s in page + rest] == labels
    assert end is None
