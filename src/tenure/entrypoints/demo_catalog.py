"""The demo's building and services: rooms 1.01-3.12, UK numbers, internet, Wi-Fi and more.

Called by `tenure demo` right after the clients are created (before the demo
suspends and decommissions some of them), through the same use cases as the
API, so suspended clients keep their numbers and decommissioned ones show
ended services and released rooms.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from tenure.domain.access import Caller
from tenure.domain.catalog import LineKind
from tenure.domain.model import Account, ClientType
from tenure.entrypoints.context import phone_numbers, unit_of_work
from tenure.services import lines, offices

ROOMS = [(f"{floor}.{room:02d}", str(floor), 2 + (room % 4) * 2) for floor in (1, 2, 3) for room in range(1, 13)]
NUMBER_BLOCK = "+44 20 7946 0{:03d}"  # Ofcom's drama range: real-looking London numbers that ring nowhere
RESIDENTIAL_EXTRAS = [
    (LineKind.INTERNET, "Fibre 500 Mb/s", "45.00"),
    (LineKind.WIFI, "Guest Wi-Fi", "5.00"),
    (LineKind.LOCAL_NETWORK, "Private VLAN", "10.00"),
    (LineKind.OTHER, "Meeting room, 10 hours", "20.00"),
]


def number_of(index: int) -> str:
    """The demo number of the client at `index` of the demo's client list."""
    return NUMBER_BLOCK.format(index)


def populate_catalog(engine: Engine, caller: Caller, clients: list[Account], *, now: datetime) -> None:
    rooms = [
        offices.create_office(unit_of_work(engine), caller=caller, name=name, floor=floor, capacity=cap, now=now)
        for name, floor, cap in ROOMS
    ]
    free_rooms = iter(rooms)
    for index, client in enumerate(clients):
        _service(engine, caller, client, LineKind.PHONE_NUMBER, number_of(index), "12.00", now)
        if index % 3 == 0:
            _service(engine, caller, client, LineKind.PHONE_NUMBER, number_of(100 + index), "12.00", now)
        if client.client_type is ClientType.VIRTUAL:
            _service(engine, caller, client, LineKind.OTHER, "Mail handling", "15.00", now)
            continue
        room = next(free_rooms)
        offices.assign_office(
            unit_of_work(engine), caller=caller, account_id=client.id, office_id=room.id, expected_version=None, now=now
        )
        for kind, label, price in RESIDENTIAL_EXTRAS[: 1 + index % len(RESIDENTIAL_EXTRAS)]:
            _service(engine, caller, client, kind, label, price, now)


def _service(
    engine: Engine, caller: Caller, client: Account, kind: LineKind, label: str, price: str, now: datetime
) -> None:
    lines.add_service(
        unit_of_work(engine),
        numbers=phone_numbers(),
        caller=caller,
        account_id=client.id,
        kind=kind,
        label=label,
        monthly_price=price,
        start_date=client.start_date,
        now=now,
    )
