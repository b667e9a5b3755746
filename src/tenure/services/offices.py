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
from tenure.domain.catalog import Office, OfficeChanges
from tenure.domain.checks import ensure_changeable
from tenure.domain.errors import Forbidden, NotFound, OfficeTaken, ValidationFailed
from tenure.domain.ids import new_id
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


def update_office(uow: UnitOfWork, *, caller: Caller, office_id: str, changes: OfficeChanges) -> Office:
    """Rename a room or change its floor or capacity: the operator's admins only, checked as on create.

    The row is locked for the edit; a name another room has is refused by the unique index.
    """
    caller.require_operator_admin()
    with uow:
        office = catalog.edit_office(uow.offices.get(office_id, lock=True), changes)
        uow.offices.update(office)
        uow.commit()
    return office


def get_office(uow: UnitOfWork, *, caller: Caller, office_id: str) -> Office:
    """One room, for its edit form (who may see rooms: as `list_offices`)."""
    if caller.role is Role.PORTAL:
        raise Forbidden("portal users cannot see the building's offices")
    with uow.reading():
        return uow.offices.get(office_id)


def list_offices(
    uow: UnitOfWork,
    *,
    caller: Caller,
    free: bool | None,
    limit: int,
    cursor: str | None,
    q: str | None = None,
) -> tuple[list[OfficeListing], str | None]:
    """Staff of the operator and partners see the rooms (to assign them); a client's portal user does not.

    `q` narrows to rooms whose name contains it, in any case (the console's office search).
    """
    if caller.role is Role.PORTAL:
        raise Forbidden("portal users cannot list the building's offices")
    if q and catalog.has_control(q):
        raise ValidationFailed("q must be text on one line", field="q")
    with uow.reading():
        return uow.offices.page(caller, free=free, limit=limit, cursor=cursor, q=q.strip() if q else None)


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


def change_office(
    uow: UnitOfWork,
    *,
    caller: Caller,
    account_id: str,
    from_office_id: str,
    to_office_id: str,
    expected_version: int | None,
    now: datetime,
) -> Account:
    """Connect's "Office" field: one room for another in one transaction.

    The client never ends up with both rooms or with neither: if the new room is
    taken, the old one stays held and nothing is written.
    """
    with uow:
        account = load_for_change(uow, caller, account_id, expected_version)
        catalog.check_can_hold_office(account)
        old, new = uow.offices.get(from_office_id), uow.offices.get(to_office_id)
        if old.id == new.id:
            return account
        holder = uow.offices.holder(new.id)
        if holder is not None and holder != account.id:
            raise OfficeTaken(f"office {new.name} is held by another client")
        if not uow.offices.release(old.id, account.id, now=now):
            raise NotFound(f"{account.name} does not hold office {old.name}")
        if holder == account.id:  # it already holds the new room: the change is only the release
            record(uow, account, catalog.office_released(account, old), actor=caller.email, now=now)
        else:
            uow.audit.append(catalog.office_released(account, old), actor=caller.email, at=now)
            uow.offices.assign(new.id, account.id, now=now)  # the unique index decides any race
            record(uow, account, catalog.office_assigned(account, new), actor=caller.email, now=now)
        uow.commit()
    return account


def release_in(uow: UnitOfWork, account: Account, office_id: str, *, actor: str, now: datetime) -> None:
    """`release_office` inside an open unit of work, on the locked account."""
    ensure_changeable(account)
    office = uow.offices.get(office_id)
    if not uow.offices.release(office.id, account.id, now=now):
        raise NotFound(f"{account.name} does not hold office {office.name}")
    record(uow, account, catalog.office_released(account, office), actor=actor, now=now)
