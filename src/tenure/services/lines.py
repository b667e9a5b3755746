"""Lines of a client (the API's "services"): add, list, remove (lifecycle.md §5).

Adding or removing a service locks the client's row, so it cannot cross a
decommission that ends every service; a number's single holder is decided by
the database's partial unique index, whatever races.
"""

from __future__ import annotations

from datetime import date, datetime

from tenure.domain import catalog
from tenure.domain.access import Caller
from tenure.domain.catalog import Line, LineKind
from tenure.domain.checks import ensure_changeable
from tenure.domain.errors import NetworkIdTaken, NumberTaken
from tenure.domain.ids import new_id
from tenure.domain.radius import clean_network_id
from tenure.services.common import load_for_change, today
from tenure.services.ports import PhoneNumbers
from tenure.services.unit_of_work import LineRepository, UnitOfWork


def repository(uow: UnitOfWork) -> LineRepository:
    return uow.lines


def add_service(
    uow: UnitOfWork,
    *,
    caller: Caller,
    account_id: str,
    kind: LineKind,
    label: str,
    monthly_price: str,
    start_date: date | None,
    now: datetime,
    numbers: PhoneNumbers,
    network_id: str | None = None,
) -> Line:
    """A new service from `start_date` (default today); a number is stored in E.164."""
    cleaned = numbers.to_e164(label) if kind is LineKind.PHONE_NUMBER else catalog.clean_label(label)
    cents = catalog.parse_price(monthly_price)
    network_id = clean_network_id(network_id) if network_id is not None else None
    with uow:
        account = load_for_change(uow, caller, account_id, None)
        catalog.check_can_take_line(account)
        services = repository(uow)
        if kind is LineKind.PHONE_NUMBER and services.number_holder(cleaned) is not None:
            raise NumberTaken(f"{cleaned} is already held by a client")
        service = Line(new_id(), account.id, kind, cleaned, cents, start_date or today(uow, now), None, network_id)
        _check_network_id_free(services, service)
        services.add(service, now=now)  # the unique index decides any race
        uow.audit.append(catalog.line_added(service), actor=caller.email, at=now)
        uow.commit()
    return service


def list_services(
    uow: UnitOfWork, *, caller: Caller, account_id: str, include_ended: bool, limit: int, cursor: str | None
) -> tuple[list[Line], str | None]:
    with uow.reading():
        account = uow.accounts.get(account_id, caller=caller)
        return repository(uow).page(account.id, include_ended=include_ended, limit=limit, cursor=cursor)


def remove_service(uow: UnitOfWork, *, caller: Caller, account_id: str, service_id: str, now: datetime) -> Line:
    """End the service today: it leaves the list, its number is free again, today is still billed.

    Removing an already ended service changes nothing (a retried DELETE is harmless).
    """
    with uow:
        account = load_for_change(uow, caller, account_id, None)
        ensure_changeable(account)
        services = repository(uow)
        service = services.get(service_id, account_id=account.id)
        event = catalog.end_line(service, today=today(uow, now))
        if event is not None:
            services.end(service)
            uow.radius.disconnect_service(service.id, "service removed", now=now)
            uow.audit.append(event, actor=caller.email, at=now)
            uow.commit()
    return service


def set_network_id(
    uow: UnitOfWork, *, caller: Caller, account_id: str, service_id: str, network_id: str | None, now: datetime
) -> Line:
    """Set, change or clear (None) a service's network id: an `updated` event on the client.

    Sessions already open under the old id are left as they are: the id names the
    subscriber at the next authorization, and a rename is not a loss of `internet`.
    """
    network_id = clean_network_id(network_id) if network_id is not None else None
    with uow:
        account = load_for_change(uow, caller, account_id, None)
        ensure_changeable(account)
        services = repository(uow)
        service = services.get(service_id, account_id=account.id)
        event = catalog.set_network_id(service, network_id)
        if event is not None:
            _check_network_id_free(services, service)
            services.set_network_id(service)  # the unique index decides any race
            uow.audit.append(event, actor=caller.email, at=now)
            uow.commit()
    return service


def _check_network_id_free(services: LineRepository, service: Line) -> None:
    """A clear 409 before the write; the partial unique index still decides a race."""
    if service.network_id is None:
        return
    if services.network_id_holder(service.kind, service.network_id, other_than=service.id) is not None:
        raise NetworkIdTaken(f"network id {service.network_id} is held by another {service.kind.label} service")
