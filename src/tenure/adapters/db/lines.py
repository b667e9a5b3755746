"""Lines of clients: numbers, internet, Wi-Fi, local network, anything else billed monthly.

The API and the console call them "services" (`/accounts/{id}/services`, table `services`);
the code says "line" so that "services" only ever means the service layer.

A number is held by one client at a time through the partial unique index
`uq_services_number_held` (label WHERE kind = 'phone_number' AND end_date IS
NULL); the racing loser's insert fails and becomes `number-taken`. A network id
is held by one service of its kind the same way (`uq_services_network_id_held`,
`network-id-taken`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Row,
    bindparam,
    case,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from tenure.adapters.db.listing import decode_cursor, encode_cursor
from tenure.adapters.db.tables import services as S
from tenure.domain.catalog import Line, LineKind
from tenure.domain.errors import NetworkIdTaken, NotFound, NumberTaken


def number_held(number: str | BindParameter[str]) -> list[ColumnElement[bool]]:
    """The predicate of the partial unique index, written with literals so PostgreSQL can use the index.

    A bound parameter in place of 'phone_number' would hide from the planner that the
    query implies the index's WHERE clause, and a generic plan would not use it.
    """
    return [S.c.label == number, S.c.kind == literal_column("'phone_number'"), S.c.end_date.is_(None)]


class LineRepository:
    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def add(self, service: Line, *, now: datetime) -> None:
        statement = insert(S).values(
            id=service.id,
            account_id=service.account_id,
            kind=service.kind.value,
            label=service.label,
            monthly_price_cents=service.monthly_price_cents,
            start_date=service.start_date,
            end_date=service.end_date,
            network_id=service.network_id,
            created_at=now,
        )
        try:
            self.conn.execute(statement)
        except IntegrityError as error:
            if "network_id" in str(error.orig):
                raise _network_id_taken(service) from error
            raise NumberTaken(f"{service.label} is held by another client") from error

    def network_id_holder(self, kind: LineKind, network_id: str, *, other_than: str | None = None) -> str | None:
        """The service of `kind` that has not ended holding `network_id`, if any (the index still decides)."""
        query = select(S.c.id).where(S.c.network_id == network_id, S.c.kind == kind.value, S.c.end_date.is_(None))
        if other_than is not None:
            query = query.where(S.c.id != other_than)
        return self.conn.execute(query).scalar_one_or_none()

    def set_network_id(self, service: Line) -> None:
        statement = update(S).where(S.c.id == service.id).values(network_id=service.network_id)
        try:
            self.conn.execute(statement)
        except IntegrityError as error:
            raise _network_id_taken(service) from error

    def number_holder(self, number: str) -> str | None:
        """The account holding the number now, if any (a clear answer; the index still decides)."""
        return self.conn.execute(select(S.c.account_id).where(*number_held(number))).scalar_one_or_none()

    def get(self, service_id: str, *, account_id: str) -> Line:
        row = self.conn.execute(select(S).where(S.c.id == service_id, S.c.account_id == account_id)).first()
        if row is None:
            raise NotFound(f"service {service_id} not found")
        return _service(row)

    def page(
        self, account_id: str, *, include_ended: bool, limit: int, cursor: str | None
    ) -> tuple[list[Line], str | None]:
        """An account's services in the order they were added (ids are time-ordered)."""
        query = select(S).where(S.c.account_id == account_id)
        if not include_ended:
            query = query.where(S.c.end_date.is_(None))
        if cursor:
            (last_id,) = decode_cursor(cursor, 1)
            query = query.where(S.c.id > str(last_id))
        rows = list(self.conn.execute(query.order_by(S.c.id).limit(limit + 1)))
        next_cursor = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
        return [_service(r) for r in rows[:limit]], next_cursor

    def end(self, service: Line) -> None:
        self.conn.execute(update(S).where(S.c.id == service.id).values(end_date=service.end_date))


def _service(row: Row[Any]) -> Line:
    return Line(
        id=row.id,
        account_id=row.account_id,
        kind=LineKind(row.kind),
        label=row.label,
        monthly_price_cents=int(row.monthly_price_cents),
        start_date=row.start_date,
        end_date=row.end_date,
        network_id=row.network_id,
    )


def _network_id_taken(service: Line) -> NetworkIdTaken:
    return NetworkIdTaken(f"network id {service.network_id} is held by another {service.kind.label} service")


class LineEnding:
    """Ends every service of an account on a day (decommissioning)."""

    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def end_all(self, account_id: str, *, on: date) -> None:
        """End every open service on `on`; one not yet started ends on its start day, never before it."""
        self.conn.execute(END_ALL, {"b_accounts": [account_id], "b_on": on})


# `LineEnding.end_all` for a list of accounts (`b_accounts`), so a batch ends all of its accounts' at once.
_ON = bindparam("b_on", type_=S.c.end_date.type)
END_ALL = (
    update(S)
    .where(S.c.account_id.in_(bindparam("b_accounts", expanding=True)), S.c.end_date.is_(None))
    .values(end_date=case((S.c.start_date > _ON, S.c.start_date), else_=_ON))
)
