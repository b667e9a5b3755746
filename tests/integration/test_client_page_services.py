"""The use cases behind the client page's offices and charges and the Offices page's edit, on both databases.

Editing a room checks what creating one checks; changing a client's room is one
transaction (never both rooms, never neither); the free-room search takes what is
typed literally; a client's charges and CSV come from the one billing calculation.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from tenure.domain.access import Role
from tenure.domain.catalog import KEEP, LineKind, OfficeChanges
from tenure.domain.errors import Forbidden, InvalidTransition, NotFound, OfficeTaken, ValidationFailed, VersionConflict
from tenure.domain.model import ClientType
from tenure.services import billing, offices, queries
from tests.integration.catalog_kit import actions, add, assign, event_count, office
from tests.support import Installation


def _held(site: Installation, account_id: str) -> list[str]:
    view = queries.get_account(site.uow(), caller=site.admin, account_id=account_id, now=site.now)
    return [name for _, name in view.offices]


def _free(site: Installation, q: str | None = None) -> list[str]:
    items, _ = offices.list_offices(site.uow(), caller=site.admin, free=True, limit=100, cursor=None, q=q)
    return [item.office.name for item in items]


def _edit(site: Installation, office_id: str, **changes: object) -> object:
    return offices.update_office(
        site.uow(),
        caller=site.admin,
        office_id=office_id,
        changes=OfficeChanges(**changes),  # type: ignore[arg-type]
    )


# -- editing a room ------------------------------------------------------------------------------
def test_an_office_is_renamed_and_only_the_fields_given_change(site: Installation) -> None:
    room = office(site, "2.14")
    _edit(site, room.id, name="  2.14 East ")
    stored = offices.get_office(site.uow(), caller=site.admin, office_id=room.id)
    assert (stored.name, stored.floor, stored.capacity) == ("2.14 East", "2", 4)
    _edit(site, room.id, floor=None, capacity=None)
    stored = offices.get_office(site.uow(), caller=site.admin, office_id=room.id)
    assert (stored.name, stored.floor, stored.capacity) == ("2.14 East", None, None)
    _edit(site, room.id, floor="  ", capacity=0)  # a blank floor is no floor, as on create
    stored = offices.get_office(site.uow(), caller=site.admin, office_id=room.id)
    assert (stored.floor, stored.capacity) == (None, 0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "2.1\x004"}, "name"),
        ({"floor": "f" * 51}, "floor"),
        ({"floor": "1\n2"}, "floor"),
        ({"capacity": -1}, "capacity"),
        ({"capacity": 100_001}, "capacity"),
        ({"name": "2.15"}, "name"),  # another room's name
    ],
)
def test_an_office_edit_is_refused_by_the_rules_of_create_and_nothing_changes(
    site: Installation, changes: dict[str, object], field: str
) -> None:
    room = office(site, "2.14")
    office(site, "2.15")
    with pytest.raises(ValidationFailed) as refused:
        _edit(site, room.id, **changes)
    assert refused.value.extra.get("field") == field
    stored = offices.get_office(site.uow(), caller=site.admin, office_id=room.id)
    assert (stored.name, stored.floor, stored.capacity) == ("2.14", "2", 4)


def test_only_the_operators_admins_edit_offices(site: Installation) -> None:
    room = office(site, "2.14")
    reseller = site.reseller()
    for caller in (
        site.user(reseller.id, Role.ADMIN, "admin@northwind.example"),
        site.user(site.operator_id, Role.VIEWER, "viewer@operator.example"),
    ):
        with pytest.raises(Forbidden):
            offices.update_office(site.uow(), caller=caller, office_id=room.id, changes=OfficeChanges(name="Mine"))
    with pytest.raises(NotFound):
        _edit(site, "no-such-office", name="x")
    assert offices.get_office(site.uow(), caller=site.admin, office_id=room.id).name == "2.14"


def test_keep_leaves_every_field_as_it_was(site: Installation) -> None:
    room = office(site, "2.14")
    _edit(site, room.id, name=KEEP, floor=KEEP, capacity=KEEP)
    stored = offices.get_office(site.uow(), caller=site.admin, office_id=room.id)
    assert (stored.name, stored.floor, stored.capacity) == ("2.14", "2", 4)


# -- searching free rooms ------------------------------------------------------------------------
def test_the_free_office_search_matches_part_of_the_name_in_any_case_and_literally(site: Installation) -> None:
    for name in ("2.14 East", "2.15", "3.01", "Board_Room", "BoardXRoom", "100% Studio"):
        office(site, name)
    assign(site, site.client().id, office(site, "2.16").id)
    assert _free(site, "2.1") == ["2.14 East", "2.15"]  # 2.16 is held
    assert _free(site, "east") == ["2.14 East"]
    assert _free(site, "d_R") == ["Board_Room"]  # `_` is not a wildcard
    assert _free(site, "0%") == ["100% Studio"]
    assert _free(site, "  ") == _free(site)  # blank is no search
    with pytest.raises(ValidationFailed):
        _free(site, "2.1\x00")


# -- changing a client's room --------------------------------------------------------------------
def _change(site: Installation, account_id: str, old: str, new: str, version: int | None = None) -> object:
    return offices.change_office(
        site.uow(),
        caller=site.admin,
        account_id=account_id,
        from_office_id=old,
        to_office_id=new,
        expected_version=version,
        now=site.now,
    )


def test_changing_an_office_releases_one_and_assigns_the_other_in_one_change(site: Installation) -> None:
    old, new = office(site, "2.14"), office(site, "2.15")
    client = site.client()
    held = assign(site, client.id, old.id)
    _change(site, client.id, old.id, new.id, version=held.version)
    assert _held(site, client.id) == ["2.15"]
    assert _free(site) == ["2.14"]
    assert actions(site, client.id)[-2:] == ["office_released", "office_assigned"]
    assert site.get(client.id).version == held.version + 1  # one change of the client


def test_a_taken_room_leaves_the_client_in_its_old_room_and_writes_nothing(site: Installation) -> None:
    old, taken = office(site, "2.14"), office(site, "2.15")
    client, other = site.client(), site.client(name="Other")
    assign(site, client.id, old.id)
    assign(site, other.id, taken.id)
    before = (event_count(site), site.get(client.id).version)
    with pytest.raises(OfficeTaken):
        _change(site, client.id, old.id, taken.id)
    assert _held(site, client.id) == ["2.14"]
    assert _held(site, other.id) == ["2.15"]
    assert (event_count(site), site.get(client.id).version) == before


def test_a_change_is_refused_when_stale_or_not_held_or_virtual(site: Installation) -> None:
    old, new, spare = office(site, "2.14"), office(site, "2.15"), office(site, "2.16")
    client = site.client()
    held = assign(site, client.id, old.id)
    with pytest.raises(VersionConflict):
        _change(site, client.id, old.id, new.id, version=held.version - 1)
    with pytest.raises(NotFound):
        _change(site, client.id, spare.id, new.id)  # it does not hold 2.16
    assert _held(site, client.id) == ["2.14"] and _free(site) == ["2.15", "2.16"]
    virtual = site.client(name="Virtual", client_type=ClientType.VIRTUAL)
    with pytest.raises(InvalidTransition):
        _change(site, virtual.id, old.id, new.id)
    viewer = site.user(site.operator_id, Role.VIEWER, "viewer@operator.example")
    with pytest.raises(Forbidden):
        offices.change_office(
            site.uow(),
            caller=viewer,
            account_id=client.id,
            from_office_id=old.id,
            to_office_id=new.id,
            expected_version=None,
            now=site.now,
        )


def test_changing_to_a_room_it_already_holds_only_releases_the_old_one(site: Installation) -> None:
    first, second = office(site, "2.14"), office(site, "2.15")
    client = site.client()
    assign(site, client.id, first.id)
    assign(site, client.id, second.id)
    _change(site, client.id, first.id, second.id)
    assert _held(site, client.id) == ["2.15"]
    assert actions(site, client.id).count("office_assigned") == 2
    assert actions(site, client.id)[-1] == "office_released"
    _change(site, client.id, second.id, second.id)  # the same room: nothing to do
    assert _held(site, client.id) == ["2.15"]


# -- a client's charges --------------------------------------------------------------------------
def test_recent_charges_are_this_month_then_last_month_from_the_billing_calculation(site: Installation) -> None:
    client = site.client(start_date=date(2026, 10, 17))  # the clock is 23 Nov 2026
    add(site, client.id, price="31.00", start=date(2026, 10, 1))
    add(site, client.id, "Fibre", kind=LineKind.INTERNET, price="30.00", start=date(2026, 11, 16))
    months = billing.recent_charges(
        site.uow(), caller=site.admin, account_id=client.id, today=date(2026, 11, 23), now=site.now
    )
    assert [m.month for m in months] == ["2026-11", "2026-10"]
    assert [(line.label, line.days, line.amount) for line in months[0].lines] == [
        ("+442079460000", 30, Decimal("31.00")),
        ("Fibre", 15, Decimal("15.00")),
    ]
    assert [(line.days, line.amount) for line in months[1].lines] == [(15, Decimal("15.00"))]  # 17-31 Oct
    assert (months[0].total, months[1].total) == (Decimal("46.00"), Decimal("15.00"))
    expected = billing.account_charges(
        site.uow(),
        caller=site.admin,
        account_id=client.id,
        first=date(2026, 10, 1),
        last=date(2026, 11, 30),
        now=site.now,
    )
    assert [line for m in reversed(months) for line in m.lines] == expected.lines


def test_recent_charges_cross_a_year_and_show_empty_months(site: Installation) -> None:
    client = site.client(start_date=date(2026, 11, 1))
    months = billing.recent_charges(
        site.uow(), caller=site.admin, account_id=client.id, today=date(2027, 1, 5), now=site.now
    )
    assert [(m.month, m.lines, m.total) for m in months] == [
        ("2027-01", [], Decimal("0.00")),
        ("2026-12", [], Decimal("0.00")),
    ]


def test_a_clients_csv_has_only_its_lines_and_only_for_those_who_see_it(site: Installation) -> None:
    reseller = site.reseller()
    own = site.client(reseller.id, "Own Ltd", start_date=date(2026, 10, 1))
    other = site.client(name="Other Ltd", start_date=date(2026, 10, 1))
    add(site, own.id, price="30.00", start=date(2026, 11, 1))
    add(site, other.id, "+44 20 7946 0001", price="60.00", start=date(2026, 11, 1))
    text = "".join(billing.month_csv(site.uow(), caller=site.admin, month="2026-11", account_id=own.id))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(billing.CSV_HEADER)
    assert [r[1:] for r in rows[1:]] == [["Own Ltd", "phone_number", "+442079460000", "2026-11", "30", "30.00"]]
    partner = site.user(reseller.id, Role.ADMIN, "admin@northwind.example")
    with pytest.raises(NotFound):  # refused before anything is streamed
        billing.month_csv(site.uow(), caller=partner, month="2026-11", account_id=other.id)
    with pytest.raises(ValidationFailed):
        billing.month_csv(site.uow(), caller=site.admin, month="2026-13", account_id=own.id)
