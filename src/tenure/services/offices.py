"""Office use cases: create rooms, list them, assign them to clients and release them.

Assigning and releasing are changes to the client (its `offices` field and
version move, its audit trail gets `office_assigned` / `office_released`), in
one transaction with the account row locked, like every status action.
"""

from __future__ import annotations

from datetime import datetime

from tenure.adapters.db.offices import OfficeListing
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain import catalog
from tenure.domain.access import Caller, Role
from tenure.domain.catalog import Office
from tenure.domain.errors import Forbidden, NotFound, OfficeTaken
from tenure.domain.ids import new_id
from tenure.domain.lifecycle import ensure_changeable
from tenure.domain.model import Account
from tenure.services.common import load_for_change, record


def create_office(
    uow: UnitOfWork, *, caller: Caller, name: str, floor: str | None, capacity: int | None, now: datetime
) -> Office:
    """Rooms are the operator's building: only its admins add them."""
    caller.require_operator_admin()
    office = catalog.new_office(new_id(), name, floor, capacity)
    with uow:
        uow.offices.add(office, now=now)
        uow.commit()
    return office


def list_offices(
    uow: UnitOfWork, *, caller: Caller, free: bool | None, limit: int, cursor: str | None
) -> tuple[list[OfficeListing], str | None]:
    """Staff of the operator and partners see the rooms (to assign them); a client's portal user does not."""
    if caller.role is Role.PORTAL:
        raise Forbidden("portal users cannot list the building's offices")
    with uow.reading():
        return uow.offices.page(caller, free=free, limit=limit, cursor=cursor)


def assign_office(
    uow: UnitOfWork,
    *,
    caller: Caller,
    account_id: str,
    office_id: str,
    expected_version: int | None,
    now: datetime,
) -> Account:
    """Give a room to a residential client; assigning a room it already holds changes nothing."""
    with uow:
        account = load_for_change(uow, caller, account_id, expected_version)
        if assign_in(uow, account, office_id, actor=caller.email, now=now):
            uow.commit()
    return account


def assign_in(uow: UnitOfWork, account: Account, office_id: str, *, actor: str, now: datetime) -> bool:
    """`assign_office` inside an open unit of work, on the locked account; False when it held the room already."""
    catalog.check_can_hold_office(account)
    office = uow.offices.get(office_id)
    holder = uow.offices.holder(office.id)
    if holder == account.id:
        return False
    if holder is not None:
        raise OfficeTaken(f"office {office.name} is held by another client")
    uow.offices.assign(office.id, account.id, now=now)  # the unique index decides any race
    record(uow, account, catalog.office_assigned(account, office), actor=actor, now=now)
    return True


def release_office(
    uow: UnitOfWork,
    *,
    caller: Caller,
    account_id: str,
    office_id: str,
    expected_version: int | None,
    now: datetime,
) -> Account:
    with uow:
        account = load_for_change(uow, caller, account_id, expected_version)
        release_in(uow, account, office_id, actor=caller.email, now=now)
        uow.commit()
    return account


def release_in(uow: UnitOfWork, account: Account, office_id: str, *, actor: str, now: datetime) -> None:
    """`release_office` inside an open unit of work, on the locked account."""
    ensure_changeable(account)
    office = uow.offices.get(office_id)
    if not uow.offices.release(office.id, account.id, now=now):
        raise NotFound(f"{account.name} does not hold office {office.name}")
    record(uow, account, catalog.office_released(account, office), actor=actor, now=now)
