"""Offices (lifecycle.md §5): one undecommissioned residential holder per room, on both databases."""

from __future__ import annotations

import pytest

from tenure.domain.access import Role
from tenure.domain.errors import AccountDecommissioned, Forbidden, InvalidTransition, NotFound, OfficeTaken
from tenure.domain.model import ClientType
from tenure.services import accounts as svc
from tenure.services import offices, queries
from tests.integration.catalog_kit import actions, assign, event_count, office
from tests.support import Installation


def _free(site: Installation, free: bool | None = True) -> list[str]:
    items, _ = offices.list_offices(site.uow(), caller=site.admin, free=free, limit=100, cursor=None)
    return [i.office.name for i in items]


def _offices_of(site: Installation, account_id: str) -> list[str]:
    view = queries.get_account(site.uow(), caller=site.admin, account_id=account_id, now=site.now)
    return [name for _, name in view.offices]


def test_assigning_a_room_shows_on_the_account_and_in_its_trail(site: Installation) -> None:
    room = office(site, "2.14")
    office(site, "2.15")
    client = site.client()
    account = assign(site, client.id, room.id)
    assert _offices_of(site, client.id) == ["2.14"]
    assert account.version == client.version + 1
    assert actions(site, client.id)[-1] == "office_assigned"
    assert _free(site) == ["2.15"]
    assert _free(site, False) == ["2.14"]


def test_a_held_room_is_refused_to_another_client_and_nothing_is_written(site: Installation) -> None:
    room = office(site)
    first, second = site.client(name="First"), site.client(name="Second")
    assign(site, first.id, room.id)
    before = event_count(site)
    with pytest.raises(OfficeTaken):
        assign(site, second.id, room.id)
    assert event_count(site) == before
    assert _offices_of(site, second.id) == []
    assert site.get(second.id).version == second.version


def test_assigning_the_same_room_again_changes_nothing(site: Installation) -> None:
    room = office(site)
    client = site.client()
    assign(site, client.id, room.id)
    again = assign(site, client.id, room.id)
    assert again.version == client.version + 1
    assert actions(site, client.id).count("office_assigned") == 1


def test_virtual_clients_and_partners_hold_no_rooms(site: Installation) -> None:
    room = office(site)
    virtual = site.client(name="Virtual", client_type=ClientType.VIRTUAL)
    with pytest.raises(InvalidTransition):
        assign(site, virtual.id, room.id)
    with pytest.raises(InvalidTransition):
        assign(site, site.reseller().id, room.id)


def test_a_decommissioned_client_is_refused_first(site: Installation) -> None:
    client = site.client()
    site.decommission(client.id)
    with pytest.raises(AccountDecommissioned):
        assign(site, client.id, "no-such-office")


def test_release_frees_the_room_and_records_it(site: Installation) -> None:
    room = office(site)
    client = site.client()
    assign(site, client.id, room.id)
    offices.release_office(
        site.uow(), caller=site.admin, account_id=client.id, office_id=room.id, expected_version=None, now=site.now
    )
    assert _offices_of(site, client.id) == []
    assert actions(site, client.id)[-1] == "office_released"
    with pytest.raises(NotFound):
        offices.release_office(
            site.uow(), caller=site.admin, account_id=client.id, office_id=room.id, expected_version=None, now=site.now
        )
    assign(site, site.client(name="Next").id, room.id)  # free for the next client


@pytest.mark.parametrize("how", ["convert", "decommission"])
def test_converting_to_virtual_or_decommissioning_releases_rooms(site: Installation, how: str) -> None:
    rooms = [office(site, "1.01"), office(site, "1.02")]
    client = site.client()
    for room in rooms:
        assign(site, client.id, room.id)
    if how == "convert":
        svc.convert(
            site.uow(),
            caller=site.admin,
            account_id=client.id,
            to=ClientType.VIRTUAL,
            expected_version=None,
            now=site.now,
        )
    else:
        site.decommission(client.id)
    assert _offices_of(site, client.id) == []
    assert _free(site) == ["1.01", "1.02"]
    assert actions(site, client.id).count("office_released") == 2
    assign(site, site.client(name="Next").id, rooms[0].id)


def test_partners_assign_only_inside_their_tree_and_see_only_their_holders(site: Installation) -> None:
    room, other_room = office(site, "1.01"), office(site, "1.02")
    reseller = site.reseller("Northwind")
    own = site.client(reseller.id, "Own")
    foreign = site.client(name="Foreign")
    partner = site.user(reseller.id, Role.ADMIN, "admin@northwind.example")
    assign(site, own.id, room.id, caller=partner)
    with pytest.raises(NotFound):
        assign(site, foreign.id, other_room.id, caller=partner)
    assign(site, foreign.id, other_room.id)
    items, _ = offices.list_offices(site.uow(), caller=partner, free=None, limit=10, cursor=None)
    assert [(i.office.name, i.free, i.holder and i.holder[1]) for i in items] == [
        ("1.01", False, "Own"),
        ("1.02", False, None),  # held, but by a client the partner may not see
    ]
    viewer = site.user(reseller.id, Role.VIEWER, "viewer@northwind.example")
    with pytest.raises(Forbidden):
        assign(site, own.id, other_room.id, caller=viewer)
    with pytest.raises(Forbidden):
        office(site, "9.99", caller=partner)  # rooms are the operator's building


def test_office_list_pages_by_name(site: Installation) -> None:
    for name in ["3.01", "1.01", "2.01"]:
        office(site, name)
    first, cursor = offices.list_offices(site.uow(), caller=site.admin, free=None, limit=2, cursor=None)
    rest, end = offices.list_offices(site.uow(), caller=site.admin, free=None, limit=2, cursor=cursor)
    assert [i.office.name for i in first + rest] == ["1.01", "2.01", "3.01"]
    assert end is None
